# code-reward-service on a CUDA 12 GPU. The model is mounted at /models (see README: "Serve a real model").
# Two stages on the same base, so that native addons built in the first run in the second: the build
# stage installs every dependency (TypeScript, tsx) to compile src/ into dist/; the image keeps only
# the runtime dependencies.
FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04 AS node

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg \
 && curl -fsSL https://deb.nodesource.com/setup_20.x | bash - \
 && apt-get install -y --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/*

FROM node AS build
WORKDIR /app
COPY package.json package-lock.json ./
# package.json's allowScripts keeps npm from running onnxruntime-node's download of its CUDA provider
# (npm 11.19+; the variable does the same on older npm); the image then installs the CUDA 12 one.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci \
 && ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js
COPY . .
# Plain JavaScript in dist/: no TypeScript loader in the serving process (less memory, faster start).
RUN npm run build && npm prune --omit=dev

FROM node
WORKDIR /app
# dist/ and the pruned node_modules, with the /docs page and package.json that dist/ reads.
COPY --from=build /app /app

ENV HOST=0.0.0.0 \
    PORT=8080 \
    MODEL_DIR=/models \
    EXECUTION_PROVIDER=cuda \
    NODE_ENV=production
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s \
  CMD curl -fsS http://127.0.0.1:8080/ready || exit 1
# exec form: SIGTERM reaches node, which drains before exiting.
CMD ["node", "dist/server.js"]
