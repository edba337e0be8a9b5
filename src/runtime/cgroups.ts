/**
 * cgroups as runc lays them out for a container: where the controllers are mounted (from /proc/self/mountinfo),
 * which directories belong to a container, its usage counters (for `stats`) and live limit changes (`update`).
 * Handles cgroup v1 (each controller on its own mount, or co-mounted like `cpu,cpuacct`; a hybrid host also has
 * cgroup2 on /sys/fs/cgroup/unified) and the pure cgroup v2 layout.
 */
import { readFile, writeFile, access } from 'node:fs/promises';
import { readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cpus } from 'node:os';
import { errno, SystemError } from '../lib/index.ts';
import type { CgroupStats, CgroupResources, CgroupSupport, BlkioEntry, NetStats } from './index.ts';

export interface CgroupMounts {
  version: 1 | 2;
  /** v1: controller (`memory`, `cpu`, `cpuacct`, `name=systemd`…) → mount point and the mount's root in the hierarchy. */
  v1: Map<string, { mountpoint: string; root: string }>;
  /** The cgroup2 mount (v2's only one; /sys/fs/cgroup/unified on a hybrid host). */
  unified?: { mountpoint: string; root: string };
}

/** A container's cgroup directories. v1: one per controller; v2: `unified` only. */
export interface CgroupDirs {
  version: 1 | 2;
  memory?: string; cpu?: string; cpuacct?: string; cpuset?: string; pids?: string; blkio?: string;
  unified?: string;
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** /proc/self/mountinfo → the cgroup mounts. The host is v2 when cgroup2 is mounted and no v1 controller is. */
export function parseMountinfo(text: string): CgroupMounts {
  const v1 = new Map<string, { mountpoint: string; root: string }>();
  let unified: { mountpoint: string; root: string } | undefined;
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const post = line.slice(sep + 3).split(' ');
    const root = unescape(pre[3] ?? '/');
    const mountpoint = unescape(pre[4] ?? '');
    const fstype = post[0];
    if (fstype === 'cgroup2') {
      // the first one wins (a container may see later bind mounts of it)
      unified ??= { mountpoint, root };
    } else if (fstype === 'cgroup') {
      for (const opt of (post[2] ?? '').split(',')) {
        if (['rw', 'ro'].includes(opt) || opt.startsWith('release_agent=') || opt === 'clone_children' || opt === 'noprefix' || opt === 'xattr') continue;
        if (!v1.has(opt)) v1.set(opt, { mountpoint, root });
      }
    }
  }
  const controllers = [...v1.keys()].filter((k) => !k.startsWith('name='));
  const m: CgroupMounts = { version: controllers.length === 0 && unified ? 2 : 1, v1 };
  if (unified) m.unified = unified;
  return m;
}

let mountsCache: CgroupMounts | undefined;
export function hostCgroupMounts(): CgroupMounts {
  mountsCache ??= parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  return mountsCache;
}

/** runc's systemd slice expansion: `a-b.slice` → `/a.slice/a-b.slice`. */
export function expandSlice(slice: string): string {
  if (!slice.endsWith('.slice') || slice.includes('/')) throw new SystemError(`invalid slice name: ${slice}`);
  const name = slice.slice(0, -'.slice'.length);
  if (name === '-') return '/';
  let path = '';
  let prefix = '';
  for (const part of name.split('-')) {
    if (part === '') throw new SystemError(`invalid slice name: ${slice}`);
    path += `/${prefix}${part}.slice`;
    prefix += `${part}-`;
  }
  return path;
}

/** The cgroupsPath of an OCI spec → the path inside each hierarchy (cgroupfs `/a/b`, systemd `slice:prefix:name`). */
export function cgroupPathOf(cgroupsPath: string): string {
  const parts = cgroupsPath.split(':');
  if (parts.length === 3 && !cgroupsPath.startsWith('/')) {
    const [slice = '', prefix = '', name = ''] = parts;
    const scope = name.endsWith('.slice') ? name : `${prefix}-${name}.scope`;
    return join(expandSlice(slice || 'system.slice'), scope);
  }
  return cgroupsPath.startsWith('/') ? cgroupsPath : `/${cgroupsPath}`;
}

