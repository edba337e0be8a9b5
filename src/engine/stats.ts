/**
 * `GET /containers/{id}/stats` and `POST /containers/{id}/update` (cf. moby daemon/stats.go, stats/collector.go,
 * daemon_unix.go statsV1/statsV2, update.go). Samples come from the container's cgroup files and its netns' counters.
 */
import { totalmem } from 'node:os';
import { log, SystemError, InvalidArgumentError, ConflictError, EngineError } from '../lib/index.ts';
import {
  containerCgroupDirs, readCgroupStats, readNetStats, readSystemCpu, updateCgroupResources, cgroupSupport,
  type CgroupStats, type CgroupSupport, type NetStats, type BlkioEntry,
} from '../runtime/index.ts';
import type { Container, HostConfig } from './model.ts';
import { nowNanos, rfc3339Nano } from './time.ts';
import { verifyResources, mergeUpdate, updateResources, FULL_SUPPORT, type UpdateRequest } from './resources.ts';
import { ZERO_TIME } from './model.ts';

/** What the stats and update code needs from the engine (its store stays private to it). */
export interface StatsHost {
  /** NotFoundError `No such container: <ref>`. */
  resolve(ref: string): Container;
  /** Still in the store (not removed meanwhile). */
  exists(id: string): boolean;
  cgroupsPath(c: Container): string;
  ncpu: number;
  /** Run fn under the container's lock. */
  locked<T>(c: Container, fn: () => Promise<T>): Promise<T>;
  /** Write config.v2.json and hostconfig.json atomically. */
  persist(c: Container): Promise<void>;
  event(c: Container, action: string): void;
}

interface CpuSample { cpu: CgroupStats['cpu']; systemUsage: number; onlineCpus: number }
interface Sample { read: string; at: number; stats: CgroupStats; system: { systemUsage: number; onlineCpus: number }; networks?: Record<string, NetStats> }

/** The JSON dockerd writes, key order kept (types.StatsJSON). */
export type StatsJSON = Record<string, unknown>;

const EMPTY_BLKIO = {
  io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null,
  io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
};

function cpuJson(s: CpuSample | undefined): Record<string, unknown> {
  if (!s) {
    return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
  }
  const usage: Record<string, unknown> = { total_usage: s.cpu.total };
  if (s.cpu.percpu?.length) usage.percpu_usage = s.cpu.percpu;
  usage.usage_in_kernelmode = s.cpu.system;
  usage.usage_in_usermode = s.cpu.user;
  const out: Record<string, unknown> = { cpu_usage: usage };
  if (s.systemUsage) out.system_cpu_usage = s.systemUsage;
  if (s.onlineCpus) out.online_cpus = s.onlineCpus;
  out.throttling_data = { periods: s.cpu.periods, throttled_periods: s.cpu.throttledPeriods, throttled_time: s.cpu.throttledTime };
  return out;
}

const entries = (l: BlkioEntry[]) => l.map((e) => ({ major: e.major, minor: e.minor, op: e.op, value: e.value }));

/** One stats object: cur is the sample, pre the one before it (precpu_stats); neither for a container that does not run. */
export function statsJson(c: Container, cur: Sample | undefined, pre: Sample | undefined, v2: boolean, machineMemory = totalmem()): StatsJSON {
  const base = { read: cur?.read ?? ZERO_TIME, preread: pre?.read ?? ZERO_TIME };
  if (!cur) {
    return {
      ...base, pids_stats: {}, blkio_stats: EMPTY_BLKIO, num_procs: 0, storage_stats: {}, cpu_stats: cpuJson(undefined),
      precpu_stats: cpuJson(undefined), memory_stats: {}, name: c.Name, id: c.ID,
    };
  }
  const s = cur.stats;
  const pids: Record<string, number> = { current: s.pids.current };
  if (s.pids.limit > 0) pids.limit = s.pids.limit;
  const blkio = v2
    ? { ...EMPTY_BLKIO, io_service_bytes_recursive: s.blkio.serviceBytes.length ? entries(s.blkio.serviceBytes) : null }
    : {
      io_service_bytes_recursive: entries(s.blkio.serviceBytes), io_serviced_recursive: entries(s.blkio.serviced), io_queue_recursive: [],
      io_service_time_recursive: [], io_wait_time_recursive: [], io_merged_recursive: [], io_time_recursive: [], sectors_recursive: [],
    };
  const mem: Record<string, unknown> = { usage: s.memory.usage };
  if (s.memory.maxUsage) mem.max_usage = s.memory.maxUsage;
  mem.stats = Object.fromEntries(Object.entries(s.memory.stats).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  mem.limit = s.memory.limit > 0 && s.memory.limit <= machineMemory ? s.memory.limit : machineMemory;
  const out: StatsJSON = {
    ...base, pids_stats: pids, blkio_stats: blkio, num_procs: 0, storage_stats: {},
    cpu_stats: cpuJson({ cpu: s.cpu, ...cur.system }), precpu_stats: cpuJson(pre ? { cpu: pre.stats.cpu, ...pre.system } : undefined),
    memory_stats: mem, name: c.Name, id: c.ID,
  };
  if (cur.networks && Object.keys(cur.networks).length) out.networks = cur.networks;
  return out;
}

function running(c: Container): boolean {
  return c.State.Running && !c.State.Restarting && c.State.Pid > 0;
}

/** The newest sample of each container, so that a `stats --no-stream` soon after another need not wait a second. */
const previous = new Map<string, Sample>();

async function takeSample(h: StatsHost, c: Container): Promise<{ sample: Sample; prior?: Sample; v2: boolean } | undefined> {
  if (!running(c)) return undefined;
  const pid = c.State.Pid;
  const dirs = await containerCgroupDirs(h.cgroupsPath(c), pid);
  const [system, stats, networks] = await Promise.all([
    readSystemCpu(), readCgroupStats(dirs), c.HostConfig.NetworkMode === 'host' ? Promise.resolve(undefined) : readNetStats(pid),
  ]);
  if (!running(c)) return undefined;
  const sample: Sample = { read: rfc3339Nano(nowNanos()), at: performance.now(), stats, system };
  if (networks) sample.networks = networks;
  const prior = previous.get(c.ID);
  for (const id of previous.keys()) if (!h.exists(id)) previous.delete(id);
  previous.set(c.ID, sample);
  return prior ? { sample, prior, v2: dirs.version === 2 } : { sample, v2: dirs.version === 2 };
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  if (signal.aborted) return resolve();
  const t = setTimeout(done, ms);
  function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
  signal.addEventListener('abort', done, { once: true });
});

