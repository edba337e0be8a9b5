/**
 * SpecOptions → OCI config.json, shaped like the one dockerd 20.10 hands to runc (cf. MOBY daemon/oci_linux.go,
 * oci/defaults.go; shared/reference/docker-20.10/host/oci-config-web.json). Key order follows the Go structs, so a
 * generated file reads like Docker's.
 */
import { readdir, stat, realpath } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errno, InvalidArgumentError } from '../lib/index.ts';
import type { Spec, Mount, LinuxDevice, runtime } from '../oci/index.ts';
import type { SpecOptions } from './index.ts';
import { resolveUser } from './user.ts';
import { defaultSeccomp } from './seccomp.ts';

type DeviceRule = runtime.LinuxDeviceCgroup;

export const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Every capability runc 1.1 and this kernel know, in number order (0..40). */
export const ALL_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

export const DEFAULT_MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
];
export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const DEFAULT_DEVICE_RULES: DeviceRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
];

const RLIMITS = new Set([
  'as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio',
  'rttime', 'sigpending', 'stack',
]);

const IN_CONTAINER_INIT = '/sbin/docker-init';

/** Test seams: host devices for --privileged (scan of /dev by default), and the host's capability bounding set. */
export interface SpecHost {
  hostDevices?: () => Promise<LinuxDevice[]>;
  capBounding?: () => readonly string[];
}

let boundingCache: readonly string[] | undefined;
/**
 * The capabilities berthd itself may hand out: its bounding set (CapBnd in /proc/self/status). A sandbox
 * can lack some (this host has no CAP_SYS_RESOURCE); `--privileged` and `--cap-add ALL` give what is there,
 * as podman does, instead of failing in runc with `unable to apply caps: operation not permitted`.
 */
export function hostCapBounding(): readonly string[] {
  if (boundingCache) return boundingCache;
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  const mask = m ? BigInt(`0x${m[1]}`) : -1n;
  boundingCache = ALL_CAPS.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
  return boundingCache;
}

/** Docker's capability normalisation: upper case, `CAP_` prefix, `ALL` kept; unknown names rejected. */
function normalizeCaps(list: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of list) {
    let c = raw.trim().toUpperCase();
    if (c === '') continue;
    if (c !== 'ALL' && !c.startsWith('CAP_')) c = `CAP_${c}`;
    if (c !== 'ALL' && !ALL_CAPS.includes(c)) throw new InvalidArgumentError(`unknown capability: "${c}"`);
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

export function tweakCapabilities(adds: readonly string[], drops: readonly string[], privileged: boolean, all: readonly string[] = ALL_CAPS): string[] {
  if (privileged) return [...all];
  if (adds.length === 0 && drops.length === 0) return [...DEFAULT_CAPS];
  const capAdd = normalizeCaps(adds);
  const capDrop = normalizeCaps(drops);
  if (capAdd.includes('ALL')) return all.filter((c) => !capDrop.includes(c));
  if (capDrop.includes('ALL')) return capAdd;
  const caps = DEFAULT_CAPS.filter((c) => !capDrop.includes(c));
  for (const c of capAdd) if (!caps.includes(c)) caps.push(c);
  return caps;
}

function major(rdev: bigint): number {
  return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
}
function minor(rdev: bigint): number {
  return Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
}

/** A device node as runc's DeviceFromPath sees it; undefined when path is not a device. */
async function deviceFromPath(path: string, containerPath: string): Promise<LinuxDevice | undefined> {
  const st = await stat(path, { bigint: true });
  let type: string;
  if (st.isCharacterDevice()) type = 'c';
  else if (st.isBlockDevice()) type = 'b';
  else if (st.isFIFO()) type = 'p';
  else return undefined;
  return {
    path: containerPath, type, major: major(st.rdev), minor: minor(st.rdev),
    fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid),
  };
}

/** Every device node under /dev, as runc's HostDevices lists them for --privileged. */
export async function scanHostDevices(dir = '/dev'): Promise<LinuxDevice[]> {
  const out: LinuxDevice[] = [];
  let entries;
  try { entries = await readdir(dir, { withFileTypes: true }); } catch { return out; }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev'].includes(e.name)) continue;
      out.push(...await scanHostDevices(p));
    } else if (e.name !== 'console' && (e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO())) {
      try {
        const d = await deviceFromPath(p, p);
        if (d) out.push(d);
      } catch { /* vanished */ }
    }
  }
  return out;
}