const V1 = ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio'] as const;

function under(mount: { mountpoint: string; root: string }, path: string): string {
  const rel = relative(mount.root, path);
  return join(mount.mountpoint, rel.startsWith('..') ? path : rel);
}

/** Directories for a cgroup path (as in cgroupPathOf), on the layout m. */
export function dirsForPath(m: CgroupMounts, path: string): CgroupDirs {
  if (m.version === 2) return { version: 2, unified: join(m.unified!.mountpoint, path) };
  const d: CgroupDirs = { version: 1 };
  // runc joins an absolute cgroupsPath to the mount point itself
  for (const c of V1) { const mnt = m.v1.get(c); if (mnt) d[c] = join(mnt.mountpoint, path); }
  return d;
}

/** Directories of a running process, from /proc/<pid>/cgroup (exact even when berth runs inside a cgroup namespace). */
export function dirsFromProcCgroup(m: CgroupMounts, text: string): CgroupDirs {
  const d: CgroupDirs = { version: m.version };
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    const j = line.indexOf(':', i + 1);
    if (i < 0 || j < 0) continue;
    const ctrls = line.slice(i + 1, j);
    const path = line.slice(j + 1);
    if (m.version === 2) {
      if (ctrls === '' && m.unified) d.unified = under(m.unified, path);
      continue;
    }
    for (const c of ctrls.split(',')) {
      const mnt = m.v1.get(c);
      if (mnt && (V1 as readonly string[]).includes(c)) d[c as (typeof V1)[number]] = under(mnt, path);
    }
  }
  return d;
}

/** A container's directories: from its init's /proc entry when it runs, else from the cgroupsPath it was given. */
export async function containerCgroupDirs(cgroupsPath: string, pid?: number, m = hostCgroupMounts()): Promise<CgroupDirs> {
  if (pid && pid > 0) {
    try { return dirsFromProcCgroup(m, await readFile(`/proc/${pid}/cgroup`, 'utf8')); } catch { /* gone */ }
  }
  return dirsForPath(m, cgroupPathOf(cgroupsPath));
}

// ───────────────────────── reading ─────────────────────────

async function readText(dir: string | undefined, file: string): Promise<string | undefined> {
  if (!dir) return undefined;
  try { return await readFile(join(dir, file), 'utf8'); } catch { return undefined; }
}

async function readNum(dir: string | undefined, file: string): Promise<number | undefined> {
  const t = (await readText(dir, file))?.trim();
  if (t === undefined || t === '') return undefined;
  if (t === 'max') return 0;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** `key value` lines → a map (memory.stat, cpu.stat, cpuacct.stat). */
export function parseKeyValues(text: string | undefined): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) m.set(k, Number(v));
  }
  return m;
}

/** v1 blkio files: `8:0 Read 4096` lines (the `Total 123` summary skipped, as containerd does). */
export function parseBlkioV1(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 3) continue;
    const [maj, min] = f[0]!.split(':');
    out.push({ major: Number(maj), minor: Number(min), op: f[1]!, value: Number(f[2]) });
  }
  return out;
}

/** v2 io.stat (`8:0 rbytes=1 wbytes=2 rios=3 wios=4 …`) → Docker's read/write byte entries. */
export function parseIoStatV2(text: string | undefined): { bytes: BlkioEntry[]; ios: BlkioEntry[] } {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2) continue;
    const [maj, min] = f[0]!.split(':');
    const kv = new Map(f.slice(1).map((x) => { const [k, v] = x.split('='); return [k, Number(v)] as const; }));
    const major = Number(maj);
    const minor = Number(min);
    bytes.push({ major, minor, op: 'read', value: kv.get('rbytes') ?? 0 }, { major, minor, op: 'write', value: kv.get('wbytes') ?? 0 });
    ios.push({ major, minor, op: 'read', value: kv.get('rios') ?? 0 }, { major, minor, op: 'write', value: kv.get('wios') ?? 0 });
  }
  return { bytes, ios };
}

