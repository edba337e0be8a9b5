/**
 * Published ports: Docker's `-p` grammar (go-connections nat.ParsePortSpec, same error texts), `-P`,
 * the host-port allocator (ephemeral 32768-60999, Docker's "already allocated" error) and the
 * display strings of `docker ps` (PORTS) and `docker port`.
 */
import { InvalidArgumentError, ConflictError } from '../lib/index.ts';
import { parseIPv4 } from './ipam.ts';

export interface PortBinding { HostIp: string; HostPort: string }
/** API HostConfig.PortBindings: "80/tcp" → bindings. */
export type PortMap = Record<string, PortBinding[]>;

export interface PortMapping { port: string; binding: PortBinding }

function parseUint16(s: string): number | undefined {
  return /^\d+$/.test(s) && Number(s) <= 65535 ? Number(s) : undefined;
}

function parsePortRange(ports: string): [number, number] | undefined {
  if (ports === '') return undefined;
  if (!ports.includes('-')) {
    const n = parseUint16(ports);
    return n === undefined ? undefined : [n, n];
  }
  const parts = ports.split('-');
  const a = parseUint16(parts[0]!);
  const b = parseUint16(parts[1]!);
  if (a === undefined || b === undefined || b < a) return undefined;
  return [a, b];
}

function splitProtoPort(raw: string): [string, string] {
  const parts = raw.split('/');
  if (raw === '' || parts[0] === '') return ['', ''];
  if (parts.length === 1) return ['tcp', raw];
  if (parts[1] === '') return ['tcp', parts[0]!];
  return [parts[1]!, parts[0]!];
}

function isIP(s: string): boolean {
  if (parseIPv4(s) !== undefined) return true;
  if (!/^[0-9a-fA-F:]+$/.test(s)) return false;
  const dbl = (s.match(/::/g) ?? []).length;
  const groups = s.split(':');
  if (dbl > 1 || groups.some((g) => g.length > 4)) return false;
  return dbl === 1 ? groups.length <= 8 : groups.length === 8;
}

/** One `-p` value → mappings (one per container port of a range). */
export function parsePortSpec(raw: string): PortMapping[] {
  const parts = raw.split(':');
  const n = parts.length;
  let ctr = parts[n - 1]!;
  let ip = n >= 3 ? parts.slice(0, n - 2).join(':') : '';
  let hostPort = n >= 2 ? parts[n - 2]! : '';
  let proto: string;
  [proto, ctr] = splitProtoPort(ctr);
  if (ip.startsWith('[')) {
    if (!ip.endsWith(']')) throw new InvalidArgumentError(`Invalid ip address ${ip}: address ${ip}:: missing ']' in address`);
    ip = ip.slice(1, -1);
  }
  if (ip !== '' && !isIP(ip)) throw new InvalidArgumentError(`Invalid ip address: ${ip}`);
  if (ctr === '') throw new InvalidArgumentError(`No port specified: ${raw}<empty>`);
  const cr = parsePortRange(ctr);
  if (!cr) throw new InvalidArgumentError(`Invalid containerPort: ${ctr}`);
  let hr: [number, number] = [0, 0];
  if (hostPort !== '') {
    const r = parsePortRange(hostPort);
    if (!r) throw new InvalidArgumentError(`Invalid hostPort: ${hostPort}`);
    hr = r;
  }
  if (hostPort !== '' && cr[1] - cr[0] !== hr[1] - hr[0] && cr[1] !== cr[0]) {
    throw new InvalidArgumentError(`Invalid ranges specified for container and host Ports: ${ctr} and ${hostPort}`);
  }
  proto = proto.toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new InvalidArgumentError(`Invalid proto: ${proto}`);
  const out: PortMapping[] = [];
  for (let i = 0; i <= cr[1] - cr[0]; i++) {
    if (hostPort !== '') hostPort = String(hr[0] + i);
    if (cr[0] === cr[1] && hr[0] !== hr[1]) hostPort = `${hostPort}-${hr[1]}`;
    out.push({ port: `${cr[0] + i}/${proto}`, binding: { HostIp: ip, HostPort: hostPort } });
  }
  return out;
}

/** All `-p` values → ExposedPorts + PortBindings, as the CLI sends them. */
export function parsePublish(specs: string[]): { exposed: Record<string, object>; bindings: PortMap } {
  const exposed: Record<string, object> = {};
  const bindings: PortMap = {};
  for (const s of specs) {
    for (const m of parsePortSpec(s)) {
      exposed[m.port] = {};
      (bindings[m.port] ??= []).push(m.binding);
    }
  }
  return { exposed, bindings };
}

/** dockerd's check of HostConfig.PortBindings (create): `invalid port specification: "eighty"` (400). */
export function validatePortBindings(bindings: PortMap): void {
  for (const [key, list] of Object.entries(bindings)) {
    const port = splitProtoPort(key)[1];
    if (port !== '' && parseUint16(port) === undefined) throw new InvalidArgumentError(`invalid port specification: ${JSON.stringify(port)}`);
    for (const b of list ?? []) {
      const hp = splitProtoPort(b.HostPort ?? '')[1];
      if (hp !== '' && !parsePortRange(hp)) throw new InvalidArgumentError(`invalid port specification: ${JSON.stringify(b.HostPort)}`);
    }
  }
}

/** `-P`: every exposed port without an explicit binding gets a random host port (daemon side). */
export function publishAll(exposed: Iterable<string>, bindings: PortMap): PortMap {
  const out: PortMap = { ...bindings };
  for (const p of exposed) if (!out[p]?.length) out[p] = [{ HostIp: '', HostPort: '' }];
  return out;
}

