/**
 * IPv4 address management as dockerd's default IPAM does it: default address pools, the first pool
 * that overlaps nothing in use, sequential (lowest free) container addresses, MACs derived from IPs.
 * Pure data in, data out: the state is a plain JSON object the caller persists.
 */
import { InvalidArgumentError, ConflictError, FailedPreconditionError } from '../lib/index.ts';

export interface Cidr { base: number; bits: number }

export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return ((o[0]! << 24) >>> 0) + (o[1]! << 16) + (o[2]! << 8) + o[3]!;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(bits: number): number { return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0; }

/** `172.17.0.5/16` → { base: 172.17.0.0, bits: 16 } (host bits cleared, as Go's ParseCIDR network). */
export function parseCidr(s: string): Cidr {
  const [ip, b, extra] = s.split('/');
  const n = ip === undefined ? undefined : parseIPv4(ip);
  const bits = b !== undefined && /^\d{1,2}$/.test(b) ? Number(b) : NaN;
  if (n === undefined || extra !== undefined || !(bits >= 0 && bits <= 32)) throw new InvalidArgumentError(`invalid CIDR address: ${s}`);
  return { base: (n & mask(bits)) >>> 0, bits };
}

export function formatCidr(c: Cidr): string { return `${formatIPv4(c.base)}/${c.bits}`; }

export function cidrSize(c: Cidr): number { return 2 ** (32 - c.bits); }
export function cidrContains(c: Cidr, ip: number): boolean { return ((ip & mask(c.bits)) >>> 0) === c.base; }
export function cidrOverlaps(a: Cidr, b: Cidr): boolean { return cidrContains(a, b.base) || cidrContains(b, a.base); }
/** The dotted netmask, e.g. 255.255.0.0 (route -n). */
export function netmask(c: Cidr): string { return formatIPv4(mask(c.bits)); }
export function broadcast(c: Cidr): number { return (c.base + cidrSize(c) - 1) >>> 0; }

/** dockerd's default-address-pools: 172.17-31.0.0/16, then 192.168.0.0/16 in /20s. */
export interface AddressPool { base: string; size: number }
export const DEFAULT_ADDRESS_POOLS: AddressPool[] = [
  ...Array.from({ length: 15 }, (_, i) => ({ base: `172.${17 + i}.0.0/16`, size: 16 })),
  { base: '192.168.0.0/16', size: 20 },
];

/** Every candidate subnet of the pools, in Docker's order. */
export function* poolSubnets(pools: AddressPool[] = DEFAULT_ADDRESS_POOLS): Generator<Cidr> {
  for (const p of pools) {
    const base = parseCidr(p.base);
    if (p.size < base.bits) throw new InvalidArgumentError(`invalid pool size ${p.size} for ${p.base}`);
    const step = 2 ** (32 - p.size);
    for (let n = base.base; n < base.base + cidrSize(base); n += step) yield { base: n >>> 0, bits: p.size };
  }
}

/**
 * The first pool subnet that overlaps none of `inUse` (host routes, other bridges' subnets, Docker's bridges:
 * the caller collects them). dockerd's message when none is left.
 */
export function pickPool(inUse: string[], pools: AddressPool[] = DEFAULT_ADDRESS_POOLS): string {
  const used = inUse.map(parseCidr);
  for (const c of poolSubnets(pools)) {
    if (!used.some((u) => cidrOverlaps(u, c))) return formatCidr(c);
  }
  throw new FailedPreconditionError('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}

/** 172.17.0.2 → 02:42:ac:11:00:02 */
export function macFromIP(ip: string): string {
  const n = parseIPv4(ip);
  if (n === undefined) throw new InvalidArgumentError(`invalid IPv4 address: ${ip}`);
  return ['02', '42', ...[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

/** Persistable IPAM state of one network's IPv4 subnet. */
export interface SubnetState {
  subnet: string;
  gateway: string;
  /** --ip-range: container addresses come from here (defaults to the subnet). */
  ipRange?: string;
  /** Addresses handed to endpoints (the gateway is not listed). */
  allocated: string[];
}

export interface SubnetRequest { subnet: string; gateway?: string; ipRange?: string }

/** `network create --subnet/--gateway/--ip-range` checks, with dockerd's messages; the gateway defaults to the first address. */
export function newSubnetState(req: SubnetRequest): SubnetState {
  const sub = parseCidr(req.subnet);
  if (sub.bits > 30) throw new InvalidArgumentError(`invalid subnet ${req.subnet}: too small`);
  let ipRange: string | undefined;
  if (req.ipRange !== undefined) {
    const r = parseCidr(req.ipRange);
    if (!cidrContains(sub, r.base) || r.bits < sub.bits) throw new InvalidArgumentError(`no matching subnet for range ${req.ipRange}`);
    ipRange = formatCidr(r);
  }
  let gw: number;
  if (req.gateway !== undefined) {
    const g = parseIPv4(req.gateway);
    if (g === undefined) throw new InvalidArgumentError(`invalid gateway address ${req.gateway}`);
    if (!cidrContains(sub, g)) throw new InvalidArgumentError(`no matching subnet for gateway ${req.gateway}`);
    gw = g;
  } else {
    gw = sub.base + 1;
  }
  return { subnet: formatCidr(sub), gateway: formatIPv4(gw), ...(ipRange ? { ipRange } : {}), allocated: [] };
}

/**
 * The next container address: the lowest free one of the range (dockerd's non-serial bitmap allocation,
 * so a released address is handed out again), never the network/broadcast address nor the gateway.
 * `requested` is `--ip`: it must lie in the subnet and be free. Returns the new state (input untouched).
 */
export function allocateAddress(st: SubnetState, requested?: string): { state: SubnetState; ip: string } {
  const sub = parseCidr(st.subnet);
  const taken = new Set(st.allocated);
  taken.add(st.gateway);
  const first = sub.base;
  const last = broadcast(sub);
  if (requested !== undefined) {
    const n = parseIPv4(requested);
    if (n === undefined) throw new InvalidArgumentError(`invalid IPv4 address: ${requested}`);
    if (!cidrContains(sub, n) || n === first || n === last) throw new InvalidArgumentError('requested address is out of range');
    if (taken.has(requested)) throw new ConflictError('Address already in use');
    return { state: { ...st, allocated: [...st.allocated, requested] }, ip: requested };
  }
  const range = st.ipRange ? parseCidr(st.ipRange) : sub;
  const end = Math.min(broadcast(range), last - 1);
  for (let n = Math.max(range.base, first + 1); n <= end; n++) {
    const ip = formatIPv4(n);
    if (!taken.has(ip)) return { state: { ...st, allocated: [...st.allocated, ip] }, ip };
  }
  throw new ConflictError('no available IPv4 addresses on this network\'s address pools');
}

export function releaseAddress(st: SubnetState, ip: string): SubnetState {
  return { ...st, allocated: st.allocated.filter((a) => a !== ip) };
}

/** `--ip` on the default bridge or a network without a user subnet (dockerd's checks). */
export function checkStaticIP(networkName: string, userSubnet: boolean): void {
  if (networkName === 'bridge' || networkName === 'default') throw new InvalidArgumentError('user specified IP address is supported on user defined networks only');
  if (!userSubnet) throw new InvalidArgumentError('user specified IP address is supported only when connecting to networks with user configured subnets');
}