/** /proc/<pid>/net/dev → per-interface counters, loopback left out (as Docker's sandbox statistics). */
export function parseNetDev(text: string): Record<string, NetStats> {
  const out: Record<string, NetStats> = {};
  for (const line of text.split('\n').slice(2)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const name = line.slice(0, i).trim();
    if (name === 'lo') continue;
    const f = line.slice(i + 1).trim().split(/\s+/).map(Number);
    out[name] = {
      rx_bytes: f[0] ?? 0, rx_packets: f[1] ?? 0, rx_errors: f[2] ?? 0, rx_dropped: f[3] ?? 0,
      tx_bytes: f[8] ?? 0, tx_packets: f[9] ?? 0, tx_errors: f[10] ?? 0, tx_dropped: f[11] ?? 0,
    };
  }
  return out;
}

/** The memory.stat keys Docker reports on cgroup v1 (containerd's MemoryStat), in its order. */
const V1_MEMORY_KEYS = [
  'cache', 'rss', 'rss_huge', 'mapped_file', 'dirty', 'writeback', 'pgpgin', 'pgpgout', 'pgfault', 'pgmajfault', 'inactive_anon',
  'active_anon', 'inactive_file', 'active_file', 'unevictable', 'hierarchical_memory_limit', 'hierarchical_memsw_limit',
];

const USER_HZ = 100;
const NS_PER_TICK = 1e9 / USER_HZ;

/** Usage counters of a container's cgroups. */
export async function readCgroupStats(d: CgroupDirs): Promise<CgroupStats> {
  return d.version === 2 ? readV2(d.unified!) : readV1(d);
}

async function readV1(d: CgroupDirs): Promise<CgroupStats> {
  const [usage, percpu, acctStat, cpuStat, memUsage, memMax, memLimit, memStat, pidsCur, pidsMax, cfqBytes, cfqIos, thrBytes, thrIos] = await Promise.all([
    readNum(d.cpuacct, 'cpuacct.usage'), readText(d.cpuacct, 'cpuacct.usage_percpu'), readText(d.cpuacct, 'cpuacct.stat'),
    readText(d.cpu, 'cpu.stat'), readNum(d.memory, 'memory.usage_in_bytes'), readNum(d.memory, 'memory.max_usage_in_bytes'),
    readNum(d.memory, 'memory.limit_in_bytes'), readText(d.memory, 'memory.stat'), readNum(d.pids, 'pids.current'), readNum(d.pids, 'pids.max'),
    readText(d.blkio, 'blkio.io_service_bytes_recursive'), readText(d.blkio, 'blkio.io_serviced_recursive'),
    readText(d.blkio, 'blkio.throttle.io_service_bytes_recursive'), readText(d.blkio, 'blkio.throttle.io_serviced_recursive'),
  ]);
  const acct = parseKeyValues(acctStat);
  const cs = parseKeyValues(cpuStat);
  const ms = parseKeyValues(memStat);
  const stats: Record<string, number> = {};
  for (const k of V1_MEMORY_KEYS) { stats[k] = ms.get(k) ?? 0; stats[`total_${k}`] = ms.get(`total_${k}`) ?? 0; }
  delete stats.total_hierarchical_memory_limit;
  delete stats.total_hierarchical_memsw_limit;
  const useCfq = cfqBytes !== undefined && cfqBytes.trim().split('\n').length > 1;
  return {
    cpu: {
      total: usage ?? 0,
      percpu: (percpu ?? '').trim().split(/\s+/).filter(Boolean).map(Number),
      user: (acct.get('user') ?? 0) * NS_PER_TICK,
      system: (acct.get('system') ?? 0) * NS_PER_TICK,
      periods: cs.get('nr_periods') ?? 0, throttledPeriods: cs.get('nr_throttled') ?? 0, throttledTime: cs.get('throttled_time') ?? 0,
    },
    memory: { usage: memUsage ?? 0, maxUsage: memMax ?? 0, limit: memLimit ?? 0, stats },
    pids: { current: pidsCur ?? 0, limit: pidsMax ?? 0 },
    blkio: { serviceBytes: parseBlkioV1(useCfq ? cfqBytes : thrBytes), serviced: parseBlkioV1(useCfq ? cfqIos : thrIos) },
  };
}

