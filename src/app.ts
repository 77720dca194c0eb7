// Builds the Fastify app around a model and its directory; never listens (server.ts does).
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { BatchQueue } from './batch/queue.ts';
import type { Config } from './config.ts';
import { createEngine } from './engine.ts';
import { registerAuth } from './http/auth.ts';
import { clientErrorHandler, registerErrorHandling, sendError, type ErrorContext } from './http/errors.ts';
import { registerJsonBodyParser } from './http/json-body.ts';
import { swaggerOptions } from './http/openapi.ts';
import { registerOriginCheck } from './http/origin.ts';
import { registerTransport } from './http/transport.ts';
import docsRoutes from './http/routes/docs.ts';
import { serviceInfo } from './http/info.ts';
import { addCommonResponses } from './http/schemas.ts';
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
  const errors: ErrorContext = { bodyLimit: config.BODY_LIMIT, requestTimeoutMs: config.REQUEST_TIMEOUT_MS };
  // The engine's metrics, once built: errors raised before any request (a timed-out upload) count too.
  let engineMetrics: Metrics | undefined;
  const app = Fastify({
    ...(isLogger(opts.logger) ? { loggerInstance: opts.logger } : { logger: opts.logger ?? false }),
    bodyLimit: config.BODY_LIMIT,
    // A stalled or trickled upload is answered 408 and closed (what it sent is freed), and a silent
    // connection is closed; Fastify's defaults are no limit at all.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    connectionTimeout: config.CONNECTION_TIMEOUT_MS,
    // Node looks for requests past their timeout every 30 s by default (once a second keeps the limit
    // close), and ignores a request timeout shorter than its headers timeout (60 s by default).
    http: {
      connectionsCheckingInterval: Math.min(1000, Math.max(100, config.REQUEST_TIMEOUT_MS / 4)),
      headersTimeout: config.REQUEST_TIMEOUT_MS > 0 ? Math.min(config.REQUEST_TIMEOUT_MS, 60_000) : 60_000,
    },
    clientErrorHandler: clientErrorHandler(errors, () => engineMetrics),
    // A URL that does not decode (GET /%) goes through the one error handler like any other error.
    frameworkErrors: (err, _request, reply) => sendError(reply, engineMetrics, err, errors),
    // Wrong types are errors, not silently coerced; unknown top-level fields are refused by the schemas.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // Requests that arrive while closing are refused by the drain hook, in the error shape.
    return503OnClosing: false,
    // A trainer sends thousands of requests a minute and probes /health every few seconds: one log
    // line per request at info would cost the event loop more than the routes. They go out at debug.
    logController: new LogController({ disableRequestLogging: true }),
    // /score/ is /score: a trailing slash is a common slip, not a different resource.
    routerOptions: { ignoreTrailingSlash: true },
  });
  const { metrics, queue, preparer, scorer, maxBatchTokens, maxBatchAttention, maxPaddingShare, prefixMinTokens } = await createEngine(config, modelDir, model, app.log);
  engineMetrics = metrics;
  // After the server has closed, so no request is still being prepared.
  app.addHook('onClose', async () => preparer.close());
  registerErrorHandling(app, metrics, errors);
  registerJsonBodyParser(app);
  registerTransport(app);
  // Before auth: a browser's preflight carries no key.
  registerOriginCheck(app, config.CORS_ORIGINS);
  registerAuth(app, config.API_KEY);
  registerDrain(app, lifecycle, config.RETRY_AFTER_S);
  registerRequestMetrics(app, metrics);

  const ctx: RouteContext = { config, scorer, metrics, modelName: modelDir.name, modelDir, preparer };
  const info = () => serviceInfo(config, modelDir, model.info.executionProvider, { maxBatchTokens, maxBatchAttention, maxPaddingShare });
  // Before the document records the routes: the answers every route can give join each schema.
  app.addHook('onRoute', addCommonResponses);
  // First: it records every route registered after it into the OpenAPI document.
  await app.register(swagger, swaggerOptions);
  const workers: HealthContext['workers'] = [];
  // Read at each probe: the getters report the threads' state then.
  if (model.health) workers.push({ name: 'model worker', get health() { return model.health!; } });
  if (preparer.health) workers.push({ name: 'prep threads', get health() { return preparer.health!; } });
  await app.register(healthRoutes, { ...ctx, lifecycle, info, workers } satisfies HealthContext);
  await app.register(scoreRoutes, ctx);
  await app.register(rankRoutes, ctx);
  await app.register(teiRoutes, ctx);
  await app.register(openrlhfRoutes, ctx);
  await app.register(vllmRoutes, ctx);
  await app.register(localizationRoutes, ctx);
  await app.register(docsRoutes);

  const warmedUp = warmUp(scorer, lifecycle, app.log, prefixMinTokens);

  async function shutdown(): Promise<void> {
    lifecycle.draining = true;
    // Fastify stops accepting and waits for requests in flight, whose items are in the queue.
    await app.close();
    await queue.drain();
    await model.close();
  }

  return { app, lifecycle, queue, metrics, warmUp: warmedUp, shutdown };
}
