/**
 * berthd's command line and daemon.json, the way dockerd reads them: flags parsed by a small table
 * (no dependencies, so the daemon starts fast), the file validated key by key (inline checks for
 * scalars and lists, zod, which is slow to load, only for the nested keys), and dockerd's messages for unknown keys, bad values and flag/file conflicts.
 */
import { readFileSync } from 'node:fs';
import { goJsonError } from '../lib/index.ts';

/** A config error: berthd prints the message on stderr and exits 1. */
export class DaemonConfigError extends Error {
  override name = 'DaemonConfigError';
}

type Kind = 'bool' | 'string' | 'int' | 'list' | 'map' | 'runtime';

interface FlagDef {
  /** daemon.json key the flag sets. */
  key: string;
  kind: Kind;
  short?: string;
}

/** dockerd's flags berthd knows (flag name → daemon.json key). Networking flags are stored for the network work. */
const FLAGS: Record<string, FlagDef> = {
  host: { key: 'hosts', kind: 'list', short: 'H' },
  'data-root': { key: 'data-root', kind: 'string' },
  'exec-root': { key: 'exec-root', kind: 'string' },
  pidfile: { key: 'pidfile', kind: 'string', short: 'p' },
  'config-file': { key: 'config-file', kind: 'string' },
  debug: { key: 'debug', kind: 'bool', short: 'D' },
  'log-level': { key: 'log-level', kind: 'string', short: 'l' },
  'storage-driver': { key: 'storage-driver', kind: 'string', short: 's' },
  'storage-opt': { key: 'storage-opts', kind: 'list' },
  'default-runtime': { key: 'default-runtime', kind: 'string' },
  'add-runtime': { key: 'runtimes', kind: 'runtime' },
  'live-restore': { key: 'live-restore', kind: 'bool' },
  'init-path': { key: 'init-path', kind: 'string' },
  init: { key: 'init', kind: 'bool' },
  label: { key: 'labels', kind: 'list' },
  'log-driver': { key: 'log-driver', kind: 'string' },
  'log-opt': { key: 'log-opts', kind: 'map' },
  dns: { key: 'dns', kind: 'list' },
  'dns-search': { key: 'dns-search', kind: 'list' },
  'dns-opt': { key: 'dns-opts', kind: 'list' },
  'insecure-registry': { key: 'insecure-registries', kind: 'list' },
  'registry-mirror': { key: 'registry-mirrors', kind: 'list' },
  experimental: { key: 'experimental', kind: 'bool' },
  'cgroup-parent': { key: 'cgroup-parent', kind: 'string' },
  'exec-opt': { key: 'exec-opts', kind: 'list' },
  'max-concurrent-downloads': { key: 'max-concurrent-downloads', kind: 'int' },
  'max-concurrent-uploads': { key: 'max-concurrent-uploads', kind: 'int' },
  'max-download-attempts': { key: 'max-download-attempts', kind: 'int' },
  'shutdown-timeout': { key: 'shutdown-timeout', kind: 'int' },
  'default-shm-size': { key: 'default-shm-size', kind: 'string' },
  'no-new-privileges': { key: 'no-new-privileges', kind: 'bool' },
  group: { key: 'group', kind: 'string', short: 'G' },
  // networking, stored for the network work
  bip: { key: 'bip', kind: 'string' },
  bridge: { key: 'bridge', kind: 'string', short: 'b' },
  'fixed-cidr': { key: 'fixed-cidr', kind: 'string' },
  'fixed-cidr-v6': { key: 'fixed-cidr-v6', kind: 'string' },
  'default-gateway': { key: 'default-gateway', kind: 'string' },
  'default-gateway-v6': { key: 'default-gateway-v6', kind: 'string' },
  mtu: { key: 'mtu', kind: 'int' },
  icc: { key: 'icc', kind: 'bool' },
  iptables: { key: 'iptables', kind: 'bool' },
  ip6tables: { key: 'ip6tables', kind: 'bool' },
  'ip-forward': { key: 'ip-forward', kind: 'bool' },
  'ip-masq': { key: 'ip-masq', kind: 'bool' },
  ip: { key: 'ip', kind: 'string' },
  ipv6: { key: 'ipv6', kind: 'bool' },
  'userland-proxy': { key: 'userland-proxy', kind: 'bool' },
  'userland-proxy-path': { key: 'userland-proxy-path', kind: 'string' },
  'default-address-pool': { key: 'default-address-pools', kind: 'list' },
  help: { key: 'help', kind: 'bool', short: 'h' },
  version: { key: 'version', kind: 'bool', short: 'v' },
};