async function readV2(dir: string): Promise<CgroupStats> {
  const [cpuStat, memCur, memMax, memStat, pidsCur, pidsMax, ioStat] = await Promise.all([
    readText(dir, 'cpu.stat'), readNum(dir, 'memory.current'), readNum(dir, 'memory.max'), readText(dir, 'memory.stat'),
    readNum(dir, 'pids.current'), readNum(dir, 'pids.max'), readText(dir, 'io.stat'),
  ]);
  const cs = parseKeyValues(cpuStat);
  const io = parseIoStatV2(ioStat);
  return {
    cpu: {
      total: (cs.get('usage_usec') ?? 0) * 1000,
      user: (cs.get('user_usec') ?? 0) * 1000,
      system: (cs.get('system_usec') ?? 0) * 1000,
      periods: cs.get('nr_periods') ?? 0, throttledPeriods: cs.get('nr_throttled') ?? 0, throttledTime: (cs.get('throttled_usec') ?? 0) * 1000,
    },
    memory: { usage: memCur ?? 0, limit: memMax ?? 0, stats: Object.fromEntries(parseKeyValues(memStat)) },
    pids: { current: pidsCur ?? 0, limit: pidsMax ?? 0 },
    blkio: { serviceBytes: io.bytes, serviced: io.ios },
  };
}

/** Network counters of the netns the process lives in. */
export async function readNetStats(pid: number): Promise<Record<string, NetStats>> {
  try { return parseNetDev(await readFile(`/proc/${pid}/net/dev`, 'utf8')); } catch { return {}; }
}

/** The host's cumulative CPU time (ns, /proc/stat's first line, user…softirq) and online CPUs, as dockerd reads them. */
export async function readSystemCpu(): Promise<{ systemUsage: number; onlineCpus: number }> {
  const text = await readFile('/proc/stat', 'utf8');
  return parseProcStat(text);
}

export function parseProcStat(text: string): { systemUsage: number; onlineCpus: number } {
  let systemUsage = 0;
  let onlineCpus = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu ')) {
      const f = line.trim().split(/\s+/).slice(1, 8).map(Number);
      systemUsage = f.reduce((a, b) => a + b, 0) * NS_PER_TICK;
    } else if (/^cpu\d+ /.test(line)) onlineCpus++;
  }
  return { systemUsage, onlineCpus: onlineCpus || cpus().length };
}

// ───────────────────────── limits ─────────────────────────

const STRERROR: Record<string, string> = {
  EBUSY: 'device or resource busy', EINVAL: 'invalid argument', ENOENT: 'no such file or directory', EACCES: 'permission denied',
  EPERM: 'operation not permitted', ENOSPC: 'no space left on device', EROFS: 'read-only file system',
};

async function write(dir: string | undefined, file: string, value: string | number): Promise<void> {
  if (!dir) throw new SystemError(`cgroup controller for ${file} is not mounted`);
  const path = join(dir, file);
  try {
    await writeFile(path, String(value));
  } catch (e) {
    // runc's wording: failed to write "6291456": write <path>: device or resource busy
    const why = STRERROR[errno(e) ?? ''] ?? (e instanceof Error ? e.message : String(e));
    throw new SystemError(`failed to write ${JSON.stringify(String(value))}: write ${path}: ${why}`);
  }
}