export const EPHEMERAL_START = 32768;
export const EPHEMERAL_END = 60999;

/** Persistable allocator state: `proto/ip` → ports in use, plus the last dynamic port per proto. */
export interface PortAllocatorState { used: Record<string, number[]>; last: Record<string, number> }

const WILD = new Set(['', '0.0.0.0', '::']);

/**
 * Host port allocation. A port is taken on (ip, proto); a wildcard address clashes with every
 * address of its family. Dynamic ports run round-robin from after the last one handed out, as
 * dockerd's portallocator does (32768, 32769, …).
 */
export class PortAllocator {
  state: PortAllocatorState;
  constructor(state?: PortAllocatorState) {
    this.state = state ? structuredClone(state) : { used: {}, last: {} };
  }

  private clashes(ip: string, proto: string, port: number): boolean {
    const v6 = ip.includes(':');
    for (const [k, ports] of Object.entries(this.state.used)) {
      const slash = k.indexOf('/');
      const p = k.slice(0, slash);
      const kip = k.slice(slash + 1);
      if (p !== proto || !ports.includes(port)) continue;
      if (kip === ip) return true;
      if (kip.includes(':') === v6 && (WILD.has(kip) || WILD.has(ip))) return true;
    }
    return false;
  }

  /** Take `port` (0: a dynamic one, or from [port, end] when a host range was given). Returns the port. */
  allocate(ip: string, proto: string, port = 0, end = 0): number {
    const hostIp = ip === '' ? '0.0.0.0' : ip;
    const key = `${proto}/${hostIp}`;
    let chosen: number | undefined;
    if (port !== 0 && (end === 0 || end === port)) {
      if (this.clashes(hostIp, proto, port)) throw new ConflictError(`Bind for ${hostIp}:${port} failed: port is already allocated`);
      chosen = port;
    } else {
      const lo = port || EPHEMERAL_START;
      const hi = end || EPHEMERAL_END;
      const lastKey = port ? `${key}/${lo}-${hi}` : proto;
      const last = this.state.last[lastKey] ?? lo - 1;
      const n = hi - lo + 1;
      for (let i = 1; i <= n; i++) {
        const cand = lo + ((last - lo + i) % n + n) % n;
        if (!this.clashes(hostIp, proto, cand)) { chosen = cand; break; }
      }
      if (chosen === undefined) throw new ConflictError('all ports are allocated');
      this.state.last[lastKey] = chosen;
    }
    (this.state.used[key] ??= []).push(chosen);
    return chosen;
  }

  release(ip: string, proto: string, port: number): void {
    const key = `${proto}/${ip === '' ? '0.0.0.0' : ip}`;
    const list = this.state.used[key];
    if (!list) return;
    const i = list.indexOf(port);
    if (i >= 0) list.splice(i, 1);
    if (!list.length) delete this.state.used[key];
  }
}

/** API `Ports` entry of GET /containers/json. */
export interface ApiPort { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }

function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The PORTS column of `docker ps` (docker/cli DisplayablePorts: ranges grouped, mappings with other ports last). */
export function displayablePorts(ports: ApiPort[]): string {
  const sorted = [...ports].sort((a, b) =>
    a.PrivatePort !== b.PrivatePort ? a.PrivatePort - b.PrivatePort
      : (a.IP ?? '') !== (b.IP ?? '') ? ((a.IP ?? '') < (b.IP ?? '') ? -1 : 1)
        : (a.PublicPort ?? 0) !== (b.PublicPort ?? 0) ? (a.PublicPort ?? 0) - (b.PublicPort ?? 0)
          : a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0);
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const mappings: string[] = [];
  const form = (key: string, first: number, last: number): string => {
    const parts = key.split('/');
    const type = parts.length > 1 ? parts[1]! : parts[0]!;
    const ip = parts.length > 1 ? parts[0]! : '';
    let g = first === last ? String(first) : `${first}-${last}`;
    if (ip) g = `${ip}:${g}->${g}`;
    return `${g}/${type}`;
  };
  for (const p of sorted) {
    let key = p.Type;
    if (p.IP) {
      if (p.PublicPort !== p.PrivatePort) {
        mappings.push(`${joinHostPort(p.IP, p.PublicPort ?? 0)}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) { groups.set(key, { first: p.PrivatePort, last: p.PrivatePort }); continue; }
    if (p.PrivatePort === g.last + 1) { g.last = p.PrivatePort; continue; }
    result.push(form(key, g.first, g.last));
    g.first = g.last = p.PrivatePort;
  }
  for (const [k, g] of groups) result.push(form(k, g.first, g.last));
  return [...result, ...mappings].join(', ');
}

/** `docker port` lines: `80/tcp -> 0.0.0.0:32769` (optionally only for one private port). */
export function portLines(bindings: PortMap, filter?: string): string[] {
  const want = filter === undefined ? undefined : filter.includes('/') ? filter : `${filter}/tcp`;
  const keys = Object.keys(bindings).sort((a, b) => {
    const [pa, ta] = a.split('/'); const [pb, tb] = b.split('/');
    return Number(pa) - Number(pb) || (ta! < tb! ? -1 : ta! > tb! ? 1 : 0);
  });
  const out: string[] = [];
  for (const k of keys) {
    if (want !== undefined && k !== want) continue;
    for (const b of bindings[k] ?? []) out.push(`${k} -> ${joinHostPort(b.HostIp || '0.0.0.0', Number(b.HostPort))}`);
  }
  return out;
}
