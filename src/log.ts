// The one logger of a process: pino, as Fastify uses, created at start-up and handed to Fastify, the
// model and prep worker supervisors (which log for their threads) and the scoring CLI. One JSON line
// per message, `level` spelled out ("info", "warn") so that a line reads the same wherever it came from.
import { resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { DEFAULT_MODEL_DIR, type Config } from './config.ts';

export type { Logger };

/** What code that only reports needs of the logger (a test can pass a plain object). */
export interface LogSink {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** The process's logger at LOG_LEVEL, writing to stdout, or to stderr where stdout carries results (the CLI). */
export function createLogger(level: Config['LOG_LEVEL'], to: 'stdout' | 'stderr' = 'stdout'): Logger {
  return pino(
    { level, formatters: { level: (label) => ({ level: label }) } },
    pino.destination({ fd: to === 'stdout' ? 1 : 2, sync: true }),
  );
}

/** The demo model's weights are random: say so once, where its scores would otherwise be believed. */
export function warnIfDemoModel(config: Pick<Config, 'MODEL_DIR'>, log: Pick<LogSink, 'warn'>): void {
  if (resolve(config.MODEL_DIR) !== DEFAULT_MODEL_DIR) return;
  log.warn('MODEL_DIR is the demo model (random weights): its scores are random, good for trying the API only; see README "Serve a real model"');
}

/** HOST values that only this machine reaches. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(host);
}

/** Without API_KEY, anyone who reaches a non-loopback HOST can score, tokenize and read /info: say so once. */
export function warnIfOpen(config: Pick<Config, 'API_KEY' | 'HOST'>, log: Pick<LogSink, 'warn'>): void {
  if (config.API_KEY !== '' || isLoopback(config.HOST)) return;
  log.warn(`API_KEY is unset and HOST=${config.HOST} is reachable from other machines: anyone who reaches it can use every route; set API_KEY (see docs/operations.md, Security)`);
}