/** `--device host[:container[:perms]]` (already split by the engine) → devices + cgroup rules, as moby DevicesFromPath. */
async function devicesFromPath(hostPath: string, containerPath: string, perms: string): Promise<{ devs: LinuxDevice[]; rules: DeviceRule[] }> {
  const devs: LinuxDevice[] = [];
  const rules: DeviceRule[] = [];
  const fail = (why: string) => new InvalidArgumentError(`error gathering device information while adding custom device "${hostPath}": ${why}`);
  let resolved: string;
  try {
    resolved = await realpath(hostPath);
    const st = await stat(resolved);
    if (st.isDirectory()) {
      for (const d of await scanHostDevices(resolved)) {
        d.path = join(containerPath, d.path.slice(resolved.length));
        devs.push(d);
        rules.push({ allow: true, type: d.type, major: d.major ?? null, minor: d.minor ?? null, access: perms });
      }
      return { devs, rules };
    }
    const d = await deviceFromPath(resolved, containerPath);
    if (!d) throw fail('not a device node');
    devs.push(d);
    rules.push({ allow: true, type: d.type, major: d.major ?? null, minor: d.minor ?? null, access: perms });
    return { devs, rules };
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw e;
    if (errno(e) === 'ENOENT') throw fail('no such file or directory');
    throw fail(e instanceof Error ? e.message : String(e));
  }
}

/** A block device's numbers, as moby's getBlkio*Devices stat them (`no such file or directory` when it is not there). */
async function blockDevice(path: string): Promise<{ major: number; minor: number }> {
  let st;
  try { st = await stat(path, { bigint: true }); } catch (e) {
    throw new InvalidArgumentError(`${errno(e) === 'ENOENT' ? `lstat ${path}: no such file or directory` : e instanceof Error ? e.message : String(e)}`);
  }
  return { major: major(st.rdev), minor: minor(st.rdev) };
}

/** linux.resources.blockIO: weight always (as Docker), per-device weights and throttles when given. */
async function blockIO(r: SpecOptions['resources']): Promise<NonNullable<runtime.LinuxResources['blockIO']>> {
  const b: NonNullable<runtime.LinuxResources['blockIO']> = { weight: r.blkioWeight ?? 0 };
  if (r.blkioWeightDevice?.length) {
    b.weightDevice = await Promise.all(r.blkioWeightDevice.map(async (d) => ({ ...await blockDevice(d.path), weight: d.weight })));
  }
  const thr = (l: { path: string; rate: number }[]) => Promise.all(l.map(async (d) => ({ ...await blockDevice(d.path), rate: d.rate })));
  if (r.readBps?.length) b.throttleReadBpsDevice = await thr(r.readBps);
  if (r.writeBps?.length) b.throttleWriteBpsDevice = await thr(r.writeBps);
  if (r.readIOps?.length) b.throttleReadIOPSDevice = await thr(r.readIOps);
  if (r.writeIOps?.length) b.throttleWriteIOPSDevice = await thr(r.writeIOps);
  return b;
}

function depth(p: string): number {
  return p.split('/').filter(Boolean).length;
}

