/**
 * The /etc/hosts and /etc/resolv.conf a container gets, byte for byte as dockerd 20.10 (libnetwork's
 * etchosts.Build + updateHostsFile, resolvconf.FilterResolvDNS / Build / rebuildDNS) writes them.
 * Pure: the host's files come in as text.
 */
import { InvalidArgumentError } from '../lib/index.ts';

export const DEFAULT_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

export const EMBEDDED_DNS = '127.0.0.11';
export const DEFAULT_DNS = ['8.8.8.8', '8.8.4.4'];

/** bridge: the default bridge; user: a user-defined network (embedded DNS); host; none. */
export type NetKind = 'bridge' | 'user' | 'host' | 'none';

export interface LinkEntry { alias: string; name: string; hostname: string; ip: string }

export interface HostsInput {
  kind: NetKind;
  hostname: string;
  domainname?: string;
  /** The container's address on its (first) network. */
  ip?: string;
  /** `--add-host name:ip` values (ip may be `host-gateway`). */
  extraHosts?: string[];
  /** The address `host-gateway` stands for (daemon host-gateway-ip, else the default bridge's gateway). */
  hostGatewayIP?: string;
  links?: LinkEntry[];
}

/** `--add-host name:ip` → [name, ip], host-gateway resolved; Docker's errors for bad values. */
export function parseExtraHost(h: string, hostGatewayIP?: string): [string, string] {
  const k = h.indexOf(':');
  if (k <= 0) throw new InvalidArgumentError(`bad format for add-host: "${h}"`);
  const name = h.slice(0, k);
  let ip = h.slice(k + 1);
  if (ip === 'host-gateway') {
    if (!hostGatewayIP) throw new InvalidArgumentError('unable to derive the IP value for host-gateway');
    ip = hostGatewayIP;
  }
  return [name, ip];
}

/** `--link web:webalias` → the hosts names Docker writes: `webalias <target hostname> web` (name only if it differs). */
export function linkHostNames(l: LinkEntry): string {
  return l.alias === l.name ? `${l.alias} ${l.hostname}` : `${l.alias} ${l.hostname} ${l.name}`;
}

/**
 * The container's /etc/hosts. For `host` without --add-host: the host's file copied (`hostHosts`).
 * Otherwise the default entries, --add-host lines, --link lines, then `<ip>\t<fqdn> <short>` when the
 * container has an address.
 */