/** Apply new limits to a running container's cgroups (runc update's rules: fields left undefined stay as they are). */
export async function updateCgroupResources(d: CgroupDirs, r: CgroupResources): Promise<void> {
  if (d.version === 2) return updateV2(d.unified!, r);
  // memory and swap: the kernel wants memsw ≥ memory at every step, so the order depends on the direction
  const mem = d.memory;
  if (r.memory !== undefined || r.memorySwap !== undefined) {
    const setMem = () => (r.memory !== undefined ? write(mem, 'memory.limit_in_bytes', r.memory) : Promise.resolve());
    const hasSwap = mem !== undefined && existsSync(join(mem, 'memory.memsw.limit_in_bytes'));
    const setSwap = () => (r.memorySwap !== undefined && hasSwap ? write(mem, 'memory.memsw.limit_in_bytes', r.memorySwap) : Promise.resolve());
    const cur = await readNum(mem, 'memory.limit_in_bytes');
    if (r.memorySwap !== undefined && (r.memorySwap === -1 || (cur !== undefined && cur < r.memorySwap))) { await setSwap(); await setMem(); }
    else { await setMem(); await setSwap(); }
  }
  if (r.memoryReservation !== undefined) await write(mem, 'memory.soft_limit_in_bytes', r.memoryReservation);
  if (r.cpuShares !== undefined) await write(d.cpu, 'cpu.shares', r.cpuShares);
  if (r.cpuPeriod !== undefined) await write(d.cpu, 'cpu.cfs_period_us', r.cpuPeriod);
  if (r.cpuQuota !== undefined) await write(d.cpu, 'cpu.cfs_quota_us', r.cpuQuota);
  if (r.cpusetCpus !== undefined) await write(d.cpuset, 'cpuset.cpus', r.cpusetCpus);
  if (r.cpusetMems !== undefined) await write(d.cpuset, 'cpuset.mems', r.cpusetMems);
  if (r.pidsLimit !== undefined) await write(d.pids, 'pids.max', r.pidsLimit > 0 ? r.pidsLimit : 'max');
  if (r.blkioWeight !== undefined) await write(d.blkio, 'blkio.weight', r.blkioWeight);
}

/** cpu.shares (2…262144) → cpu.weight (1…10000), runc's ConvertCPUSharesToCgroupV2Value. */
export function sharesToWeight(shares: number): number {
  return shares === 0 ? 0 : 1 + Math.trunc(((shares - 2) * 9999) / 262142);
}

async function updateV2(dir: string, r: CgroupResources): Promise<void> {
  if (r.memory !== undefined) {
    const max = r.memory > 0 ? String(r.memory) : 'max';
    if (r.memorySwap !== undefined) {
      // v2 counts swap apart: memory.swap.max = swap total − memory
      const swap = r.memorySwap === -1 ? 'max' : String(Math.max(0, r.memorySwap - r.memory));
      await write(dir, 'memory.swap.max', swap).catch(() => {});
    }
    await write(dir, 'memory.max', max);
  }
  if (r.memoryReservation !== undefined) await write(dir, 'memory.low', r.memoryReservation);
  if (r.cpuShares !== undefined) await write(dir, 'cpu.weight', sharesToWeight(r.cpuShares));
  if (r.cpuQuota !== undefined || r.cpuPeriod !== undefined) {
    const cur = ((await readText(dir, 'cpu.max')) ?? 'max 100000').trim().split(' ');
    const quota = r.cpuQuota !== undefined ? (r.cpuQuota > 0 ? String(r.cpuQuota) : 'max') : cur[0];
    const period = r.cpuPeriod !== undefined ? String(r.cpuPeriod) : cur[1];
    await write(dir, 'cpu.max', `${quota} ${period}`);
  }
  if (r.cpusetCpus !== undefined) await write(dir, 'cpuset.cpus', r.cpusetCpus);
  if (r.cpusetMems !== undefined) await write(dir, 'cpuset.mems', r.cpusetMems);
  if (r.pidsLimit !== undefined) await write(dir, 'pids.max', r.pidsLimit > 0 ? r.pidsLimit : 'max');
  if (r.blkioWeight !== undefined) await write(dir, 'io.weight', `default ${r.blkioWeight}`);
}