export async function buildSpec(opts: SpecOptions, host: SpecHost = {}): Promise<Spec> {
  const privileged = opts.privileged;
  const user = await resolveUser(opts.rootfs, opts.user, opts.groupAdd);
  const caps = tweakCapabilities(opts.capAdd, opts.capDrop, privileged, (host.capBounding ?? hostCapBounding)());

  // rlimits: first occurrence of a name wins (moby setRlimits)
  const rlimits: { type: string; hard: number; soft: number }[] = [];
  const seen = new Set<string>();
  for (const u of opts.ulimits) {
    const name = u.Name.toLowerCase();
    if (!RLIMITS.has(name)) throw new InvalidArgumentError(`invalid ulimit type: ${u.Name}`);
    if (seen.has(name)) continue;
    seen.add(name);
    rlimits.push({ type: `RLIMIT_${name.toUpperCase()}`, hard: u.Hard, soft: u.Soft });
  }

  const args = opts.initPath ? [IN_CONTAINER_INIT, '--', ...opts.args] : [...opts.args];
  if (args.length === 0) throw new InvalidArgumentError('no command specified');

  const proc: NonNullable<Spec['process']> = {
    ...(opts.tty ? { terminal: true } : {}),
    ...(opts.tty && opts.consoleSize && opts.consoleSize.height > 0 && opts.consoleSize.width > 0
      ? { consoleSize: { height: opts.consoleSize.height, width: opts.consoleSize.width } } : {}),
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    args,
    env: [...opts.env],
    cwd: opts.cwd || '/',
    // moby ≥ 20.10.14 (CVE-2022-24769): a non-root user gets only the bounding set, as execve would leave it
    capabilities: user.uid === 0 ? { bounding: caps, effective: [...caps], permitted: [...caps] } : { bounding: caps },
    ...(rlimits.length > 0 ? { rlimits } : {}),
    ...(opts.noNewPrivileges ? { noNewPrivileges: true } : {}),
    oomScoreAdj: opts.oomScoreAdj,
  };

  // Mounts: the defaults, minus any a user mount replaces; then --init; then user mounts, parents first.
  const defaults: Mount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${opts.shmSize > 0 ? opts.shmSize : 67108864}`] },
  ];
  const userDest = new Set(opts.mounts.map((m) => m.destination));
  const mountsDev = userDest.has('/dev');
  const mounts: Mount[] = defaults.filter((m) => !userDest.has(m.destination) && !(mountsDev && m.destination.startsWith('/dev/')));
  if (opts.readonlyRootfs) {
    for (const m of mounts) {
      if (['/proc', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev'].includes(m.destination)) continue;
      if (!m.options!.includes('ro')) m.options!.push('ro');
    }
  }
  if (privileged) {
    // moby clears read-only on /sys and the cgroup mount after the read-only-rootfs pass
    for (const m of mounts) if (m.destination === '/sys' || m.type === 'cgroup') m.options = m.options!.filter((o) => o !== 'ro');
  }
  if (opts.initPath) mounts.push({ destination: IN_CONTAINER_INIT, type: 'bind', source: opts.initPath, options: ['bind', 'ro'] });
  const extra = opts.mounts
    .map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i)
    .map(({ m }): Mount => ({ destination: m.destination, type: m.type, source: m.source || m.type, options: [...m.options] }));
  mounts.push(...extra);

  // Namespaces
  const namespaces: runtime.LinuxNamespace[] = [{ type: 'mount' }];
  if (opts.netns === undefined) namespaces.push({ type: 'network' });
  else if (opts.netns !== 'host') namespaces.push({ type: 'network', path: opts.netns });
  namespaces.push({ type: 'uts' }, { type: 'pid' }, { type: 'ipc' });

  // Sysctls: the user's, plus Docker's two unprivileged-network defaults when the container has its own netns.
  const sysctl: Record<string, string> = { ...opts.sysctls };
  if (opts.netns !== 'host') {
    sysctl['net.ipv4.ip_unprivileged_port_start'] ??= '0';
    sysctl['net.ipv4.ping_group_range'] ??= '0 2147483647';
  }
  const sortedSysctl: Record<string, string> = {};
  for (const k of Object.keys(sysctl).sort()) sortedSysctl[k] = sysctl[k]!;

  // Devices and cgroup device rules
  let devices: LinuxDevice[] = [];
  let deviceRules: DeviceRule[];
  if (privileged) {
    devices = await (host.hostDevices ?? scanHostDevices)();
    deviceRules = [{ allow: true, access: 'rwm' }];
  } else {
    deviceRules = DEFAULT_DEVICE_RULES.map((r) => ({ ...r }));
    for (const d of opts.devices) {
      const r = await devicesFromPath(d.PathOnHost, d.PathInContainer || d.PathOnHost, d.CgroupPermissions || 'rwm');
      devices.push(...r.devs);
      deviceRules.push(...r.rules);
    }
  }

  // Resources
  const r = opts.resources;
  const resources: runtime.LinuxResources = { devices: deviceRules };
  const memory: NonNullable<runtime.LinuxResources['memory']> = {};
  if (r.memory !== undefined && r.memory > 0) memory.limit = r.memory;
  if (r.memoryReservation !== undefined && r.memoryReservation > 0) memory.reservation = r.memoryReservation;
  if (r.memorySwap !== undefined && r.memorySwap > 0) memory.swap = r.memorySwap;
  if (r.memorySwappiness !== undefined) memory.swappiness = r.memorySwappiness;
  if (r.oomKillDisable !== undefined) memory.disableOOMKiller = r.oomKillDisable;
  resources.memory = memory;
  const cpu: NonNullable<runtime.LinuxResources['cpu']> = { shares: r.cpuShares ?? 0 };
  if (r.cpuQuota) cpu.quota = r.cpuQuota;
  if (r.cpuPeriod) cpu.period = r.cpuPeriod;
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  resources.cpu = cpu;
  if (r.pidsLimit !== undefined) resources.pids = { limit: r.pidsLimit > 0 ? r.pidsLimit : -1 };
  resources.blockIO = await blockIO(r);

  const linux: NonNullable<Spec['linux']> = {};
  if (Object.keys(sortedSysctl).length > 0) linux.sysctl = sortedSysctl;
  linux.resources = resources;
  linux.cgroupsPath = opts.cgroupsPath;
  linux.namespaces = namespaces;
  if (devices.length > 0) linux.devices = devices;
  if (!privileged) linux.seccomp = defaultSeccomp(caps);
  if (!privileged) {
    linux.maskedPaths = [...(opts.maskedPaths ?? DEFAULT_MASKED_PATHS)];
    linux.readonlyPaths = [...(opts.readonlyPaths ?? DEFAULT_READONLY_PATHS)];
  }

  const spec: Spec = { ociVersion: '1.0.2-dev', process: proc, root: { path: opts.rootfs } };
  if (opts.readonlyRootfs) spec.root!.readonly = true;
  if (opts.hostname) spec.hostname = opts.hostname;
  if (opts.domainname) spec.domainname = opts.domainname;
  spec.mounts = mounts;
  spec.linux = linux;
  return spec;
}
