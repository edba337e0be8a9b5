/** create: Docker's defaults, image-config merge and validation (messages as dockerd 20.10 writes them). */
import { InvalidArgumentError } from '../lib/index.ts';
import type { ImageRunConfig } from '../oci/index.ts';
import type { ContainerConfig, HostConfig, NetworkSettings, EndpointSettings, PortMap } from './model.ts';
import type { CgroupSupport } from '../runtime/index.ts';
import { verifyResources, FULL_SUPPORT } from './resources.ts';

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const MIN_MEMORY = 6 * 1024 * 1024;
export const DEFAULT_SHM = 64 * 1024 * 1024;

const MASKED = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'];
const READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const nameRe = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Validate a user-given name; returns it with Docker's leading slash. */
export function validateName(name: string): string {
  if (!nameRe.test(name)) throw new InvalidArgumentError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.startsWith('/') ? name : `/${name}`;
}

export function defaultHostConfig(): HostConfig {
  return {
    Binds: null, ContainerIDFile: '', LogConfig: { Type: 'json-file', Config: {} }, NetworkMode: 'default', PortBindings: {},
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false, VolumeDriver: '', VolumesFrom: null, CapAdd: null, CapDrop: null,
    CgroupnsMode: 'host', Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, GroupAdd: null, IpcMode: 'private', Cgroup: '', Links: null,
    OomScoreAdj: 0, PidMode: '', Privileged: false, PublishAllPorts: false, ReadonlyRootfs: false, SecurityOpt: null, UTSMode: '', UsernsMode: '',
    ShmSize: DEFAULT_SHM, Runtime: 'runc', ConsoleSize: [0, 0], Isolation: '', CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '',
    BlkioWeight: 0, BlkioWeightDevice: [], BlkioDeviceReadBps: null, BlkioDeviceWriteBps: null, BlkioDeviceReadIOps: null, BlkioDeviceWriteIOps: null,
    CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '', Devices: [], DeviceCgroupRules: null,
    DeviceRequests: null, KernelMemory: 0, KernelMemoryTCP: 0, MemoryReservation: 0, MemorySwap: 0, MemorySwappiness: null, OomKillDisable: false,
    PidsLimit: null, Ulimits: null, CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0, MaskedPaths: null, ReadonlyPaths: null,
  };
}

const portRe = /^(\d+)(?:-(\d+))?$/;
function validPort(p: string): boolean {
  const m = portRe.exec(p);
  if (!m) return false;
  const a = Number(m[1]);
  const b = m[2] !== undefined ? Number(m[2]) : a;
  return a <= 65535 && b <= 65535 && a <= b;
}

function validatePorts(ports: PortMap | null | undefined): void {
  for (const [key, bindings] of Object.entries(ports ?? {})) {
    const [port = '', proto = 'tcp'] = key.split('/');
    if (!validPort(port)) throw new InvalidArgumentError(`invalid port specification: ${JSON.stringify(port)}`);
    if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw new InvalidArgumentError(`invalid proto: ${JSON.stringify(proto)}`);
    for (const b of bindings ?? []) {
      if (b.HostPort && !validPort(b.HostPort)) throw new InvalidArgumentError(`invalid port specification: ${JSON.stringify(b.HostPort)}`);
    }
  }
}

export interface DaemonDefaults {
  ncpu: number;
  defaultRuntime: string;
  runtimes: Record<string, unknown>;
  logDriver: string;
  logOpts: Record<string, string>;
  swapAccounting: boolean;
  /** What the host's cgroups can enforce (default: everything). */
  sys?: CgroupSupport;
  cgroupDriver?: 'cgroupfs' | 'systemd';
}