const SHORT = new Map(Object.entries(FLAGS).flatMap(([name, d]) => (d.short ? [[d.short, name] as const] : [])));

export interface ParsedFlags {
  /** Values by daemon.json key. */
  values: Record<string, unknown>;
  /** The flag text of each set key, for the conflict message (`bip` → `10.2.0.1/24`). */
  shown: Record<string, string>;
}

function parseBool(flag: string, v: string): boolean {
  if (/^(1|t|true|TRUE|True)$/.test(v)) return true;
  if (/^(0|f|false|FALSE|False)$/.test(v)) return false;
  throw new DaemonConfigError(`invalid argument "${v}" for "--${flag}" flag: strconv.ParseBool: parsing "${v}": invalid syntax\nSee 'berthd --help'.`);
}

/** Parse berthd's argv (without node and script). Throws DaemonConfigError with cobra/pflag's texts. */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  const values: Record<string, unknown> = {};
  const shown: Record<string, string> = {};
  const lists: Record<string, string[]> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let name: string | undefined;
    let inline: string | undefined;
    let shortForm = false;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) inline = arg.slice(eq + 1);
    } else if (arg.startsWith('-') && arg.length > 1) {
      shortForm = true;
      const s = arg[1]!;
      name = SHORT.get(s);
      if (!name) throw new DaemonConfigError(`unknown shorthand flag: '${s}' in ${arg}\nSee 'berthd --help'.`);
      if (arg.length > 2) inline = arg[2] === '=' ? arg.slice(3) : arg.slice(2);
    } else {
      throw new DaemonConfigError(`"berthd" accepts no arguments.\nSee 'berthd --help'.`);
    }
    const def = FLAGS[name];
    if (!def) throw new DaemonConfigError(`unknown flag: --${name}\nSee 'berthd --help'.`);
    let v: string;
    if (def.kind === 'bool') {
      v = inline ?? 'true';
      values[def.key] = parseBool(name, v);
      shown[def.key] = String(values[def.key]);
      continue;
    }
    if (inline !== undefined) v = inline;
    else {
      if (i + 1 >= argv.length) {
        throw new DaemonConfigError(`flag needs an argument: ${shortForm ? `'${def.short}' in -${def.short}` : `--${name}`}\nSee 'berthd --help'.`);
      }
      v = argv[++i]!;
    }
    switch (def.kind) {
      case 'string':
        values[def.key] = v;
        shown[def.key] = v;
        break;
      case 'int': {
        if (!/^-?\d+$/.test(v)) throw new DaemonConfigError(`invalid argument "${v}" for "--${name}" flag: strconv.ParseInt: parsing "${v}": invalid syntax\nSee 'berthd --help'.`);
        values[def.key] = Number(v);
        shown[def.key] = v;
        break;
      }
      case 'list':
        (lists[def.key] ??= []).push(v);
        values[def.key] = lists[def.key];
        shown[def.key] = `[${lists[def.key]!.join(' ')}]`;
        break;
      case 'map': {
        const eq = v.indexOf('=');
        if (eq <= 0) throw new DaemonConfigError(`invalid argument "${v}" for "--${name}" flag: invalid key value pair format\nSee 'berthd --help'.`);
        const m = (values[def.key] ??= {}) as Record<string, string>;
        m[v.slice(0, eq)] = v.slice(eq + 1);
        shown[def.key] = `map[${Object.entries(m).map(([k, x]) => `${k}:${x}`).join(' ')}]`;
        break;
      }
      case 'runtime': {
        const eq = v.indexOf('=');
        if (eq <= 0) throw new DaemonConfigError(`invalid argument "${v}" for "--${name}" flag: runtime must be in the form name=path\nSee 'berthd --help'.`);
        const m = (values[def.key] ??= {}) as Record<string, { path: string }>;
        m[v.slice(0, eq)] = { path: v.slice(eq + 1) };
        shown[def.key] = Object.keys(m).join(' ');
        break;
      }
    }
  }
  return { values, shown };
}

