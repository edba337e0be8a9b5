/** `network create|ls|inspect|rm|prune|connect|disconnect` and `port`, as the docker 20.10 CLI prints them. */
import { isIP } from 'node:net';
import { ApiError, type ContainerInspect } from '../../client/index.ts';
import type { IPAMConfig, NetworkCreateResponse, NetworkPruneResponse, NetworkResource } from '../../api/types/index.ts';
import { CliError, ExitCode } from '../errors.ts';
import { formatRows, truncateId, TemplateError } from '../formatter.ts';
import { ORDERED, ordered, TYPE_NAME } from '../template.ts';
import type { Ctx, Opts } from '../main.ts';
import { confirm, csvRecord, errText, filters, list, notFound, str } from './common.ts';
import { inspectObjects } from './containers.ts';

/** pflag's StringSlice: each value is a CSV record. */
export function csvList(o: Opts, k: string): string[] {
  return list(o, k).flatMap(csvRecord);
}

/** opts.MapOpts / ConvertKVStringsToMap: `k=v`, or `k` alone for an empty value. */
function kvMap(items: string[]): Record<string, string> {
  const m: Record<string, string> = {};
  for (const x of items) {
    const i = x.indexOf('=');
    if (i < 0) m[x] = ''; else m[x.slice(0, i)] = x.slice(i + 1);
  }
  return m;
}

// --- net.ParseCIDR / net.ParseIP / IPNet.Contains, for consolidateIpam ---

function ipBytes(s: string): number[] | undefined {
  const v = isIP(s);
  if (v === 4) return s.split('.').map(Number);
  if (v !== 6) return undefined;
  let t = s;
  const m = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(t);
  if (m) t = `${t.slice(0, m.index)}${((+m[1]! << 8) | +m[2]!).toString(16)}:${((+m[3]! << 8) | +m[4]!).toString(16)}`;
  const words = (x: string): number[] => (x ? x.split(':').map((w) => parseInt(w, 16)) : []);
  const dbl = t.indexOf('::');
  const lw = words(dbl < 0 ? t : t.slice(0, dbl));
  const rw = dbl < 0 ? [] : words(t.slice(dbl + 2));
  const all = [...lw, ...new Array<number>(8 - lw.length - rw.length).fill(0), ...rw];
  const bytes = all.flatMap((w) => [w >> 8, w & 255]);
  // an IPv4-mapped address counts as IPv4, as in Go
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) return bytes.slice(12);
  return bytes;
}

function parseCidr(s: string): { ip: number[]; bits: number } | undefined {
  const i = s.indexOf('/');
  if (i < 0) return undefined;
  const addr = s.slice(0, i);
  const ip = isIP(addr) ? ipBytes(addr) : undefined;
  const max = isIP(addr) === 4 ? 32 : 128;
  const bits = /^\d{1,3}$/.test(s.slice(i + 1)) ? Number(s.slice(i + 1)) : NaN;
  if (!ip || !(bits >= 0 && bits <= max)) return undefined;
  const mask = ip.map((_, n) => { const b = Math.min(8, Math.max(0, bits - n * 8)); return (0xff << (8 - b)) & 0xff; });
  return { ip: ip.map((x, n) => x & mask[n]!), bits };
}

/** The docker CLI's subnetMatches. */
function subnetMatches(subnet: string, data: string): boolean {
  const s = parseCidr(subnet);
  if (!s) throw new CliError(`invalid subnet: invalid CIDR address: ${subnet}`);
  let ip: number[] | undefined;
  if (data.includes('/')) {
    if (!parseCidr(data)) throw new CliError(`invalid CIDR address: ${data}`);
    ip = ipBytes(data.slice(0, data.indexOf('/')));
  } else ip = isIP(data) ? ipBytes(data) : undefined;
  if (!ip || ip.length !== s.ip.length) return false;
  for (let n = 0; n < ip.length; n++) {
    const b = Math.min(8, Math.max(0, s.bits - n * 8));
    const m = (0xff << (8 - b)) & 0xff;
    if ((ip[n]! & m) !== s.ip[n]) return false;
  }
  return true;
}