/** Fill Docker's defaults into the user's HostConfig and validate it (verifyContainerSettings). */
export function completeHostConfig(user: Partial<HostConfig>, d: DaemonDefaults, warnings: string[] = []): HostConfig {
  const hc = defaultHostConfig();
  for (const [k, v] of Object.entries(user)) if (v !== undefined && v !== null) (hc as unknown as Record<string, unknown>)[k] = v;
  // null-able fields the client may send as null deliberately
  for (const k of ['Binds', 'VolumesFrom', 'CapAdd', 'CapDrop', 'ExtraHosts', 'GroupAdd', 'Links', 'SecurityOpt', 'Ulimits', 'DeviceCgroupRules', 'DeviceRequests'] as const) {
    if ((user as Record<string, unknown>)[k] === null) (hc as unknown as Record<string, unknown>)[k] = null;
  }
  hc.Dns ??= []; hc.DnsOptions ??= []; hc.DnsSearch ??= []; hc.BlkioWeightDevice ??= []; hc.Devices ??= []; hc.PortBindings ??= {};

  const rp = hc.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 };
  const rpName = rp.Name ?? '';
  if (!['', 'no', 'always', 'unless-stopped', 'on-failure'].includes(rpName)) throw new InvalidArgumentError(`invalid restart policy '${rpName}'`);
  const retries = rp.MaximumRetryCount ?? 0;
  if (retries < 0) throw new InvalidArgumentError('maximum retry count cannot be negative');
  if (retries !== 0 && rpName !== 'on-failure') throw new InvalidArgumentError(`maximum retry count cannot be used with restart policy '${rpName}'`);
  if (hc.AutoRemove && rpName !== '' && rpName !== 'no') throw new InvalidArgumentError("can't create 'AutoRemove' container with restart policy");
  hc.RestartPolicy = { Name: rpName === '' ? 'no' : rpName, MaximumRetryCount: retries };

  validatePorts(hc.PortBindings);

  // resource checks and warnings (resources.ts), then Docker's adaptContainerSettings defaults
  warnings.push(...verifyResources(hc, d.sys ?? FULL_SUPPORT, d.ncpu, false));
  if (hc.Memory > 0 && hc.MemorySwap === 0 && d.swapAccounting) hc.MemorySwap = hc.Memory * 2;
  if (hc.OomScoreAdj < -1000 || hc.OomScoreAdj > 1000) throw new InvalidArgumentError('Invalid value ' + hc.OomScoreAdj + ', range for oom score adj is [-1000, 1000]');
  if (hc.PidsLimit !== null && hc.PidsLimit !== undefined && hc.PidsLimit <= 0) hc.PidsLimit = null;
  if (hc.ShmSize < 0) throw new InvalidArgumentError('SHM size can not be less than 0');
  if (hc.ShmSize === 0) hc.ShmSize = DEFAULT_SHM;
  if (d.cgroupDriver === 'systemd' && hc.CgroupParent && !hc.CgroupParent.endsWith('.slice')) {
    throw new InvalidArgumentError('cgroup-parent for systemd cgroup should be a valid slice named as "xxx.slice"');
  }

  const lt = hc.LogConfig?.Type || d.logDriver;
  if (lt !== 'json-file' && lt !== 'none') throw new InvalidArgumentError(`error looking up logging plugin ${lt}: plugin "${lt}" not found`);
  hc.LogConfig = { Type: lt, Config: { ...(hc.LogConfig?.Type ? {} : d.logOpts), ...(hc.LogConfig?.Config ?? {}) } };
  validateLogOpts(lt, hc.LogConfig.Config);

  if (!hc.NetworkMode) hc.NetworkMode = 'default';
  if (!hc.CgroupnsMode) hc.CgroupnsMode = 'host';
  if (!hc.IpcMode) hc.IpcMode = 'private';
  if (!hc.Runtime) hc.Runtime = d.defaultRuntime;
  else if (!(hc.Runtime in d.runtimes)) throw new InvalidArgumentError(`Unknown runtime specified ${hc.Runtime}`);
  if (!hc.Privileged) {
    hc.MaskedPaths ??= [...MASKED];
    hc.ReadonlyPaths ??= [...READONLY];
  }
  for (const h of hc.ExtraHosts ?? []) {
    const i = h.indexOf(':');
    if (i <= 0 || i === h.length - 1) throw new InvalidArgumentError(`invalid argument "${h}" for add-host: bad format for add-host: "${h}"`);
  }
  return hc;
}

function envKey(e: string): string {
  const i = e.indexOf('=');
  return i < 0 ? e : e.slice(0, i);
}

/** Entries of `over` replace same-key entries of `base` in place; new keys are appended. */
export function replaceOrAppendEnv(base: string[], over: string[]): string[] {
  const out = [...base];
  const idx = new Map(out.map((e, i) => [envKey(e), i]));
  for (const e of over) {
    const i = idx.get(envKey(e));
    if (i !== undefined) out[i] = e;
    else { idx.set(envKey(e), out.length); out.push(e); }
  }
  return out;
}

