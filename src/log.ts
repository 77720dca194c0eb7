// The start-up log of the service and the scoring CLI, before (or without) Fastify's logger: one
// JSON line per message, at LOG_LEVEL and above.
import { resolve } from 'node:path';
import { DEFAULT_MODEL_DIR, type Config } from './config.ts';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

export interface StartupLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function startupLog(level: Config['LOG_LEVEL'], out: (line: string) => void = console.log, err: (line: string) => void = console.error): StartupLog {
  const min = level === 'silent' ? Infinity : LEVELS.indexOf(level);
  const at = (name: (typeof LEVELS)[number], write: (line: string) => void) => (msg: string) => {
    if (LEVELS.indexOf(name) >= min) write(JSON.stringify({ level: name, msg }));
  };
  return { info: at('info', out), warn: at('warn', err), error: at('error', err) };
}

/** The demo model's weights are random: say so once, where its scores would otherwise be believed. */
export function warnIfDemoModel(config: Pick<Config, 'MODEL_DIR'>, log: StartupLog): void {
  if (resolve(config.MODEL_DIR) !== DEFAULT_MODEL_DIR) return;
  log.warn('MODEL_DIR is the demo model (random weights): its scores are random, good for trying the API only; see README "Serve a real model"');
}