export function hostsFile(i: HostsInput, hostHosts = ''): string {
  const extra = (i.extraHosts ?? []).map((h) => parseExtraHost(h, i.hostGatewayIP));
  if (i.kind === 'host' && extra.length === 0) return hostHosts;
  const lines = [...DEFAULT_HOSTS, ...extra.map(([n, ip]) => `${ip}\t${n}`)];
  for (const l of i.links ?? []) lines.push(`${l.ip}\t${linkHostNames(l)}`);
  if (i.ip && i.kind !== 'host' && i.kind !== 'none') {
    const fqdn = i.domainname ? `${i.hostname}.${i.domainname}` : i.hostname;
    const dot = fqdn.indexOf('.');
    lines.push(`${i.ip}\t${dot >= 0 ? `${fqdn} ${fqdn.slice(0, dot)}` : i.hostname}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface ResolvInput {
  kind: NetKind;
  /** --dns (else daemon.json dns). */
  dns?: string[];
  /** --dns-search (else daemon.json dns-search). */
  dnsSearch?: string[];
  /** --dns-option (else daemon.json dns-opts). */
  dnsOptions?: string[];
  /** The embedded DNS address of user networks (Docker's 127.0.0.11; berth's is the network's gateway). */
  embeddedDns?: string;
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter((l) => l !== '');
}
const ipv4Re = /^(\d{1,3}\.){3}\d{1,3}$/;
const isV6 = (s: string) => s.includes(':') && /^[0-9a-fA-F:.%\w]+$/.test(s);

/** Nameservers of a resolv.conf text (all, or one family). */
export function getNameservers(text: string, family?: 4 | 6): string[] {
  const out: string[] = [];
  for (const l of lines(text)) {
    const f = l.split(/\s+/);
    if (f[0] !== 'nameserver' || !f[1]) continue;
    const v4 = ipv4Re.test(f[1]);
    if (!v4 && !isV6(f[1])) continue;
    if (family === undefined || (family === 4) === v4) out.push(f[1]);
  }
  return out;
}
/** The last `search` line's domains. */
export function getSearchDomains(text: string): string[] {
  let d: string[] = [];
  for (const l of lines(text)) { const f = l.split(/\s+/); if (f[0] === 'search') d = f.slice(1); }
  return d;
}
/** The last `options` line's options. */
export function getOptions(text: string): string[] {
  let d: string[] = [];
  for (const l of lines(text)) { const f = l.split(/\s+/); if (f[0] === 'options') d = f.slice(1); }
  return d;
}

const localhostNs = /^\s*nameserver\s*((127\.(\d{1,3}\.){2}\d{1,3})|(::1))\s*\n*/gm;
const ipv6Ns = /^\s*nameserver\s*(([0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(%\w+)?)\s*\n*/gm;
export const DEFAULT_DNS6 = ['2001:4860:4860::8888', '2001:4860:4860::8844'];

/** resolvconf.FilterResolvDNS: without loopback (and, without IPv6, IPv6) nameservers; defaults appended when none is left. */
export function filterResolvDNS(text: string, ipv6Enabled: boolean): string {
  let out = text.replace(localhostNs, '');
  if (!ipv6Enabled) out = out.replace(ipv6Ns, '');
  if (getNameservers(out).length === 0) {
    const dns = ipv6Enabled ? [...DEFAULT_DNS, ...DEFAULT_DNS6] : DEFAULT_DNS;
    out += `\n${dns.map((d) => `nameserver ${d}`).join('\n')}`;
  }
  return out;
}

/**
 * The host's resolv.conf as a container on a bridge gets it: libnetwork filters it once at sandbox
 * setup (IPv6 assumed on) and again when the endpoint joins (with the network's IPv6 setting).
 */
export function containerResolvFromHost(text: string, ipv6Enabled = false): string {
  return filterResolvDNS(filterResolvDNS(text, true), ipv6Enabled);
}

/** resolvconf.Build: search, nameservers, options. */
export function buildResolv(dns: string[], search: string[], options: string[]): string {
  let s = '';
  if (search.length && search.join(' ').trim() !== '.') s += `search ${search.join(' ')}\n`;
  for (const d of dns) s += `nameserver ${d}\n`;
  if (options.length && options.join(' ').trim() !== '') s += `options ${options.join(' ')}\n`;
  return s;
}

/**
 * The container's /etc/resolv.conf from the host's (`hostResolv`: systemd-resolved's upstream file when
 * /etc/resolv.conf is the 127.0.0.53 stub). On user networks the embedded server 127.0.0.11 with
 * `ndots:0` unless the options set ndots; `upstream` lists the servers the embedded DNS forwards to.
 */
export function resolvConf(i: ResolvInput, hostResolv: string): { text: string; upstream: string[] } {
  const dns = i.dns ?? [];
  const search = i.dnsSearch ?? [];
  const opts = i.dnsOptions ?? [];
  if (i.kind === 'host' && !dns.length && !search.length && !opts.length) {
    return { text: hostResolv, upstream: getNameservers(hostResolv) };
  }
  let text: string;
  if (dns.length || search.length || opts.length) {
    text = buildResolv(
      dns.length ? dns : getNameservers(hostResolv),
      search.length ? search : getSearchDomains(hostResolv),
      opts.length ? opts : getOptions(hostResolv),
    );
  } else {
    text = containerResolvFromHost(hostResolv);
  }
  const upstream = dns.length ? dns : getNameservers(hostResolv, 4).filter((n) => !n.startsWith('127.'));
  if (i.kind !== 'user') return { text, upstream };
  const options = getOptions(text);
  const ndots = options.some((o) => o.includes('ndots') && /^ndots:\d+$/.test(o));
  return {
    text: buildResolv([i.embeddedDns ?? EMBEDDED_DNS, ...getNameservers(text, 6)], getSearchDomains(text), ndots ? options : [...options, 'ndots:0']),
    upstream,
  };
}

/**
 * The environment `--link <child>:<alias>` injects (docker/daemon/links Link.ToEnv): `<ALIAS>_PORT…`
 * for the child's exposed ports (default = lowest, tcp first; 3+ contiguous ports also get _START/_END),
 * `<ALIAS>_NAME=/<parent>/<alias>`, and `<ALIAS>_ENV_<k>` for the child's env except HOME and PATH.
 */
export function linkEnv(l: { parent: string; alias: string; childIp: string; ports: string[]; childEnv: string[] }): string[] {
  const alias = l.alias.toUpperCase().replaceAll('-', '_');
  const ports = l.ports.map((p) => { const [n, proto] = p.split('/'); return { n: Number(n), proto: (proto ?? 'tcp').toLowerCase() }; })
    .sort((a, b) => a.n - b.n || (a.proto === 'tcp' ? -1 : b.proto === 'tcp' ? 1 : 0));
  const env: string[] = [];
  const ip = l.childIp;
  if (ports[0]) env.push(`${alias}_PORT=${ports[0].proto}://${ip}:${ports[0].n}`);
  for (let i = 0; i < ports.length;) {
    const p = ports[i]!;
    let j = i;
    for (let v = p.n, k = i + 1; k < ports.length && ports[k]!.n <= v + 1; k++, v++) j = k;
    if (j > i + 1) {
      const q = ports[j]!;
      const P = p.proto.toUpperCase();
      const Q = q.proto.toUpperCase();
      env.push(`${alias}_PORT_${p.n}_${P}_START=${p.proto}://${ip}:${p.n}`, `${alias}_PORT_${p.n}_${P}_ADDR=${ip}`,
        `${alias}_PORT_${p.n}_${P}_PROTO=${p.proto}`, `${alias}_PORT_${p.n}_${P}_PORT_START=${p.n}`,
        `${alias}_PORT_${p.n}_${Q}_END=${q.proto}://${ip}:${q.n}`, `${alias}_PORT_${p.n}_${Q}_PORT_END=${q.n}`);
      i = j + 1;
    } else {
      i++;
    }
  }
  for (const p of ports) {
    const P = `${alias}_PORT_${p.n}_${p.proto.toUpperCase()}`;
    env.push(`${P}=${p.proto}://${ip}:${p.n}`, `${P}_ADDR=${ip}`, `${P}_PORT=${p.n}`, `${P}_PROTO=${p.proto}`);
  }
  env.push(`${alias}_NAME=/${l.parent}/${l.alias}`);
  for (const v of l.childEnv) {
    const k = v.indexOf('=');
    if (k < 0) continue;
    const name = v.slice(0, k);
    if (name === 'HOME' || name === 'PATH') continue;
    env.push(`${alias}_ENV_${name}=${v.slice(k + 1)}`);
  }
  return env;
}