/** Docker's merge of the image's run config into the user's (daemon/commit.go merge + create). */
export function mergeImageConfig(user: Partial<ContainerConfig>, img: ImageRunConfig | undefined): ContainerConfig {
  const i = img ?? {};
  const userEnv = user.Env ?? [];
  const userKeys = new Set(userEnv.map(envKey));
  const env = [...userEnv, ...(i.Env ?? []).filter((e) => !userKeys.has(envKey(e)))];
  let entrypoint = user.Entrypoint ?? null;
  let cmd = user.Cmd && user.Cmd.length ? user.Cmd : null;
  if (entrypoint && entrypoint.length === 1 && entrypoint[0] === '') entrypoint = [];
  if (!entrypoint || entrypoint.length === 0) {
    if (!cmd) cmd = i.Cmd ?? null;
    if (user.Entrypoint === undefined || user.Entrypoint === null) entrypoint = i.Entrypoint ?? null;
  }
  const exposed = { ...(i.ExposedPorts ?? {}), ...(user.ExposedPorts ?? {}) };
  const volumes = { ...(i.Volumes ?? {}), ...(user.Volumes ?? {}) };
  const cfg: ContainerConfig = {
    Hostname: user.Hostname ?? '',
    Domainname: user.Domainname ?? '',
    User: user.User || i.User || '',
    AttachStdin: user.AttachStdin ?? false,
    AttachStdout: user.AttachStdout ?? false,
    AttachStderr: user.AttachStderr ?? false,
    Tty: user.Tty ?? false,
    OpenStdin: user.OpenStdin ?? false,
    StdinOnce: user.StdinOnce ?? false,
    Env: env.length ? env : (user.Env === undefined && i.Env === undefined ? null : env),
    Cmd: cmd,
    Image: user.Image ?? '',
    Volumes: Object.keys(volumes).length ? volumes : null,
    WorkingDir: user.WorkingDir || i.WorkingDir || '',
    Entrypoint: entrypoint && entrypoint.length ? entrypoint : (entrypoint ? [] : null),
    OnBuild: user.OnBuild ?? null,
    Labels: { ...(i.Labels ?? {}), ...(user.Labels ?? {}) },
  };
  if (Object.keys(exposed).length) cfg.ExposedPorts = exposed;
  const stopSignal = user.StopSignal || i.StopSignal;
  if (stopSignal) cfg.StopSignal = stopSignal;
  if (user.StopTimeout !== undefined && user.StopTimeout !== null) cfg.StopTimeout = user.StopTimeout;
  const hc = user.Healthcheck ?? i.Healthcheck;
  if (hc) cfg.Healthcheck = hc;
  if (user.ArgsEscaped) cfg.ArgsEscaped = true;
  if (user.NetworkDisabled) cfg.NetworkDisabled = true;
  if (user.MacAddress) cfg.MacAddress = user.MacAddress;
  if (user.Shell) cfg.Shell = user.Shell;
  if (cfg.WorkingDir && !cfg.WorkingDir.startsWith('/')) {
    throw new InvalidArgumentError(`the working directory '${cfg.WorkingDir}' is invalid, it needs to be an absolute path`);
  }
  if (user.ExposedPorts) validatePorts(Object.fromEntries(Object.keys(user.ExposedPorts).map((k) => [k, null])));
  return cfg;
}

/** Path and Args from Entrypoint + Cmd; InvalidArgumentError `No command specified` when both are empty. */
export function pathAndArgs(c: ContainerConfig): { path: string; args: string[] } {
  const all = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  if (all.length === 0) throw new InvalidArgumentError('No command specified');
  return { path: all[0]!, args: all.slice(1) };
}

export function emptyEndpoint(): EndpointSettings {
  return {
    IPAMConfig: null, Links: null, Aliases: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0,
    IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null,
  };
}

/** The network a NetworkMode puts the container on, as inspect names it. */
export function networkName(mode: string): string | undefined {
  if (mode === 'default' || mode === '') return 'bridge';
  if (mode.startsWith('container:')) return undefined;
  return mode;
}

export function initialNetworkSettings(mode: string): NetworkSettings {
  const n = networkName(mode);
  return {
    Bridge: '', SandboxID: '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, Ports: {}, SandboxKey: '',
    Networks: n ? { [n]: emptyEndpoint() } : {},
  };
}

const JSON_FILE_OPTS = new Set(['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag']);

/** The log options a driver takes, with Docker's errors (daemon/logger/jsonfilelog ValidateLogOpt). */
export function validateLogOpts(driver: string, opts: Record<string, string>): void {
  for (const k of Object.keys(opts)) {
    if (driver !== 'json-file' || !JSON_FILE_OPTS.has(k)) throw new InvalidArgumentError(`unknown log opt '${k}' for ${driver} log driver`);
  }
  if (driver !== 'json-file') return;
  const size = opts['max-size'];
  if (size !== undefined && !/^\d+(\.\d+)?\s*[kmg]?b?$/i.test(size.trim())) throw new InvalidArgumentError(`invalid size: '${size}'`);
  const files = opts['max-file'];
  if (files !== undefined) {
    const n = Number(files);
    if (!/^-?\d+$/.test(files.trim())) throw new InvalidArgumentError(`strconv.Atoi: parsing "${files}": invalid syntax`);
    if (n < 1) throw new InvalidArgumentError('max-file cannot be less than 1');
  }
}
