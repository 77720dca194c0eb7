// Builds the Fastify app around a model and its directory; never listens (server.ts does).
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { BatchQueue } from './batch/queue.ts';
import type { Config } from './config.ts';
import { createEngine } from './engine.ts';
import { registerAuth } from './http/auth.ts';
import { registerErrorHandling } from './http/errors.ts';
import { registerJsonBodyParser } from './http/json-body.ts';
import { swaggerOptions } from './http/openapi.ts';
import { registerTransport } from './http/transport.ts';
import docsRoutes from './http/routes/docs.ts';
import { serviceInfo } from './http/info.ts';
import { registerDrain, warmUp, type Lifecycle } from './http/lifecycle.ts';
import { registerRequestMetrics } from './http/request-metrics.ts';
import healthRoutes, { type HealthContext } from './http/routes/health.ts';
import localizationRoutes from './http/routes/localization.ts';
import openrlhfRoutes from './http/routes/openrlhf.ts';
import rankRoutes from './http/routes/rank.ts';
import scoreRoutes from './http/routes/score.ts';
import teiRoutes from './http/routes/tei.ts';
import vllmRoutes from './http/routes/vllm.ts';
import type { RouteContext } from './http/context.ts';
import type { Metrics } from './metrics.ts';
import type { ModelDir } from './model/model-dir.ts';
import type { RewardModel } from './model/reward-model.ts';

export interface AppOptions {
  config: Config;
  modelDir: ModelDir;
  model: RewardModel;
  /** The process's logger (server.ts), or Fastify's options for one (tests); none by default. */
  logger?: FastifyBaseLogger | boolean | { level: string };
}

export interface RewardApp {
  app: FastifyInstance;
  lifecycle: Lifecycle;
  queue: BatchQueue;
  metrics: Metrics;
  /** Resolves once the warm-up batch has been answered (or rejects with why it failed). */
  warmUp: Promise<void>;
  /** SIGTERM path: refuse new work, answer what was accepted, stop. */
  shutdown(): Promise<void>;
}

function isLogger(value: AppOptions['logger']): value is FastifyBaseLogger {
  return typeof value === 'object' && typeof (value as FastifyBaseLogger).child === 'function';
}

export async function buildApp(opts: AppOptions): Promise<RewardApp> {
  const { config, modelDir, model } = opts;
  const lifecycle: Lifecycle = { warmedUp: false, draining: false };
  const app = Fastify({
    ...(isLogger(opts.logger) ? { loggerInstance: opts.logger } : { logger: opts.logger ?? false }),
    bodyLimit: config.BODY_LIMIT,
    // Wrong types are errors, not silently coerced; unknown top-level fields are refused by the schemas.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    // A trainer sends thousands of requests a minute and probes /health every few seconds: one log
    // line per request at info would cost the event loop more than the routes. They go out at debug.
    logController: new LogController({ disableRequestLogging: true }),
    // /score/ is /score: a trailing slash is a common slip, not a different resource.
    routerOptions: { ignoreTrailingSlash: true },
  });
  const { metrics, queue, preparer, scorer, maxBatchTokens, maxBatchAttention } = await createEngine(config, modelDir, model, app.log);
  // After the server has closed, so no request is still being prepared.
  app.addHook('onClose', async () => preparer.close());
  registerErrorHandling(app, metrics);
  registerJsonBodyParser(app);
  registerTransport(app);
  registerAuth(app, config.API_KEY);
  registerDrain(app, lifecycle);
  registerRequestMetrics(app, metrics);

  const ctx: RouteContext = { config, scorer, metrics, modelName: modelDir.name, modelDir, preparer };
  const info = () => serviceInfo(config, modelDir, model.info.executionProvider, { maxBatchTokens, maxBatchAttention });
  // First: it records every route registered after it into the OpenAPI document.
  await app.register(swagger, swaggerOptions);
  await app.register(healthRoutes, { ...ctx, lifecycle, info } satisfies HealthContext);
  await app.register(scoreRoutes, ctx);
  await app.register(rankRoutes, ctx);
  await app.register(teiRoutes, ctx);
  await app.register(openrlhfRoutes, ctx);
  await app.register(vllmRoutes, ctx);
  await app.register(localizationRoutes, ctx);
  await app.register(docsRoutes);

  const warmedUp = warmUp(scorer, lifecycle, app.log);

  async function shutdown(): Promise<void> {
    lifecycle.draining = true;
    // Fastify stops accepting and waits for requests in flight, whose items are in the queue.
    await app.close();
    await queue.drain();
    await model.close();
  }

  return { app, lifecycle, queue, metrics, warmUp: warmedUp, shutdown };
}
