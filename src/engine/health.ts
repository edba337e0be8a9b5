/**
 * HEALTHCHECK (cf. moby daemon/health.go): while a container runs, a probe runs inside it every interval;
 * exit 0 makes it healthy, other results count towards `retries` failures in a row (not during the start
 * period while it has never been healthy), which make it unhealthy. The last 5 results are kept.
 */
import type { HealthLogEntry, HealthState } from './model.ts';

export interface HealthConfig { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number }

export interface ProbeResult { exitCode: number; output: string; start: Date; end: Date }

/** Run `args` in the container; resolve with its exit code and (combined) output once it ends or times out. */
export type Prober = (args: string[], timeoutMs: number) => Promise<ProbeResult>;

const NS_PER_MS = 1_000_000;
const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 3;
const MAX_LOG_ENTRIES = 5;
const MAX_OUTPUT = 4096;

/** The probe's argv, or undefined when there is none (`NONE`, empty). */
export function probeArgs(test: string[] | undefined, shell: string[] | undefined): string[] | undefined {
  if (!test || test.length === 0) return undefined;
  switch (test[0]) {
    case 'CMD': return test.length > 1 ? test.slice(1) : undefined;
    case 'CMD-SHELL': return [...(shell?.length ? shell : ['/bin/sh', '-c']), test.slice(1).join(' ')];
    default: return undefined; // NONE
  }
}

/** Go's time.Duration String for the timeout message: `30s`, `1.5s`, `500ms`. */
export function goDuration(ms: number): string {
  if (ms >= 1000) return `${+(ms / 1000).toFixed(9)}s`;
  return `${ms}ms`;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export class HealthMonitor {
  readonly #state: HealthState;
  readonly #cfg: HealthConfig;
  readonly #args: string[];
  readonly #probe: Prober;
  readonly #startedAt: number;
  readonly #onChange: (status: HealthState['Status']) => void;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  /** `state` is the container's State.Health, updated in place. */
  constructor(state: HealthState, cfg: HealthConfig, args: string[], startedAt: number, probe: Prober, onChange: (status: HealthState['Status']) => void) {
    this.#state = state;
    this.#cfg = cfg;
    this.#args = args;
    this.#probe = probe;
    this.#startedAt = startedAt;
    this.#onChange = onChange;
  }

  start(): void {
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #ms(ns: number | undefined, def: number): number {
    return ns && ns > 0 ? ns / NS_PER_MS : def;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#run(), this.#ms(this.#cfg.Interval, DEFAULT_INTERVAL_MS));
    this.#timer.unref();
  }

  async #run(): Promise<void> {
    if (this.#stopped) return;
    const timeoutMs = this.#ms(this.#cfg.Timeout, DEFAULT_TIMEOUT_MS);
    let r: ProbeResult;
    try {
      r = await this.#probe(this.#args, timeoutMs);
    } catch (e) {
      const now = new Date();
      r = { exitCode: -1, output: e instanceof Error ? e.message : String(e), start: now, end: now };
    }
    if (this.#stopped) return;
    this.record(r);
    this.#schedule();
  }

  /** Apply one probe result (moby handleProbeResult). */
  record(r: ProbeResult): void {
    const h = this.#state;
    const before = h.Status;
    const entry: HealthLogEntry = { Start: rfc3339(r.start), End: rfc3339(r.end), ExitCode: r.exitCode, Output: r.output.slice(0, MAX_OUTPUT) };
    h.Log = [...h.Log, entry].slice(-MAX_LOG_ENTRIES);
    if (r.exitCode === 0) {
      h.FailingStreak = 0;
      h.Status = 'healthy';
    } else {
      const inStartPeriod = h.Status === 'starting' && r.start.getTime() - this.#startedAt < this.#ms(this.#cfg.StartPeriod, 0);
      if (!inStartPeriod) {
        h.FailingStreak++;
        if (h.FailingStreak >= (this.#cfg.Retries && this.#cfg.Retries > 0 ? this.#cfg.Retries : DEFAULT_RETRIES)) h.Status = 'unhealthy';
      }
    }
    if (h.Status !== before) this.#onChange(h.Status);
  }
}

export { DEFAULT_TIMEOUT_MS };
