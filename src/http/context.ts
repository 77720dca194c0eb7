// What route plugins share: configuration, the scorer, and small per-request helpers.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { TextTooLongError, TooManyItemsError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import type { ModelDir } from '../model/model-dir.ts';
import type { Preparer } from '../prep/prepare.ts';
import type { Scorer, Timing } from '../scorer.ts';

export interface RouteContext {
  config: Config;
  scorer: Scorer;
  metrics: Metrics;
  modelName: string;
  /** The model directory as loaded at start-up (template, special tokens, labels). */
  modelDir: ModelDir;
  /** Template and tokenizer of the service (on the prep threads), for routes that read the template. */
  preparer: Preparer;
}

/** Aborted when the client's connection closes before the answer is written. */
export function clientSignal(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** A request's items within MAX_CLIENT_BATCH, or a 422 naming the field they came in. */
export function checkClientBatch(config: Pick<Config, 'MAX_CLIENT_BATCH'>, field: string, count: number): void {
  if (count > config.MAX_CLIENT_BATCH) throw new TooManyItemsError(field, count, config.MAX_CLIENT_BATCH);
}

export function setTimingHeaders(reply: FastifyReply, t: Timing): void {
  reply.header('x-admission-time', t.admissionMs.toFixed(1));
  reply.header('x-tokenization-time', t.tokenizationMs.toFixed(1));
  reply.header('x-queue-time', t.queueMs.toFixed(1));
  reply.header('x-inference-time', t.inferenceMs.toFixed(1));
}

/** A field within MAX_TEXT_CHARS (characters of a text, or ids of a token list), or a 413 naming it. */
export function checkTextLength<T extends string | readonly number[]>(config: Pick<Config, 'MAX_TEXT_CHARS'>, field: string, value: T): T {
  if (value.length > config.MAX_TEXT_CHARS) throw new TextTooLongError(field, value.length, config.MAX_TEXT_CHARS, typeof value === 'string' ? 'characters' : 'token ids');
  return value;
}

/** Each text of a list field within MAX_TEXT_CHARS, or a 413 naming the first long one. */
export function checkTexts(config: Pick<Config, 'MAX_TEXT_CHARS'>, field: string, texts: string | readonly string[]): void {
  if (typeof texts === 'string') checkTextLength(config, field, texts);
  else texts.forEach((t, i) => checkTextLength(config, `${field}/${i}`, t));
}