/** Docker's collector interval. */
export const INTERVAL_MS = 1000;
/** A cached sample at least this old serves as precpu for a no-stream request. */
const MIN_WINDOW_MS = 250;

/**
 * The stats of a container: stream = one object per second until signal aborts (or the container is removed);
 * otherwise one object, with precpu_stats from a sample about a second earlier unless oneShot.
 * Resolves the container first (NotFoundError before any output).
 */
export function containerStats(h: StatsHost, ref: string, opts: { stream: boolean; oneShot: boolean }, signal: AbortSignal): AsyncIterable<StatsJSON> {
  const c = h.resolve(ref);
  return (async function* gen(): AsyncGenerator<StatsJSON> {
    if (!opts.stream) {
      const first = await takeSample(h, c).catch(logged(c));
      if (!first) { yield statsJson(c, undefined, undefined, false); return; }
      if (opts.oneShot) { yield statsJson(c, first.sample, undefined, first.v2); return; }
      const age = first.prior ? first.sample.at - first.prior.at : -1;
      if (age >= MIN_WINDOW_MS && age <= 2 * INTERVAL_MS) { yield statsJson(c, first.sample, first.prior, first.v2); return; }
      await sleep(INTERVAL_MS, signal);
      const second = await takeSample(h, c).catch(logged(c));
      yield second ? statsJson(c, second.sample, first.sample, second.v2) : statsJson(c, undefined, undefined, false);
      return;
    }
    let pre: Sample | undefined;
    while (!signal.aborted && h.exists(c.ID)) {
      const cur = await takeSample(h, c).catch(logged(c));
      if (signal.aborted) return;
      yield cur ? statsJson(c, cur.sample, pre, cur.v2) : statsJson(c, undefined, undefined, false);
      pre = cur?.sample;
      await sleep(INTERVAL_MS, signal);
    }
  })();
}

function logged(c: Container) {
  return (err: unknown): undefined => {
    log().debug({ err, id: c.ID }, 'stats sample failed');
    return undefined;
  };
}

/** dockerd's validateRestartPolicy (the texts create uses too). */
function validateRestartPolicy(rp: { Name?: string; MaximumRetryCount?: number }): void {
  const name = rp.Name ?? '';
  if (!['', 'no', 'always', 'unless-stopped', 'on-failure'].includes(name)) throw new InvalidArgumentError(`invalid restart policy '${name}'`);
  const n = rp.MaximumRetryCount ?? 0;
  if (n < 0) throw new InvalidArgumentError('maximum retry count cannot be negative');
  if (n !== 0 && name !== 'on-failure') throw new InvalidArgumentError(`maximum retry count cannot be used with restart policy '${name}'`);
}

let support: Promise<CgroupSupport> | undefined;
/** The host's cgroup capabilities (read once). */
export function hostSupport(): Promise<CgroupSupport> {
  support ??= cgroupSupport().catch((err: unknown) => {
    log().warn({ err }, 'cannot read the cgroup layout; assuming every limit can be enforced');
    return FULL_SUPPORT;
  });
  return support;
}

/**
 * docker update: validate the request as dockerd does, merge it into the HostConfig, change the running container's
 * cgroups, then store the new HostConfig. On any failure the container and its stored config stay as they were.
 */
export async function updateContainer(h: StatsHost, ref: string, body: UpdateRequest): Promise<{ warnings: string[] }> {
  const c = h.resolve(ref);
  const req: UpdateRequest = { ...body };
  if (req.RestartPolicy) validateRestartPolicy(req.RestartPolicy);
  const warnings = verifyResources(req, await hostSupport(), h.ncpu, true);
  return h.locked(c, async () => {
    if (c.State.RemovalInProgress || c.State.Dead) {
      throw new SystemError(`Cannot update container ${c.ID}: container is marked for removal and cannot be "update"`);
    }
    let merged: HostConfig;
    try {
      merged = mergeUpdate(c.HostConfig, req);
    } catch (err) {
      throw new ConflictError(`Cannot update container ${c.ID}: ${(err as Error).message}`);
    }
    if (running(c)) {
      try {
        const dirs = await containerCgroupDirs(h.cgroupsPath(c), c.State.Pid);
        await updateCgroupResources(dirs, updateResources(req));
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        if (err instanceof EngineError && !(err instanceof SystemError)) throw err;
        // dockerd's wording around what runc update printed
        throw new SystemError(`Cannot update container ${c.ID}: runc did not terminate successfully: exit status 1: ${msg}\n: unknown`);
      }
    }
    const before = c.HostConfig;
    c.HostConfig = merged;
    try {
      await h.persist(c);
    } catch (err) {
      c.HostConfig = before;
      throw err;
    }
    h.event(c, 'update');
    return { warnings };
  });
}
