/**
 * `create`/`run` flags → the POST /containers/create body, as the docker 20.10 CLI builds it
 * (same keys, same order, same defaults; checked against captured requests in testdata/).
 */
import { readFileSync } from 'node:fs';
import { ramInBytes } from '../lib/index.ts';
import { CliError } from './errors.ts';


export type RunOpts = Record<string, string | string[] | boolean | undefined>;

export interface CreateRequest {
  name?: string;
  platform?: string;
  body: Record<string, unknown>;
}

function badValue(flag: string, v: string, msg: string): CliError {
  return new CliError(`invalid argument "${v}" for "${flag}" flag: ${msg}`, 125, 'flag');
}

function list(o: RunOpts, k: string): string[] {
  const v = o[k];
  return Array.isArray(v) ? v : [];
}
function str(o: RunOpts, k: string): string | undefined {
  const v = o[k];
  return typeof v === 'string' ? v : undefined;
}

function sortedMap<T>(entries: Array<[string, T]>): Record<string, T> {
  const m = new Map(entries);
  return Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function parseInt64(flag: string, v: string): number {
  if (!/^[-+]?\d+$/.test(v)) throw badValue(flag, v, `strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

export function memBytes(flag: string, v: string): number {
  try { return ramInBytes(v); } catch { throw badValue(flag, v, `invalid size: '${v}'`); }
}

/** big.Rat's SetString: `1.5`, `3/2`, `2`. */
export function parseCpus(v: string): number {
  let n: number;
  if (/^[-+]?\d+\/\d+$/.test(v)) { const [a, b] = v.split('/'); n = Number(a) / Number(b); }
  else if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) n = Number(v);
  else throw badValue('--cpus', v, `failed to parse ${v} as a rational number`);
  const nano = n * 1e9;
  if (!Number.isInteger(Math.round(nano * 1e6) / 1e6)) throw badValue('--cpus', v, 'value is too precise');
  return Math.round(nano);
}

/** `--device-read-bps /dev/sda:1mb` (bps: a size; iops: a count) → {Path, Rate}, with the CLI's validation texts. */
function throttleDevices(o: RunOpts, k: string, flag: string, bps: boolean): Array<{ Path: string; Rate: number }> | null {
  const out = list(o, k).map((v) => {
    const i = v.indexOf(':');
    if (i < 0) throw badValue(flag, v, `bad format: ${v}`);
    const path = v.slice(0, i);
    if (!path.startsWith('/dev/')) throw badValue(flag, v, `bad format for device path: ${v}`);
    const raw = v.slice(i + 1);
    let rate: number;
    if (bps) {
      try { rate = ramInBytes(raw); } catch { rate = -1; }
      if (rate < 0) throw badValue(flag, v, `invalid rate for device: ${v}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`);
    } else {
      rate = /^\d+$/.test(raw) ? Number(raw) : -1;
      if (rate < 0) throw badValue(flag, v, `invalid rate for device: ${v}. The correct format is <device-path>:<number>. Number must be a positive integer`);
    }
    return { Path: path, Rate: rate };
  });
  return out.length ? out : null;
}

function weightDevices(o: RunOpts): Array<{ Path: string; Weight: number }> {
  return list(o, 'blkioWeightDevice').map((v) => {
    const i = v.indexOf(':');
    if (i < 0) throw badValue('--blkio-weight-device', v, `bad format: ${v}`);
    const path = v.slice(0, i);
    if (!path.startsWith('/dev/')) throw badValue('--blkio-weight-device', v, `bad format for device path: ${v}`);
    const w = /^\d+$/.test(v.slice(i + 1)) ? Number(v.slice(i + 1)) : -1;
    if (w < 0 || (w > 0 && (w < 10 || w > 1000))) throw badValue('--blkio-weight-device', v, `invalid weight for device: ${v}`);
    return { Path: path, Weight: w };
  });
}

function uint16(o: RunOpts, k: string, flag: string): number {
  const v = str(o, k);
  if (v === undefined) return 0;
  if (!/^\d+$/.test(v)) throw badValue(flag, v, `strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
  if (Number(v) > 65535) throw badValue(flag, v, `strconv.ParseUint: parsing ${JSON.stringify(v)}: value out of range`);
  return Number(v);
}

/** The names go-units' ParseUlimit knows (`--ulimit cpus=1` is not one of them). */
const ULIMIT_NAMES = new Set(['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

function parseUint16(s: string): number | undefined {
  return /^\d+$/.test(s) && Number(s) <= 65535 ? Number(s) : undefined;
}

function parsePortRange(ports: string): [number, number] | undefined {
  if (ports === '') return undefined;
  const [a, b = a] = ports.split('-').map(parseUint16);
  return a === undefined || b === undefined || b < a || ports.split('-').length > 2 ? undefined : [a, b];
}

/** net.ParseIP's acceptance: dotted IPv4 or IPv6 with at most one `::`. */
function isIP(s: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) return v4.slice(1).every((o) => Number(o) <= 255);
  if (!/^[0-9a-fA-F:]+$/.test(s)) return false;
  const dbl = (s.match(/::/g) ?? []).length;
  const groups = s.split(':');
  if (dbl > 1 || groups.some((g) => g.length > 4)) return false;
  return dbl === 1 ? groups.length <= 8 : groups.length === 8;
}

/**
 * go-connections nat.ParsePortSpec for one -p value → [port/proto, binding][] (one per container port of a
 * range), with its error texts: `[ip:]hostPort:containerPort[/proto]`, IPv6 in brackets or bare, port ranges,
 * and a host range for one container port kept as a range (the daemon picks a free port in it).
 */
export function parsePortSpec(raw: string): Array<[string, { HostIp: string; HostPort: string }]> {
  const fail = (m: string): never => { throw new CliError(m, 125); };
  const parts = raw.split(':');
  const n = parts.length;
  let ctr = parts[n - 1]!;
  let ip = n >= 3 ? parts.slice(0, n - 2).join(':') : '';
  let hostPort = n >= 2 ? parts[n - 2]! : '';
  const slash = ctr.split('/');
  let proto = ctr === '' || slash[0] === '' ? '' : slash.length === 1 || slash[1] === '' ? 'tcp' : slash[1]!;
  ctr = ctr === '' || slash[0] === '' ? '' : slash[0]!;
  if (ip.startsWith('[')) {
    if (!ip.endsWith(']')) fail(`Invalid ip address ${ip}: address ${ip}:: missing ']' in address`);
    ip = ip.slice(1, -1);
  }
  if (ip !== '' && !isIP(ip)) fail(`Invalid ip address: ${ip}`);
  if (ctr === '') fail(`No port specified: ${raw}<empty>`);
  const cr = parsePortRange(ctr) ?? fail(`Invalid containerPort: ${ctr}`);
  const hr = hostPort === '' ? [0, 0] : parsePortRange(hostPort) ?? fail(`Invalid hostPort: ${hostPort}`);
  if (hostPort !== '' && cr[1] - cr[0] !== hr[1]! - hr[0]! && cr[1] !== cr[0]) {
    fail(`Invalid ranges specified for container and host Ports: ${ctr} and ${hostPort}`);
  }
  proto = proto.toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(proto)) fail(`Invalid proto: ${proto}`);
  const out: Array<[string, { HostIp: string; HostPort: string }]> = [];
  for (let i = 0; i <= cr[1] - cr[0]; i++) {
    if (hostPort !== '') hostPort = String(hr[0]! + i);
    if (cr[0] === cr[1] && hr[0] !== hr[1]) hostPort = `${hostPort}-${hr[1]}`;
    out.push([`${cr[0] + i}/${proto}`, { HostIp: ip, HostPort: hostPort }]);
  }
  return out;
}

function parseMount(v: string): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  let type = 'volume';
  let ro = false;
  const bind: Record<string, unknown> = {};
  const vol: Record<string, unknown> = {};
  const tmpfs: Record<string, unknown> = {};
  let source: string | undefined;
  let target: string | undefined;
  let consistency: string | undefined;
  for (const field of v.split(',')) {
    const i = field.indexOf('=');
    const key = (i < 0 ? field : field.slice(0, i)).toLowerCase();
    const val = i < 0 ? undefined : field.slice(i + 1);
    if (val === undefined && !['readonly', 'ro', 'volume-nocopy'].includes(key)) throw badValue('--mount', v, `invalid field '${field}' must be a key=value pair`);
    switch (key) {
      case 'type': type = val!; break;
      case 'source': case 'src': source = val; break;
      case 'target': case 'dst': case 'destination': target = val; break;
      case 'readonly': case 'ro': ro = val === undefined || ['1', 'true'].includes(val.toLowerCase()); break;
      case 'consistency': consistency = val; break;
      case 'bind-propagation': bind.Propagation = val; break;
      case 'bind-nonrecursive': bind.NonRecursive = val === 'true' || val === '1'; break;
      case 'volume-nocopy': vol.NoCopy = val === undefined || val === 'true' || val === '1'; break;
      case 'volume-driver': vol.DriverConfig = { ...(vol.DriverConfig as object), Name: val }; break;
      case 'volume-label': { const [a, b = ''] = val!.split(/=(.*)/s); vol.Labels = { ...(vol.Labels as object), [a!]: b }; break; }
      case 'volume-opt': { const [a, b = ''] = val!.split(/=(.*)/s); const dc = (vol.DriverConfig ?? {}) as Record<string, unknown>; vol.DriverConfig = { ...dc, Options: { ...(dc.Options as object), [a!]: b } }; break; }
      case 'tmpfs-size': tmpfs.SizeBytes = memBytes('--mount', val!); break;
      case 'tmpfs-mode': tmpfs.Mode = Number.parseInt(val!, 8); break;
      default: throw badValue('--mount', v, `unexpected key '${key}' in '${field}'`);
    }
  }
  m.Type = type;
  if (source !== undefined) m.Source = source;
  if (target !== undefined) m.Target = target;
  if (ro) m.ReadOnly = true;
  if (consistency) m.Consistency = consistency;
  if (Object.keys(bind).length) m.BindOptions = bind;
  if (Object.keys(vol).length) m.VolumeOptions = vol;
  if (Object.keys(tmpfs).length) m.TmpfsOptions = tmpfs;
  if (!type) throw badValue('--mount', v, 'type is required');
  if (!target) throw badValue('--mount', v, 'target is required');
  for (const [opts, kind] of [[m.VolumeOptions, 'volume'], [m.BindOptions, 'bind'], [m.TmpfsOptions, 'tmpfs']] as const) {
    if (opts && type !== kind) throw badValue('--mount', v, `cannot mix '${kind}-*' options with mount type '${type}'`);
  }
  return m;
}

export function readKvFile(path: string, withEnv: boolean): string[] {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch { throw new CliError(`open ${path}: no such file or directory`, 125); }
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^\s+/, '').replace(/\r$/, '');
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf('=');
    if (i < 0 && withEnv) {
      const val = process.env[line.trimEnd()];
      if (val !== undefined) out.push(`${line.trimEnd()}=${val}`);
      continue;
    }
    out.push(line);
  }
  return out;
}