/** daemon.json keys dockerd (20.10/24) accepts, with the Go type named in its unmarshal errors. */
const FILE_KEYS: Record<string, string> = {
  'allow-nondistributable-artifacts': '[]string', 'api-cors-header': 'string', 'authorization-plugins': '[]string',
  bip: 'string', bridge: 'string', builder: 'config.BuilderConfig', 'cgroup-parent': 'string', 'cluster-advertise': 'string',
  'cluster-store': 'string', 'cluster-store-opts': 'map[string]string', containerd: 'string', 'containerd-namespace': 'string',
  'containerd-plugin-namespace': 'string', 'cpu-rt-period': 'int64', 'cpu-rt-runtime': 'int64', 'data-root': 'string',
  debug: 'bool', 'default-address-pools': '[]*ipamutils.NetworkToSplit', 'default-cgroupns-mode': 'string',
  'default-gateway': 'string', 'default-gateway-v6': 'string', 'default-ipc-mode': 'string', 'default-runtime': 'string',
  'default-shm-size': 'opts.MemBytes', 'default-ulimits': 'map[string]*units.Ulimit', dns: '[]string', 'dns-opts': '[]string',
  'dns-search': '[]string', 'exec-opts': '[]string', 'exec-root': 'string', experimental: 'bool', features: 'map[string]bool',
  'fixed-cidr': 'string', 'fixed-cidr-v6': 'string', group: 'string', 'host-gateway-ip': 'string', hosts: '[]string',
  icc: 'bool', init: 'bool', 'init-path': 'string', 'insecure-registries': '[]string', ip: 'string', 'ip-forward': 'bool',
  'ip-masq': 'bool', ip6tables: 'bool', iptables: 'bool', ipv6: 'bool', labels: '[]string', 'live-restore': 'bool',
  'log-driver': 'string', 'log-format': 'string', 'log-level': 'string', 'log-opts': 'map[string]string',
  'max-concurrent-downloads': 'int', 'max-concurrent-uploads': 'int', 'max-download-attempts': 'int', 'metrics-addr': 'string',
  mtu: 'int', 'network-control-plane-mtu': 'int', 'no-new-privileges': 'bool', 'node-generic-resources': '[]string',
  'oom-score-adjust': 'int', pidfile: 'string', 'raw-logs': 'bool', 'registry-mirrors': '[]string', rootless: 'bool',
  runtimes: 'map[string]types.Runtime', 'seccomp-profile': 'string', 'selinux-enabled': 'bool', 'shutdown-timeout': 'int',
  'storage-driver': 'string', 'storage-opts': '[]string', 'swarm-default-advertise-addr': 'string', tls: 'bool',
  tlscacert: 'string', tlscert: 'string', tlskey: 'string', tlsverify: 'bool', 'userland-proxy': 'bool',
  'userland-proxy-path': 'string', 'userns-remap': 'string',
};

function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v === 'boolean' ? 'bool' : typeof v;
}

/**
 * Read and validate daemon.json. Returns undefined when the file is absent and `required` is false
 * (the default path). Errors carry dockerd's text: `unable to configure the Docker daemon with file …`.
 */