/** The docker CLI's consolidateIpam (the subnets in the order given). */
export function consolidateIpam(subnets: string[], ranges: string[], gateways: string[], aux: Record<string, string>): IPAMConfig[] {
  if (subnets.length < ranges.length || subnets.length < gateways.length) throw new CliError('every ip-range or gateway must have a corresponding subnet');
  const data = new Map<string, IPAMConfig & { AuxiliaryAddresses: Record<string, string> }>();
  for (const s of subnets) {
    for (const k of data.keys()) {
      if (subnetMatches(s, k) || subnetMatches(k, s)) throw new CliError('multiple overlapping subnet configuration is not supported');
    }
    data.set(s, { Subnet: s, AuxiliaryAddresses: {} });
  }
  const assign = (values: string[], field: 'IPRange' | 'Gateway', what: string, multiple: (v: string, old: string, s: string) => string): void => {
    for (const v of values) {
      let match = false;
      for (const s of subnets) {
        if (!subnetMatches(s, v)) continue;
        const d = data.get(s)!;
        if (d[field]) throw new CliError(multiple(v, d[field], s));
        d[field] = v;
        match = true;
      }
      if (!match) throw new CliError(`no matching subnet for ${what} ${v}`);
    }
  };
  assign(ranges, 'IPRange', 'range', (v, old, s) => `cannot configure multiple ranges (${v}, ${old}) on the same subnet (${s})`);
  assign(gateways, 'Gateway', 'gateway', (v, old, s) => `cannot configure multiple gateways (${v}, ${old}) for the same subnet (${s})`);
  for (const [key, a] of Object.entries(aux)) {
    let match = false;
    for (const s of subnets) {
      if (!subnetMatches(s, a)) continue;
      data.get(s)!.AuxiliaryAddresses[key] = a;
      match = true;
    }
    if (!match) throw new CliError(`no matching subnet for aux-address ${a}`);
  }
  return [...data.values()].map((d) => {
    const c: IPAMConfig = { Subnet: d.Subnet! };
    if (d.IPRange) c.IPRange = d.IPRange;
    if (d.Gateway) c.Gateway = d.Gateway;
    if (Object.keys(d.AuxiliaryAddresses).length) c.AuxiliaryAddresses = d.AuxiliaryAddresses;
    return c;
  });
}

export async function create(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const config = consolidateIpam(csvList(o, 'subnet'), csvList(o, 'ipRange'), csvList(o, 'gateway'), kvMap(list(o, 'auxAddress')));
  const configFrom = str(o, 'configFrom');
  // the docker CLI's field order (types.NetworkCreate, Name last)
  const body = {
    CheckDuplicate: true,
    Driver: str(o, 'driver') ?? 'bridge',
    Scope: str(o, 'scope') ?? '',
    EnableIPv6: o.ipv6 === true,
    IPAM: { Driver: str(o, 'ipamDriver') ?? 'default', Options: kvMap(list(o, 'ipamOpt')), Config: config },
    Internal: o.internal === true,
    Attachable: o.attachable === true,
    Ingress: o.ingress === true,
    ConfigOnly: o.configOnly === true,
    ConfigFrom: configFrom ? { Network: configFrom } : null,
    Options: kvMap(list(o, 'opt')),
    Labels: kvMap(list(o, 'label')),
    Name: args[0]!,
  };
  const r = await ctx.client().json<NetworkCreateResponse>('POST', '/networks/create', { body });
  ctx.out(`${r.Id}\n`);
}

/** Go's time.Time.String() of an RFC 3339 time: `2026-11-23 14:17:34.09313084 +0000 UTC`. */
export function goTime(rfc3339: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(rfc3339);
  if (!m) return rfc3339;
  const frac = (m[3] ?? '').replace(/0+$/, '').replace(/^\.$/, '');
  const zone = m[4] === 'Z' ? '+0000 UTC' : `${m[4]!.replace(':', '')} ${m[4]!.replace(':', '')}`;
  return `${m[1]} ${m[2]}${frac} ${zone}`;
}