/** Builds the create request from parsed flags, the image and the command; throws CliError (125). */
export function buildCreate(o: RunOpts, image: string, cmd: string[], detachForRun = false): CreateRequest {
  const attach = list(o, 'attach').map((s) => s.toLowerCase());
  for (const a of attach) if (!['stdin', 'stdout', 'stderr'].includes(a)) throw badValue('-a, --attach', a, `valid streams are STDIN, STDOUT and STDERR`);
  let attachStdin = attach.includes('stdin');
  let attachStdout = attach.includes('stdout');
  let attachStderr = attach.includes('stderr');
  const interactive = o.interactive === true;
  if (interactive) attachStdin = true;
  if (!attach.length) { attachStdout = true; attachStderr = true; }

  // env
  const envFlags = list(o, 'env').map((e) => {
    if (e.includes('=')) return e;
    const v = process.env[e];
    return v !== undefined ? `${e}=${v}` : e;
  });
  const env = [...list(o, 'envFile').flatMap((f) => readKvFile(f, true)), ...envFlags];
  const labels = sortedMap([...list(o, 'labelFile').flatMap((f) => readKvFile(f, false)), ...list(o, 'label')].map((l) => {
    const i = l.indexOf('=');
    return (i < 0 ? [l, ''] : [l.slice(0, i), l.slice(i + 1)]) as [string, string];
  }));

  // ports
  const exposed: Array<[string, object]> = [];
  const bindings = new Map<string, Array<{ HostIp: string; HostPort: string }>>();
  for (const p of list(o, 'publish')) {
    for (const [port, b] of parsePortSpec(p)) {
      exposed.push([port, {}]);
      if (!bindings.has(port)) bindings.set(port, []);
      bindings.get(port)!.push(b);
    }
  }
  for (const e of list(o, 'expose')) {
    const [ports, proto = 'tcp'] = e.split('/');
    const r = /^(\d+)(?:-(\d+))?$/.exec(ports!);
    if (!r) throw new CliError(`invalid range format for --expose: ${e}, error: strconv.ParseUint: parsing "${ports}": invalid syntax`, 125);
    for (let i = Number(r[1]); i <= Number(r[2] ?? r[1]); i++) exposed.push([`${i}/${proto}`, {}]);
  }

  // volumes
  const binds: string[] = [];
  const volumes: Array<[string, object]> = [];
  for (const v of list(o, 'volume')) {
    const parts = v.split(':');
    if (parts.length > 1 && parts[1] !== '') binds.push(v);
    else volumes.push([v, {}]);
  }
  const mounts = list(o, 'mount').map(parseMount);
  const tmpfs = sortedMap(list(o, 'tmpfs').map((t) => {
    const i = t.indexOf(':');
    return (i < 0 ? [t, ''] : [t.slice(0, i), t.slice(i + 1)]) as [string, string];
  }));

  // restart
  const restartRaw = str(o, 'restart') ?? 'no';
  const restart = { Name: '', MaximumRetryCount: 0 };
  if (restartRaw !== '') {
    const parts = restartRaw.split(':');
    if (parts.length > 2) throw new CliError('invalid restart policy format', 125);
    if (parts.length === 2) {
      if (!/^[-+]?\d+$/.test(parts[1]!)) throw new CliError('maximum retry count must be an integer', 125);
      restart.MaximumRetryCount = Number(parts[1]);
    }
    restart.Name = parts[0]!;
  }
  if (o.rm === true && restart.Name !== 'no' && restart.Name !== '') throw new CliError('Conflicting options: --restart and --rm', 125);

  const ulimits = list(o, 'ulimit').map((u) => {
    const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(u);
    if (!m) throw badValue('--ulimit', u, `invalid ulimit argument: ${u}`);
    if (!ULIMIT_NAMES.has(m[1]!)) throw badValue('--ulimit', u, `invalid ulimit type: ${m[1]}`);
    const soft = Number(m[2]);
    const hard = Number(m[3] ?? m[2]);
    if (soft > hard) throw badValue('--ulimit', u, `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
    return { Name: m[1]!, Hard: hard, Soft: soft };
  });
  const logOpts = sortedMap(list(o, 'logOpt').map((l) => {
    const i = l.indexOf('=');
    if (i < 0) throw badValue('--log-opt', l, `invalid key value pair format: ${l}`);
    return [l.slice(0, i), l.slice(i + 1)] as [string, string];
  }));
  for (const h of list(o, 'addHost')) {
    if (!/^[^:]+:.+$/.test(h)) throw badValue('--add-host', h, `bad format for add-host: "${h}"`);
  }

  const memory = str(o, 'memory') !== undefined ? memBytes('-m, --memory', str(o, 'memory')!) : 0;
  const swapRaw = str(o, 'memorySwap');
  const memorySwap = swapRaw === undefined ? 0 : swapRaw === '-1' ? -1 : memBytes('--memory-swap', swapRaw);
  const nanoCpus = str(o, 'cpus') !== undefined ? parseCpus(str(o, 'cpus')!) : 0;
  const int = (k: string, flag: string, d: number): number => (str(o, k) !== undefined ? parseInt64(flag, str(o, k)!) : d);
  const shm = str(o, 'shmSize') !== undefined ? memBytes('--shm-size', str(o, 'shmSize')!) : 0;
  const network = str(o, 'network') ?? str(o, 'net') ?? 'default';

  let entrypoint: string[] | null = null;
  if (o.entrypoint !== undefined) entrypoint = [str(o, 'entrypoint') ?? ''];
  const stdinOnce = interactive && attachStdin && !o.detach;

  const sysctls = sortedMap(list(o, 'sysctl').map((s) => { const i = s.indexOf('='); return [s.slice(0, i), s.slice(i + 1)] as [string, string]; }));
  const devices = list(o, 'device').map((d) => {
    const [src, dst, perm] = d.split(':');
    return { PathOnHost: src!, PathInContainer: dst && !/^[rwm]+$/.test(dst) ? dst : src!, CgroupPermissions: perm ?? (dst && /^[rwm]+$/.test(dst) ? dst : 'rwm') };
  });

  const config: Record<string, unknown> = {
    Hostname: str(o, 'hostname') ?? '',
    Domainname: str(o, 'domainname') ?? '',
    User: str(o, 'user') ?? '',
    AttachStdin: detachForRun ? false : attachStdin,
    AttachStdout: detachForRun ? false : attachStdout,
    AttachStderr: detachForRun ? false : attachStderr,
  };
  if (exposed.length) config.ExposedPorts = sortedMap(exposed);
  Object.assign(config, {
    Tty: o.tty === true,
    OpenStdin: interactive,
    StdinOnce: detachForRun ? false : stdinOnce,
    Env: env.length ? env : null,
    Cmd: cmd.length ? cmd : null,
  });
  const health = healthcheck(o);
  if (health) config.Healthcheck = health;
  Object.assign(config, {
    Image: image,
    Volumes: sortedMap(volumes),
    WorkingDir: str(o, 'workdir') ?? '',
    Entrypoint: entrypoint,
  });
  if (str(o, 'macAddress')) config.MacAddress = str(o, 'macAddress');
  Object.assign(config, { OnBuild: null, Labels: labels });
  if (str(o, 'stopSignal')) config.StopSignal = str(o, 'stopSignal');
  if (str(o, 'stopTimeout') !== undefined) config.StopTimeout = parseInt64('--stop-timeout', str(o, 'stopTimeout')!);

  const hc: Record<string, unknown> = {
    Binds: binds.length ? binds : null,
    ContainerIDFile: str(o, 'cidfile') ?? '',
    LogConfig: { Type: str(o, 'logDriver') ?? '', Config: logOpts },
    NetworkMode: network,
    PortBindings: sortedMap([...bindings]),
    RestartPolicy: restart,
    AutoRemove: o.rm === true,
    VolumeDriver: str(o, 'volumeDriver') ?? '',
    VolumesFrom: list(o, 'volumesFrom').length ? list(o, 'volumesFrom') : null,
    CapAdd: list(o, 'capAdd').length ? list(o, 'capAdd') : null,
    CapDrop: list(o, 'capDrop').length ? list(o, 'capDrop') : null,
    CgroupnsMode: str(o, 'cgroupns') ?? '',
    Dns: list(o, 'dns'),
    DnsOptions: list(o, 'dnsOption'),
    DnsSearch: list(o, 'dnsSearch'),
    ExtraHosts: list(o, 'addHost').length ? list(o, 'addHost') : null,
    GroupAdd: list(o, 'groupAdd').length ? list(o, 'groupAdd') : null,
    IpcMode: str(o, 'ipc') ?? '',
    Cgroup: '',
    Links: list(o, 'link').length ? list(o, 'link') : null,
    OomScoreAdj: int('oomScoreAdj', '--oom-score-adj', 0),
    PidMode: str(o, 'pid') ?? '',
    Privileged: o.privileged === true,
    PublishAllPorts: o.publishAll === true,
    ReadonlyRootfs: o.readOnly === true,
    SecurityOpt: list(o, 'securityOpt').length ? list(o, 'securityOpt') : null,
  };
  if (list(o, 'storageOpt').length) hc.StorageOpt = sortedMap(list(o, 'storageOpt').map((s) => { const i = s.indexOf('='); return [s.slice(0, i), s.slice(i + 1)] as [string, string]; }));
  if (Object.keys(tmpfs).length) hc.Tmpfs = tmpfs;
  Object.assign(hc, { UTSMode: str(o, 'uts') ?? '', UsernsMode: str(o, 'userns') ?? '', ShmSize: shm });
  if (Object.keys(sysctls).length) hc.Sysctls = sysctls;
  if (str(o, 'runtime')) hc.Runtime = str(o, 'runtime');
  Object.assign(hc, {
    ConsoleSize: [0, 0],
    Isolation: str(o, 'isolation') ?? '',
    CpuShares: int('cpuShares', '-c, --cpu-shares', 0),
    Memory: memory,
    NanoCpus: nanoCpus,
    CgroupParent: str(o, 'cgroupParent') ?? '',
    BlkioWeight: uint16(o, 'blkioWeight', '--blkio-weight'),
    BlkioWeightDevice: weightDevices(o),
    BlkioDeviceReadBps: throttleDevices(o, 'deviceReadBps', '--device-read-bps', true),
    BlkioDeviceWriteBps: throttleDevices(o, 'deviceWriteBps', '--device-write-bps', true),
    BlkioDeviceReadIOps: throttleDevices(o, 'deviceReadIops', '--device-read-iops', false),
    BlkioDeviceWriteIOps: throttleDevices(o, 'deviceWriteIops', '--device-write-iops', false),
    CpuPeriod: int('cpuPeriod', '--cpu-period', 0),
    CpuQuota: int('cpuQuota', '--cpu-quota', 0),
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: str(o, 'cpusetCpus') ?? '',
    CpusetMems: str(o, 'cpusetMems') ?? '',
    Devices: devices,
    DeviceCgroupRules: null,
    DeviceRequests: null,
    KernelMemory: 0,
    KernelMemoryTCP: 0,
    MemoryReservation: str(o, 'memoryReservation') !== undefined ? memBytes('--memory-reservation', str(o, 'memoryReservation')!) : 0,
    MemorySwap: memorySwap,
    MemorySwappiness: int('memorySwappiness', '--memory-swappiness', -1),
    OomKillDisable: o.oomKillDisable === true,
    PidsLimit: int('pidsLimit', '--pids-limit', 0),
    Ulimits: ulimits.length ? ulimits : null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
  });
  if (mounts.length) hc.Mounts = mounts;
  Object.assign(hc, { MaskedPaths: null, ReadonlyPaths: null });
  if (o.init !== undefined) hc.Init = o.init === true;

  const endpoints: Record<string, unknown> = {};
  const aliases = list(o, 'networkAlias');
  if ((aliases.length || str(o, 'ip')) && network !== 'default') {
    const ep: Record<string, unknown> = {};
    if (str(o, 'ip')) ep.IPAMConfig = { IPv4Address: str(o, 'ip') };
    if (aliases.length) ep.Aliases = aliases;
    endpoints[network] = ep;
  }
  const body = { ...config, HostConfig: hc, NetworkingConfig: { EndpointsConfig: endpoints } };
  const req: CreateRequest = { body };
  if (str(o, 'name') !== undefined) req.name = str(o, 'name')!;
  if (str(o, 'platform')) req.platform = str(o, 'platform')!;
  return req;
}

function healthcheck(o: RunOpts): Record<string, unknown> | undefined {
  if (o.noHealthcheck === true) return { Test: ['NONE'] };
  const cmd = str(o, 'healthCmd');
  const dur = (k: string, flag: string): number => {
    const v = str(o, k);
    if (v === undefined) return 0;
    const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(v);
    if (!m) throw badValue(flag, v, `time: invalid duration "${v}"`);
    const f: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
    return Math.round(Number(m[1]) * f[m[2]!]!);
  };
  const interval = dur('healthInterval', '--health-interval');
  const timeout = dur('healthTimeout', '--health-timeout');
  const start = dur('healthStartPeriod', '--health-start-period');
  const retries = str(o, 'healthRetries') !== undefined ? Number(str(o, 'healthRetries')) : 0;
  if (cmd === undefined && !interval && !timeout && !start && !retries) return undefined;
  const h: Record<string, unknown> = {};
  if (cmd !== undefined) h.Test = ['CMD-SHELL', cmd];
  if (interval) h.Interval = interval;
  if (timeout) h.Timeout = timeout;
  if (start) h.StartPeriod = start;
  if (retries) h.Retries = retries;
  return h;
}

