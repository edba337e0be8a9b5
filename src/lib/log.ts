import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

let root: Logger = pino({ level: process.env.BERTH_LOG_LEVEL ?? 'silent' });
const scope = new AsyncLocalStorage<Logger>();

/** Configure the process-wide root logger (daemon and registry only; the CLI prints for people). */
export function initLogger(level: LevelWithSilent, destination: NodeJS.WritableStream = process.stderr): Logger {
  root = pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination as pino.DestinationStream);
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
