# code-reward-service on a CUDA GPU. The model is mounted at /models (see README: "Serve a real model").
# Two stages on the same base, so that native addons built in the first run in the second: the build
# stage installs every dependency (TypeScript, tsx) to compile src/ into dist/; the image keeps only
# the runtime dependencies.
#
# The base image's CUDA major is the one onnxruntime-node 1.30's CUDA provider is fetched for: its
# install script knows one Linux manifest, "cuda12" (Microsoft.ML.OnnxRuntime.Gpu.Linux from NuGet),
# and accepts only CUDA 12 from nvcc. cuDNN 9 is what ONNX Runtime's CUDA 12 builds link. The
# build checks that claim: `npm run setup:cuda` reads the libcudart major the provider actually
# links and fails the build, naming each library, when this image lacks one; if it reports CUDA 13,
# build with --build-arg CUDA_IMAGE=nvidia/cuda:13.<minor>-cudnn-runtime-ubuntu24.04.
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04
FROM ${CUDA_IMAGE} AS node
# binutils: readelf, with which setup:cuda and a failed CUDA start read what the provider links.

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg binutils \
 && curl -fsSL https://deb.nodesource.com/setup_20.x | bash - \
 && apt-get install -y --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/*

FROM node AS build
WORKDIR /app
COPY package.json package-lock.json ./
# package.json's allowScripts keeps npm from running onnxruntime-node's download of its CUDA provider
# (npm 11.19+; the variable does the same on older npm); setup:cuda runs that script below.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci
COPY . .
# setup:cuda installs the provider and fails the build when the CUDA runtime, cuBLAS or cuDNN it
# links is missing (the driver's libcuda.so.1 comes from the container runtime at run time).
# Plain JavaScript in dist/: no TypeScript loader in the serving process (less memory, faster start).
RUN npm run setup:cuda && npm run build && npm prune --omit=dev

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