/** docker's network formatter context. */
export function networkContext(n: NetworkResource, trunc: boolean): Record<string | symbol, unknown> {
  const labels = (): string => Object.entries(n.Labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join(',');
  const c = {
    [TYPE_NAME]: '*network.networkContext',
    ID: () => (trunc ? truncateId(n.Id) : n.Id),
    Name: () => n.Name,
    Driver: () => n.Driver,
    Scope: () => n.Scope,
    IPv6: () => String(n.EnableIPv6),
    Internal: () => String(n.Internal),
    Labels: labels,
    Label: (name: unknown) => (n.Labels ?? {})[String(name)] ?? '',
    CreatedAt: () => goTime(n.Created),
    toJSON: () => ({ CreatedAt: c.CreatedAt(), Driver: n.Driver, ID: c.ID(), IPv6: c.IPv6(), Internal: c.Internal(), Labels: labels(), Name: n.Name, Scope: n.Scope }),
  };
  return c;
}

export const networkHeaders: Record<string, string> = {
  ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', Label: 'LABEL', CreatedAt: 'CREATED AT',
};

/** sortorder.NaturalLess (byte-wise, runs of digits compared as numbers), as `network ls` sorts names. */
export function naturalLess(a: string, b: string): boolean {
  const s1 = Buffer.from(a);
  const s2 = Buffer.from(b);
  const digit = (c: number): boolean => c >= 48 && c <= 57;
  let i = 0;
  let j = 0;
  while (i < s1.length && j < s2.length) {
    const c1 = s1[i]!;
    const c2 = s2[j]!;
    const d1 = digit(c1);
    const d2 = digit(c2);
    if (d1 !== d2) return d1;
    if (!d1) {
      if (c1 !== c2) return c1 < c2;
      i++; j++;
      continue;
    }
    while (i < s1.length && s1[i] === 48) i++;
    while (j < s2.length && s2[j] === 48) j++;
    const nz1 = i;
    const nz2 = j;
    while (i < s1.length && digit(s1[i]!)) i++;
    while (j < s2.length && digit(s2[j]!)) j++;
    if (i - nz1 !== j - nz2) return i - nz1 < j - nz2;
    const n1 = s1.subarray(nz1, i).toString();
    const n2 = s2.subarray(nz2, j).toString();
    if (n1 !== n2) return n1 < n2;
    if (nz1 !== nz2) return nz1 < nz2;
  }
  return s1.length < s2.length;
}

const TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';

export async function ls(ctx: Ctx, _args: string[], o: Opts): Promise<void> {
  const nets = await ctx.client().json<NetworkResource[]>('GET', '/networks', { query: { filters: filters(o) } });
  const quiet = o.quiet === true;
  const trunc = o.noTrunc !== true;
  let format = str(o, 'format') ?? '';
  if (!format || format === 'table') format = quiet ? '{{.ID}}' : TABLE;
  else if (format === 'raw') format = quiet ? 'network_id: {{.ID}}' : 'network_id: {{.ID}}\nname: {{.Name}}\ndriver: {{.Driver}}\nscope: {{.Scope}}\n';
  const sorted = [...nets].sort((x, y) => (naturalLess(x.Name, y.Name) ? -1 : naturalLess(y.Name, x.Name) ? 1 : 0));
  if (format === '{{.ID}}') {
    // the common `ls -q`: IDs only
    ctx.out(sorted.map((n) => `${trunc ? truncateId(n.Id) : n.Id}\n`).join(''));
    return;
  }
  let text: string;
  try {
    text = formatRows(format, sorted.map((n) => networkContext(n, trunc)), networkHeaders);
  } catch (e) {
    if (e instanceof TemplateError) throw new CliError(`template parsing error: ${e.message}`);
    throw e;
  }
  ctx.out(text);
}

/** A value that prints as `text` (%v) and marshals as `json`. */
function shown(text: string, json: string): object {
  return Object.defineProperties({}, { toString: { value: () => text }, toJSON: { value: () => json } });
}

/** A Go struct: fields in this order print as `{a b …}`; `json` keeps the daemon's JSON (omitempty fields). */
function struct(fields: Record<string, unknown>, json: unknown): object {
  return Object.defineProperties(fields, { toJSON: { value: () => ordered(structuredClone(json)) }, [ORDERED]: { value: true } });
}

/** A Go map: a nil one prints as `map[]` and marshals as null. */
function goMap(m: Record<string, unknown> | null | undefined): object {
  return m ?? Object.defineProperty({}, 'toJSON', { value: () => null });
}

/** GET /networks/{id} as docker's typed types.NetworkResource, which `network inspect -f` templates run on first. */
export function typedNetwork(data: unknown): unknown {
  const n = data as NetworkResource;
  const ipam = n.IPAM ?? { Driver: '', Options: null, Config: [] };
  const containers: Record<string, unknown> = {};
  for (const [id, e] of Object.entries(n.Containers ?? {})) containers[id] = struct({ ...e }, e);
  return struct({
    Name: n.Name, ID: n.Id, Created: shown(goTime(n.Created), n.Created), Scope: n.Scope, Driver: n.Driver, EnableIPv6: n.EnableIPv6,
    IPAM: struct({
      Driver: ipam.Driver, Options: goMap(ipam.Options),
      Config: (ipam.Config ?? []).map((c) => struct({ Subnet: c.Subnet ?? '', IPRange: c.IPRange ?? '', Gateway: c.Gateway ?? '', AuxAddress: goMap(c.AuxiliaryAddresses) }, c)),
    }, ipam),
    Internal: n.Internal, Attachable: n.Attachable, Ingress: n.Ingress, ConfigFrom: struct({ Network: n.ConfigFrom?.Network ?? '' }, n.ConfigFrom), ConfigOnly: n.ConfigOnly,
    Containers: containers, Options: goMap(n.Options), Labels: goMap(n.Labels), Peers: [], Services: goMap(null),
  }, data);
}

export async function inspect(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  await inspectObjects(ctx, args, ['network'], str(o, 'format'), o.verbose === true, typedNetwork);
}

export async function rm(ctx: Ctx, args: string[]): Promise<void> {
  let status = 0;
  // one after the other, errors as they come (docker's runRemove)
  for (const n of args) {
    try {
      await ctx.client().ok('DELETE', `/networks/${encodeURIComponent(n)}`);
      ctx.out(`${n}\n`);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      ctx.err(`${e.status === 404 ? `Error: No such network: ${n}` : errText(e)}\n`);
      status = 1;
    }
  }
  if (status) throw new ExitCode(status);
}

export async function prune(ctx: Ctx, _args: string[], o: Opts): Promise<void> {
  if (o.force !== true && !(await confirm(ctx, 'WARNING! This will remove all custom networks not used by at least one container.'))) return;
  const r = await ctx.client().json<NetworkPruneResponse>('POST', '/networks/prune', { query: { filters: filters(o) } });
  if (r.NetworksDeleted?.length) ctx.out(`Deleted Networks:\n${r.NetworksDeleted.map((n) => `${n}\n`).join('')}\n`);
}

/** opts.ValidateLink */
function validateLink(v: string): string {
  if (v === '') throw new CliError('invalid argument "" for "--link" flag: empty string specified for links', 125, 'flag');
  const parts = v.split(':');
  if (parts.length > 2) throw new CliError(`invalid argument "${v}" for "--link" flag: bad format for links: ${v}`, 125, 'flag');
  return v;
}

export async function connect(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const driverOpts: Record<string, string> = {};
  for (const opt of csvList(o, 'driverOpt')) {
    const i = opt.indexOf('=');
    if (i < 0) throw new CliError('invalid key/value pair format in driver options');
    driverOpts[opt.slice(0, i).trim()] = opt.slice(i + 1).trim();
  }
  const links = list(o, 'link').map(validateLink);
  const linkLocal = csvList(o, 'linkLocalIp');
  const ipam: Record<string, unknown> = {};
  if (str(o, 'ip')) ipam.IPv4Address = str(o, 'ip');
  if (str(o, 'ip6')) ipam.IPv6Address = str(o, 'ip6');
  if (linkLocal.length) ipam.LinkLocalIPs = linkLocal;
  const body = {
    Container: args[1]!,
    EndpointConfig: {
      IPAMConfig: ipam, Links: links.length ? links : null, Aliases: csvList(o, 'alias'), NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '',
      IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: driverOpts,
    },
  };
  await ctx.client().ok('POST', `/networks/${encodeURIComponent(args[0]!)}/connect`, { body });
}

export async function disconnect(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  await ctx.client().ok('POST', `/networks/${encodeURIComponent(args[0]!)}/disconnect`, { body: { Container: args[1]!, Force: o.force === true } });
}

type PortBindings = Record<string, { HostIp: string; HostPort: string }[] | null> | null | undefined;

/** `port CONTAINER [PRIVATE_PORT[/PROTO]]`: the container's published ports, docker's lines. */
export async function port(ctx: Ctx, args: string[]): Promise<void> {
  const name = args[0]!;
  let c: ContainerInspect;
  try {
    c = await ctx.client().json<ContainerInspect>('GET', `/containers/${encodeURIComponent(name)}/json`);
  } catch (e) {
    throw notFound(e, 'container', name);
  }
  const ports = (c.NetworkSettings as { Ports?: PortBindings } | undefined)?.Ports ?? {};
  if (args[1]) {
    let p = args[1];
    let proto = 'tcp';
    const i = p.indexOf('/');
    if (i >= 0 && p.length > i + 1) { proto = p.slice(i + 1); p = p.slice(0, i); }
    // nat.ParsePortRangeToInt: an empty port is 0
    const nums = p === '' ? [0] : (p.includes('-') ? p.split('-').slice(0, 2) : [p]).map((part) => {
      if (!/^\d+$/.test(part) || Number(part) > 65535) throw new CliError(`strconv.ParseUint: parsing ${JSON.stringify(part)}: ${/^\d+$/.test(part) ? 'value out of range' : 'invalid syntax'}`);
      return Number(part);
    });
    const [start, end = start] = nums as [number, number?];
    if (end < start) throw new CliError(`Invalid range specified for the Port: ${p}`);
    const frontends = ports[`${start === end ? start : `${start}-${end}`}/${proto}`];
    if (frontends) {
      ctx.out(frontends.map((f) => `${f.HostIp}:${f.HostPort}\n`).join(''));
      return;
    }
    throw new CliError(`Error: No public port '${p}/${proto}' published for ${name}`);
  }
  // docker walks a Go map (any order); berth sorts by port number, then protocol
  const keys = Object.keys(ports).sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || (a < b ? -1 : a > b ? 1 : 0));
  ctx.out(keys.flatMap((k) => (ports[k] ?? []).map((f) => `${k} -> ${f.HostIp}:${f.HostPort}\n`)).join(''));
}