// ───────────────────────── what the kernel can enforce ─────────────────────────

async function exists(p: string): Promise<boolean> {
  try { await access(p); return true; } catch (e) { return errno(e) !== 'ENOENT' && errno(e) !== 'ENOTDIR'; }
}

/** Docker's sysinfo: which limits this host's cgroups can enforce (files present at the hierarchies' roots). */
export async function cgroupSupport(m = hostCgroupMounts()): Promise<CgroupSupport> {
  if (m.version === 2) {
    const root = m.unified!.mountpoint;
    const ctrls = new Set(((await readText(root, 'cgroup.controllers')) ?? '').trim().split(/\s+/));
    const cpuset = ctrls.has('cpuset');
    return {
      memoryLimit: ctrls.has('memory'), swapLimit: ctrls.has('memory'), memoryReservation: ctrls.has('memory'), oomKillDisable: false,
      memorySwappiness: false, pidsLimit: ctrls.has('pids'), cpuShares: ctrls.has('cpu'), cpuCfs: ctrls.has('cpu'), cpuset,
      cpus: cpuset ? ((await readText(root, 'cpuset.cpus.effective')) ?? '').trim() : '',
      mems: cpuset ? ((await readText(root, 'cpuset.mems.effective')) ?? '').trim() : '',
      blkioWeight: ctrls.has('io') && await exists(join(root, 'io.bfq.weight')), blkioWeightDevice: ctrls.has('io') && await exists(join(root, 'io.bfq.weight')),
      blkioReadBps: ctrls.has('io'), blkioWriteBps: ctrls.has('io'), blkioReadIOps: ctrls.has('io'), blkioWriteIOps: ctrls.has('io'),
    };
  }
  const at = (c: string, f: string) => { const mnt = m.v1.get(c); return mnt ? exists(join(mnt.mountpoint, f)) : Promise.resolve(false); };
  const cpusetMnt = m.v1.get('cpuset')?.mountpoint;
  const [memoryLimit, swapLimit, memoryReservation, oomKillDisable, memorySwappiness, pidsLimit, cpuShares, cpuCfs, blkioWeight, blkioWeightDevice,
    blkioReadBps, blkioWriteBps, blkioReadIOps, blkioWriteIOps, cpusText, memsText] = await Promise.all([
    at('memory', 'memory.limit_in_bytes'), at('memory', 'memory.memsw.limit_in_bytes'), at('memory', 'memory.soft_limit_in_bytes'),
    at('memory', 'memory.oom_control'), at('memory', 'memory.swappiness'), Promise.resolve(m.v1.has('pids')),
    at('cpu', 'cpu.shares'), at('cpu', 'cpu.cfs_period_us'), at('blkio', 'blkio.weight'), at('blkio', 'blkio.weight_device'),
    at('blkio', 'blkio.throttle.read_bps_device'), at('blkio', 'blkio.throttle.write_bps_device'),
    at('blkio', 'blkio.throttle.read_iops_device'), at('blkio', 'blkio.throttle.write_iops_device'),
    readText(cpusetMnt, 'cpuset.effective_cpus').then((t) => t ?? readText(cpusetMnt, 'cpuset.cpus')),
    readText(cpusetMnt, 'cpuset.effective_mems').then((t) => t ?? readText(cpusetMnt, 'cpuset.mems')),
  ]);
  return {
    memoryLimit, swapLimit, memoryReservation, oomKillDisable, memorySwappiness, pidsLimit, cpuShares, cpuCfs,
    cpuset: cpusetMnt !== undefined, cpus: (cpusText ?? '').trim(), mems: (memsText ?? '').trim(),
    blkioWeight, blkioWeightDevice, blkioReadBps, blkioWriteBps, blkioReadIOps, blkioWriteIOps,
  };
}
