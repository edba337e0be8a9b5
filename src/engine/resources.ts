/**
 * Resource limits: dockerd 20.10's checks (verifyPlatformContainerResources, same order and texts), its warnings for
 * limits this kernel cannot enforce (the limit is then dropped), HostConfig → the runtime's resource options, and
 * `update`'s merge into a container's HostConfig (container.UpdateContainer).
 */
import { InvalidArgumentError } from '../lib/index.ts';
import type { CgroupSupport, CgroupResources, SpecOptions } from '../runtime/index.ts';
import type { HostConfig } from './model.ts';
const MIN_MEMORY = 6 * 1024 * 1024;

/** For tests and hosts whose cgroups cannot be read: everything enforceable. */
export const FULL_SUPPORT: CgroupSupport = {
  memoryLimit: true, swapLimit: true, memoryReservation: true, oomKillDisable: true, memorySwappiness: true, pidsLimit: true, cpuShares: true,
  cpuCfs: true, cpuset: true, cpus: '', mems: '', blkioWeight: true, blkioWeightDevice: true, blkioReadBps: true, blkioWriteBps: true,
  blkioReadIOps: true, blkioWriteIOps: true,
};

/** `0-2,4` → [0,1,2,4]; undefined when malformed (Docker's parsers.ParseUintList). */
export function parseUintList(v: string): number[] | undefined {
  if (v === '') return [];
  const out: number[] = [];
  for (const part of v.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (b < a) return undefined;
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

function available(requested: string, offered: string, what: string): void {
  const req = parseUintList(requested);
  if (!req) throw new InvalidArgumentError(`Invalid value ${requested} for cpuset ${what}: invalid format: ${requested}`);
  if (offered === '') return;
  const have = new Set(parseUintList(offered) ?? []);
  if (req.some((n) => !have.has(n))) {
    throw new InvalidArgumentError(`Requested ${what === 'cpus' ? 'CPUs' : 'memory nodes'} are not available - requested ${requested}, available: ${offered}`);
  }
}

/**
 * Validate (InvalidArgumentError with Docker's text) and adjust the resource fields of hc in place; returns the
 * warnings. update: the checks `docker update` gets (the request alone, a swap without memory allowed).
 */
export function verifyResources(hc: Partial<HostConfig>, sys: CgroupSupport, ncpu: number, update: boolean): string[] {
  const w: string[] = [];
  const n = (k: keyof HostConfig): number => (typeof hc[k] === 'number' ? (hc[k] as number) : 0);
  if (hc.MemorySwappiness !== undefined && hc.MemorySwappiness !== null && hc.MemorySwappiness === -1) hc.MemorySwappiness = null;

  if (n('Memory') !== 0 && n('Memory') < MIN_MEMORY) throw new InvalidArgumentError('Minimum memory limit allowed is 6MB');
  if (n('Memory') > 0 && !sys.memoryLimit) {
    w.push('Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.');
    hc.Memory = 0;
    hc.MemorySwap = -1;
  }
  if (n('Memory') > 0 && hc.MemorySwap !== -1 && !sys.swapLimit) {
    w.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    hc.MemorySwap = -1;
  }
  if (n('Memory') > 0 && n('MemorySwap') > 0 && n('MemorySwap') < n('Memory')) {
    throw new InvalidArgumentError('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (n('Memory') === 0 && n('MemorySwap') > 0 && !update) {
    throw new InvalidArgumentError('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (hc.MemorySwappiness !== undefined && hc.MemorySwappiness !== null && !sys.memorySwappiness) {
    w.push('Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.');
    hc.MemorySwappiness = null;
  }
  if (hc.MemorySwappiness !== undefined && hc.MemorySwappiness !== null && (hc.MemorySwappiness < 0 || hc.MemorySwappiness > 100)) {
    throw new InvalidArgumentError(`Invalid value: ${hc.MemorySwappiness}, valid memory swappiness range is 0-100`);
  }
  if (n('MemoryReservation') > 0 && !sys.memoryReservation) {
    w.push('Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.');
    hc.MemoryReservation = 0;
  }
  if (n('MemoryReservation') > 0 && n('MemoryReservation') < MIN_MEMORY) throw new InvalidArgumentError('Minimum memory reservation allowed is 6MB');
  if (n('Memory') > 0 && n('MemoryReservation') > 0 && n('Memory') < n('MemoryReservation')) {
    throw new InvalidArgumentError('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (n('KernelMemory') > 0) {
    w.push('Specifying a kernel memory limit is deprecated and will be removed in a future release.');
    if (n('KernelMemory') < 4 * 1024 * 1024) throw new InvalidArgumentError('Minimum kernel memory limit allowed is 4MB');
  }
  if (hc.OomKillDisable && !sys.oomKillDisable) {
    w.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
    hc.OomKillDisable = false;
  }
  if (hc.OomKillDisable && n('Memory') === 0) {
    w.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }
  if (hc.PidsLimit !== undefined && hc.PidsLimit !== null && !sys.pidsLimit) {
    if (hc.PidsLimit > 0) w.push('Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.');
    hc.PidsLimit = null;
  }

  if (n('NanoCpus') > 0 && n('CpuPeriod') > 0) throw new InvalidArgumentError('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (n('NanoCpus') > 0 && n('CpuQuota') > 0) throw new InvalidArgumentError('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (n('NanoCpus') > 0 && !sys.cpuCfs) throw new InvalidArgumentError('NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted');
  if (n('NanoCpus') < 0 || n('NanoCpus') > ncpu * 1e9) {
    throw new InvalidArgumentError(`Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  }
  if (n('CpuShares') < 0) throw new InvalidArgumentError(`invalid CPU shares (${n('CpuShares')}): value must be a positive integer`);
  if (n('CpuShares') > 0 && !sys.cpuShares) {
    w.push('Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.');
    hc.CpuShares = 0;
  }
  if ((n('CpuPeriod') !== 0 || n('CpuQuota') !== 0) && !sys.cpuCfs) {
    w.push('Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.');
    hc.CpuPeriod = 0;
    hc.CpuQuota = 0;
  }
  if (n('CpuPeriod') !== 0 && (n('CpuPeriod') < 1000 || n('CpuPeriod') > 1000000)) {
    throw new InvalidArgumentError('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if (n('CpuQuota') > 0 && n('CpuQuota') < 1000) throw new InvalidArgumentError('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (n('CpuPercent') > 0) {
    w.push('linux does not support CPU percent. Percent discarded.');
    hc.CpuPercent = 0;
  }

  if ((hc.CpusetCpus || hc.CpusetMems) && !sys.cpuset) {
    w.push('Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
    hc.CpusetCpus = '';
    hc.CpusetMems = '';
  }
  if (hc.CpusetCpus) available(hc.CpusetCpus, sys.cpus, 'cpus');
  if (hc.CpusetMems) available(hc.CpusetMems, sys.mems, 'mems');

  if (n('BlkioWeight') > 0 && !sys.blkioWeight) {
    w.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
    hc.BlkioWeight = 0;
  }
  if (n('BlkioWeight') > 0 && (n('BlkioWeight') < 10 || n('BlkioWeight') > 1000)) throw new InvalidArgumentError('Range of blkio weight is from 10 to 1000');
  if (n('IOMaximumBandwidth') !== 0 || n('IOMaximumIOps') !== 0) {
    throw new InvalidArgumentError('Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps');
  }
  if (hc.BlkioWeightDevice?.length && !sys.blkioWeightDevice) {
    w.push('Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.');
    hc.BlkioWeightDevice = [];
  }
  const throttles = [
    ['BlkioDeviceReadBps', sys.blkioReadBps, 'Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.'],
    ['BlkioDeviceWriteBps', sys.blkioWriteBps, 'Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.'],
    ['BlkioDeviceReadIOps', sys.blkioReadIOps, 'Your kernel does not support IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.'],
    ['BlkioDeviceWriteIOps', sys.blkioWriteIOps, 'Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.'],
  ] as const;
  for (const [k, ok, text] of throttles) {
    if (hc[k]?.length && !ok) { w.push(text); hc[k] = []; }
  }
  return w;
}

/** HostConfig → the runtime's resource options (moby's getMemoryResources/getCPUResources/getPidsLimit/blkio). */
export function specResources(hc: HostConfig): SpecOptions['resources'] {
  const r: SpecOptions['resources'] = {};
  if (hc.Memory > 0) r.memory = hc.Memory;
  if (hc.MemoryReservation > 0) r.memoryReservation = hc.MemoryReservation;
  if (hc.MemorySwap > 0) r.memorySwap = hc.MemorySwap;
  if (hc.MemorySwappiness !== null && hc.MemorySwappiness !== undefined && hc.MemorySwappiness >= 0) r.memorySwappiness = hc.MemorySwappiness;
  r.oomKillDisable = hc.OomKillDisable === true;
  if (hc.CpuShares > 0) r.cpuShares = hc.CpuShares;
  if (hc.NanoCpus > 0) { r.cpuPeriod = 100000; r.cpuQuota = Math.trunc(hc.NanoCpus * 100000 / 1e9); }
  if (hc.CpuPeriod) r.cpuPeriod = hc.CpuPeriod;
  if (hc.CpuQuota) r.cpuQuota = hc.CpuQuota;
  if (hc.CpusetCpus) r.cpusetCpus = hc.CpusetCpus;
  if (hc.CpusetMems) r.cpusetMems = hc.CpusetMems;
  if (hc.PidsLimit !== null && hc.PidsLimit !== undefined) r.pidsLimit = hc.PidsLimit > 0 ? hc.PidsLimit : -1;
  if (hc.BlkioWeight > 0) r.blkioWeight = hc.BlkioWeight;
  if (hc.BlkioWeightDevice?.length) r.blkioWeightDevice = hc.BlkioWeightDevice.map((d) => ({ path: d.Path, weight: d.Weight }));
  const thr = (l: { Path: string; Rate: number }[] | null) => (l?.length ? l.map((d) => ({ path: d.Path, rate: d.Rate })) : undefined);
  const rb = thr(hc.BlkioDeviceReadBps); if (rb) r.readBps = rb;
  const wb = thr(hc.BlkioDeviceWriteBps); if (wb) r.writeBps = wb;
  const ri = thr(hc.BlkioDeviceReadIOps); if (ri) r.readIOps = ri;
  const wi = thr(hc.BlkioDeviceWriteIOps); if (wi) r.writeIOps = wi;
  return r;
}

/** The body of POST /containers/{id}/update (container.UpdateConfig: Resources + RestartPolicy). */
export type UpdateRequest = Partial<HostConfig>;

/** The caller turns these into 409 `Cannot update container <id>: <msg>`. */
function conflict(msg: string): Error { return new Error(msg); }

/**
 * Docker's container.UpdateContainer: merge the request into cur (a copy is returned; cur is not touched).
 * Errors carry Docker's texts; the caller prefixes `Cannot update container <id>: `.
 */
export function mergeUpdate(cur: HostConfig, u: UpdateRequest): HostConfig {
  const hc: HostConfig = { ...cur };
  const n = (k: keyof HostConfig): number => (typeof u[k] === 'number' ? (u[k] as number) : 0);
  if (n('NanoCpus') > 0 && cur.CpuPeriod > 0) throw conflict('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if (n('NanoCpus') > 0 && cur.CpuQuota > 0) throw conflict('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if (n('CpuPeriod') > 0 && cur.NanoCpus > 0) throw conflict('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if (n('CpuQuota') > 0 && cur.NanoCpus > 0) throw conflict('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  if (n('BlkioWeight') !== 0) hc.BlkioWeight = n('BlkioWeight');
  if (n('CpuShares') !== 0) hc.CpuShares = n('CpuShares');
  if (n('NanoCpus') !== 0) hc.NanoCpus = n('NanoCpus');
  if (n('CpuPeriod') !== 0) hc.CpuPeriod = n('CpuPeriod');
  if (n('CpuQuota') !== 0) hc.CpuQuota = n('CpuQuota');
  if (u.CpusetCpus) hc.CpusetCpus = u.CpusetCpus;
  if (u.CpusetMems) hc.CpusetMems = u.CpusetMems;
  if (n('Memory') !== 0) {
    if (n('Memory') > cur.MemorySwap && n('MemorySwap') === 0) {
      throw conflict('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    hc.Memory = n('Memory');
  }
  if (n('MemorySwap') !== 0) hc.MemorySwap = n('MemorySwap');
  if (n('MemoryReservation') !== 0) hc.MemoryReservation = n('MemoryReservation');
  if (n('KernelMemory') !== 0) hc.KernelMemory = n('KernelMemory');
  if (n('CpuRealtimePeriod') !== 0) hc.CpuRealtimePeriod = n('CpuRealtimePeriod');
  if (n('CpuRealtimeRuntime') !== 0) hc.CpuRealtimeRuntime = n('CpuRealtimeRuntime');
  // dockerd stores 0 for `--pids-limit -1` (unlimited), which inspect shows as 0
  if (u.PidsLimit !== undefined && u.PidsLimit !== null) hc.PidsLimit = u.PidsLimit > 0 ? u.PidsLimit : 0;
  const rp = u.RestartPolicy;
  if (rp && rp.Name) {
    if (cur.AutoRemove) throw conflict('Restart policy cannot be updated because AutoRemove is enabled for the container');
    hc.RestartPolicy = { Name: rp.Name, MaximumRetryCount: rp.MaximumRetryCount ?? 0 };
  }
  return hc;
}

/** What `runc update` would get for the request (moby toContainerdResources): zero fields are left alone. */
export function updateResources(u: UpdateRequest): CgroupResources {
  const r: CgroupResources = {};
  const n = (k: keyof HostConfig): number => (typeof u[k] === 'number' ? (u[k] as number) : 0);
  if (n('Memory') !== 0) r.memory = n('Memory');
  if (n('MemorySwap') > 0 || n('MemorySwap') === -1) r.memorySwap = n('MemorySwap');
  if (n('MemoryReservation') !== 0) r.memoryReservation = n('MemoryReservation');
  if (n('CpuShares') !== 0) r.cpuShares = n('CpuShares');
  if (n('NanoCpus') !== 0) { r.cpuPeriod = 100000; r.cpuQuota = Math.trunc(n('NanoCpus') * 100000 / 1e9); }
  if (r.cpuQuota === undefined && n('CpuQuota') !== 0) r.cpuQuota = n('CpuQuota');
  if (n('CpuPeriod') !== 0) r.cpuPeriod = n('CpuPeriod');
  if (u.CpusetCpus) r.cpusetCpus = u.CpusetCpus;
  if (u.CpusetMems) r.cpusetMems = u.CpusetMems;
  if (u.PidsLimit !== undefined && u.PidsLimit !== null) r.pidsLimit = u.PidsLimit > 0 ? u.PidsLimit : -1;
  if (n('BlkioWeight') !== 0) r.blkioWeight = n('BlkioWeight');
  return r;
}