export async function loadConfigFile(path: string, required: boolean): Promise<Record<string, unknown> | undefined> {
  const prefix = `unable to configure the Docker daemon with file ${path}: `;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return undefined;
    throw new DaemonConfigError(prefix + `open ${path}: ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  if (text.trim() === '') return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new DaemonConfigError(prefix + goJsonError(text, false));
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new DaemonConfigError(prefix + `json: cannot unmarshal ${jsonKind(raw)} into Go value of type map[string]interface {}`);
  }
  const obj = raw as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => !(k in FILE_KEYS));
  if (unknown.length) throw new DaemonConfigError(prefix + `the following directives don't match any configuration option: ${unknown.join(', ')}`);
  const bad = (k: string, v: unknown, goType: string): DaemonConfigError => {
    const what = typeof v === 'number' && goType.startsWith('int') ? `number ${v}` : jsonKind(v);
    return new DaemonConfigError(prefix + `json: cannot unmarshal ${what} into Go struct field Config.${k} of type ${goType}`);
  };
  // The common scalar and list keys are checked inline; zod (slow to load) only for the nested ones.
  const simple: Record<string, (v: unknown) => boolean> = {
    string: (v) => typeof v === 'string',
    bool: (v) => typeof v === 'boolean',
    int: (v) => Number.isInteger(v),
    int64: (v) => Number.isInteger(v),
    '[]string': (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
    'map[string]string': (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string'),
  };
  const nested: [string, unknown, string][] = [];
  for (const [k, v] of Object.entries(obj)) {
    const goType = FILE_KEYS[k]!;
    const check = simple[goType];
    if (check) {
      if (!check(v)) throw bad(k, v, goType);
    } else nested.push([k, v, goType]);
  }
  if (nested.length) {
    const { z } = await import('zod');
    const str = z.string();
    const int = z.number().int();
    const byType: Record<string, import('zod').ZodType> = {
      'map[string]bool': z.record(z.string(), z.boolean()),
      'map[string]types.Runtime': z.record(z.string(), z.object({ path: z.string(), runtimeArgs: z.array(str).optional() })),
      'map[string]*units.Ulimit': z.record(z.string(), z.object({ Name: str, Hard: int, Soft: int })),
      'opts.MemBytes': z.union([str, int]),
      '[]*ipamutils.NetworkToSplit': z.array(z.object({ base: str, size: int })),
      'config.BuilderConfig': z.record(z.string(), z.unknown()),
    };
    for (const [k, v, goType] of nested) {
      const schema = byType[goType];
      if (schema && !schema.safeParse(v).success) throw bad(k, v, goType);
    }
  }
  return obj;
}

/** dockerd's refusal when a key is set by a flag and in the file. */
export function checkConflicts(flags: ParsedFlags, file: Record<string, unknown>, path: string): void {
  const both = Object.keys(flags.values).filter((k) => k in file && k !== 'config-file');
  if (!both.length) return;
  const fmt = (v: unknown): string => (Array.isArray(v) ? `[${v.join(' ')}]` : typeof v === 'object' && v ? JSON.stringify(v) : String(v));
  const parts = both.map((k) => `${k}: (from flag: ${flags.shown[k] ?? fmt(flags.values[k])}, from file: ${fmt(file[k])})`);
  throw new DaemonConfigError(`unable to configure the Docker daemon with file ${path}: the following directives are specified both as a flag and in the configuration file: ${parts.join(', ')}`);
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** The daemon's effective settings. */
export interface DaemonSettings {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  configFile: string;
  debug: boolean;
  logLevel: LogLevel;
  storageDriver: string;
  defaultRuntime: string;
  runtimes: Record<string, { path: string; runtimeArgs?: string[] }>;
  liveRestore: boolean;
  /** daemon.json "init": run an init in every container by default. */
  init: boolean;
  initPath: string;
  labels: string[];
  logDriver: string;
  logOpts: Record<string, string>;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  insecureRegistries: string[];
  registryMirrors: string[];
  experimental: boolean;
  cgroupParent: string;
  /** `exec-opts` native.cgroupdriver: cgroupfs (default) or systemd. */
  cgroupDriver: 'cgroupfs' | 'systemd';
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  shutdownTimeout: number;
  /** Networking keys (bip, bridge, icc, iptables, …) as given, for the network work. */
  network: Record<string, unknown>;
}

export const DEFAULT_SOCKET = 'unix:///run/berth/berth.sock';
export const DEFAULT_CONFIG_FILE = '/etc/berth/daemon.json';

const NETWORK_KEYS = ['bip', 'bridge', 'fixed-cidr', 'fixed-cidr-v6', 'default-gateway', 'default-gateway-v6', 'mtu', 'icc', 'iptables',
  'ip6tables', 'ip-forward', 'ip-masq', 'ip', 'ipv6', 'userland-proxy', 'userland-proxy-path', 'default-address-pools', 'host-gateway-ip'];

function parseLogLevel(v: string): LogLevel {
  const m: Record<string, LogLevel> = { debug: 'debug', info: 'info', warn: 'warn', warning: 'warn', error: 'error', fatal: 'fatal', panic: 'fatal' };
  const l = m[v.toLowerCase()];
  if (!l) throw new DaemonConfigError(`unable to parse logging level: ${v}`);
  return l;
}

/** Merge flags over file over defaults and check the values. */
export function resolveSettings(flags: ParsedFlags, file: Record<string, unknown>, findBinary: (name: string) => string | undefined): DaemonSettings {
  const c = { ...file, ...flags.values } as Record<string, any>;
  const execRoot: string = c['exec-root'] ?? '/run/berth';
  const storage: string = c['storage-driver'] ?? 'overlay2';
  if (storage !== 'overlay2') throw new DaemonConfigError(`error initializing graphdriver: driver not supported: ${storage} (berth supports overlay2 only)`);
  const runtimes: DaemonSettings['runtimes'] = { runc: { path: findBinary('runc') ?? 'runc' } };
  for (const [name, r] of Object.entries((c.runtimes ?? {}) as Record<string, { path: string; runtimeArgs?: string[] }>)) {
    if (name === 'runc') throw new DaemonConfigError(`runtime name 'runc' is reserved`);
    runtimes[name] = r.runtimeArgs ? { path: r.path, runtimeArgs: r.runtimeArgs } : { path: r.path };
  }
  const defaultRuntime: string = c['default-runtime'] ?? 'runc';
  if (!(defaultRuntime in runtimes)) throw new DaemonConfigError(`specified default runtime '${defaultRuntime}' does not exist`);
  const hosts: string[] = c.hosts?.length ? c.hosts : [DEFAULT_SOCKET];
  for (const h of hosts) parseHost(h);
  const network: Record<string, unknown> = {};
  for (const k of NETWORK_KEYS) if (k in c) network[k] = c[k];
  for (const l of (c.labels ?? []) as string[]) {
    if (!l.includes('=')) throw new DaemonConfigError(`bad attribute format: ${l}`);
  }
  const debug = c.debug === true;
  let cgroupDriver: DaemonSettings['cgroupDriver'] = 'cgroupfs';
  for (const o of (c['exec-opts'] ?? []) as string[]) {
    const eq = o.indexOf('=');
    const k = (eq < 0 ? o : o.slice(0, eq)).trim().toLowerCase();
    const v = eq < 0 ? '' : o.slice(eq + 1).trim();
    if (k !== 'native.cgroupdriver') throw new DaemonConfigError(`failed to start daemon: unknown option ${k}`);
    if (v !== 'cgroupfs' && v !== 'systemd') throw new DaemonConfigError(`failed to start daemon: native.cgroupdriver option ${v} not supported`);
    cgroupDriver = v;
  }
  const cgroupParent: string = c['cgroup-parent'] ?? '';
  if (cgroupDriver === 'systemd' && cgroupParent && !cgroupParent.endsWith('.slice')) {
    throw new DaemonConfigError('cgroup-parent for systemd cgroup should be a valid slice named as "xxx.slice"');
  }
  return {
    hosts,
    dataRoot: c['data-root'] ?? '/var/lib/berth',
    execRoot,
    pidfile: c.pidfile ?? `${execRoot}/berthd.pid`,
    configFile: c['config-file'] ?? DEFAULT_CONFIG_FILE,
    debug,
    logLevel: debug ? 'debug' : parseLogLevel(c['log-level'] ?? 'info'),
    storageDriver: storage,
    defaultRuntime,
    runtimes,
    liveRestore: c['live-restore'] === true,
    init: c.init === true,
    initPath: c['init-path'] ?? findBinary('docker-init') ?? findBinary('tini-static') ?? '/usr/bin/tini-static',
    labels: c.labels ?? [],
    logDriver: c['log-driver'] ?? 'json-file',
    logOpts: c['log-opts'] ?? {},
    dns: c.dns ?? [],
    dnsSearch: c['dns-search'] ?? [],
    dnsOptions: c['dns-opts'] ?? [],
    insecureRegistries: c['insecure-registries'] ?? [],
    registryMirrors: c['registry-mirrors'] ?? [],
    experimental: c.experimental === true,
    cgroupParent,
    cgroupDriver,
    maxConcurrentDownloads: c['max-concurrent-downloads'] ?? 3,
    maxConcurrentUploads: c['max-concurrent-uploads'] ?? 5,
    shutdownTimeout: c['shutdown-timeout'] ?? 15,
    network,
  };
}

export type HostAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** `unix:///path`, `tcp://host:port` (dockerd's -H forms; `fd://` needs systemd socket activation: refused). */
export function parseHost(h: string): HostAddress {
  if (h.startsWith('unix://')) {
    const path = h.slice(7) || '/run/berth/berth.sock';
    return { kind: 'unix', path };
  }
  if (h.startsWith('/')) return { kind: 'unix', path: h };
  if (h.startsWith('fd://')) throw new DaemonConfigError(`-H ${h}: systemd socket activation (fd://) is not supported by berthd; use unix:// or tcp://`);
  const m = /^(?:tcp:\/\/)?(\[[0-9a-fA-F:]+\]|[^:/]*)?(?::(\d+))?\/?$/.exec(h);
  if (!m || (!h.startsWith('tcp://') && h.includes('://'))) throw new DaemonConfigError(`Invalid bind address format: ${h}`);
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = m[2] ? Number(m[2]) : 2375;
  if (port < 1 || port > 65535) throw new DaemonConfigError(`Invalid bind address format: ${h}`);
  return { kind: 'tcp', host, port };
}

/** What SIGHUP may change (dockerd's reloadable options), read again from the file. */
export const RELOADABLE = ['debug', 'log-level', 'labels', 'live-restore', 'registry-mirrors', 'insecure-registries', 'default-runtime',
  'runtimes', 'max-concurrent-downloads', 'max-concurrent-uploads', 'max-download-attempts', 'shutdown-timeout'] as const;

export const USAGE = `Usage:	berthd [OPTIONS]

A Docker-compatible container engine

Options:
      --add-runtime runtime          Register an additional OCI compatible runtime (name=path)
  -b, --bridge string                Attach containers to a network bridge
      --bip string                   Specify network bridge IP
      --config-file string           Daemon configuration file (default "${DEFAULT_CONFIG_FILE}")
      --data-root string             Root directory of persistent berth state (default "/var/lib/berth")
  -D, --debug                        Enable debug mode
      --default-runtime string       Default OCI runtime for containers (default "runc")
      --exec-root string             Root directory for execution state files (default "/run/berth")
  -H, --host list                    Daemon socket(s) to connect to (default ${DEFAULT_SOCKET})
      --icc                          Enable inter-container communication (default true)
      --init-path string             Path to the docker-init binary
      --insecure-registry list       Enable insecure registry communication
      --iptables                     Enable addition of iptables rules (default true)
      --label list                   Set key=value labels to the daemon
      --live-restore                 Enable live restore of docker when containers are still running
  -l, --log-level string             Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")
  -p, --pidfile string               Path to use for daemon PID file (default "/run/berth/berthd.pid")
      --registry-mirror list         Preferred registry mirror
  -s, --storage-driver string        Storage driver to use (overlay2)
  -v, --version                      Print version information and quit
`;
