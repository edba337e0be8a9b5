import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import type { Logger, LevelWithSilent } from 'pino';

export type { Logger };

/**
 * pino loads only when a process configures logging (the daemon, the registry): importing lib costs a CLI
 * call nothing (pino's import is ~30 ms). Until then log() is a silent logger.
 */
const load = (): typeof import('pino') => createRequire(import.meta.url)('pino') as typeof import('pino');

function silent(): Logger {
  const noop = (): void => {};
  const l = {
    level: 'silent', fatal: noop, error: noop, warn: noop, info: noop, debug: noop, trace: noop, silent: noop,
    child: () => l, isLevelEnabled: () => false,
  };
  return l as unknown as Logger;
}

let root: Logger = process.env.BERTH_LOG_LEVEL ? load().pino({ level: process.env.BERTH_LOG_LEVEL }) : silent();
const scope = new AsyncLocalStorage<Logger>();

/** Configure the process-wide root logger (daemon and registry only; the CLI prints for people). */
export function initLogger(level: LevelWithSilent, destination: NodeJS.WritableStream = process.stderr): Logger {
  const { pino } = load();
  root = pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination as import('pino').DestinationStream);
  return root;
}

/** The logger for the current request/container scope, else the root. */
export function log(): Logger {
  return scope.getStore() ?? root;
}

/** Run fn with a child logger carrying `fields` (request id, container id…). */
export function withLogFields<T>(fields: Record<string, unknown>, fn: () => T): T {
  return scope.run(log().child(fields), fn);
}

export function setLogLevel(level: LevelWithSilent): void {
  root.level = level;
}
