/**
 * Networks: the store of networks (predefined bridge/host/none and user bridges), container endpoints
 * (addresses, veths in a netns of berth's making), published ports (rules + userland proxy) and the DNS
 * of user networks. Allocation state is not stored apart: it is what the running containers hold
 * (their NetworkSettings), so a crash can never leave an address or a port taken by nobody.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer } from 'node:net';
import {
  ConflictError, ForbiddenError, InvalidArgumentError, NotFoundError, atomicWriteJson, newId, log, run,
} from '../lib/index.ts';
import {
  parseCidr, formatCidr, cidrOverlaps, formatIPv4, pickPool, macFromIP, DEFAULT_ADDRESS_POOLS, bridgeName,
  allocateAddress, checkStaticIP, newSubnetState,
  generateRules, DEFAULT_BRIDGE, PortAllocator, publishAll,
  createSandbox, deleteSandbox, addLink, removeLink, ensureBridge, deleteBridge, bridgeAddress, routedPrefixes, setSysctl,
  applyRules, removeRules, newDnsServer, startProxy, type DnsServer,
  type AddressPool, type BridgeNetwork, type PublishedPort, type SandboxLink,
} from '../network/index.ts';
import type { Container, EndpointSettings, PortMap } from './model.ts';
import type { NetworkRecord, NetworkView, NetworkCreateRequest, EndpointRequest, NetworkEndpointView } from './backend.ts';
import { emptyEndpoint } from './create.ts';
import { nowNanos, rfc3339Nano, parseRfc3339 } from './time.ts';

/** daemon.json's network keys (the same names as dockerd's). */
export interface NetworkConfig {
  /** `bridge`: an existing bridge for the default network, or 'none' for no default bridge. */
  bridge?: string;
  bip?: string;
  fixedCidr?: string;
  defaultAddressPools?: AddressPool[];
  mtu?: number;
  iptables?: boolean;
  ipForward?: boolean;
  ipMasq?: boolean;
  icc?: boolean;
  /** Default host address of `-p` bindings. */
  ip?: string;
  userlandProxy?: boolean;
}

export interface NetworksHost {
  root: string;
  execRoot: string;
  containers(): Container[];
  /** The container by name/id; NotFoundError in Docker's words. */
  resolve(ref: string): Container;
  running(c: Container): boolean;
  persist(c: Container): Promise<void>;
  emit(action: string, id: string, attributes: Record<string, string>): void;
  /** The host's resolv.conf text (the DNS of user networks forwards to its servers). */
  hostResolv(): Promise<string>;
  config: NetworkConfig;
}

interface Net {
  rec: NetworkRecord;
  /** Linux bridge name ('' for host/null). */
  bridge: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  prefix: number;
  mtu: number;
  dns?: DnsServer;
}

/** What the container's start gets: the netns to join and the facts its /etc files need. */
export interface Attachment {
  /** A netns path, 'host', or undefined (a new empty one: --network none). */
  netns: string | 'host' | undefined;
  kind: 'bridge' | 'user' | 'host' | 'none' | 'container';
  /** The address on its first network. */
  ip?: string;
  /** The embedded DNS address (user networks). */
  dns?: string;
  /** The default bridge's gateway (`host-gateway`). */
  hostGateway?: string;
  /** --network container:<x>: that container. */
  peer?: Container;
}

const PREDEFINED = ['bridge', 'host', 'none'];

/** On disk: the record plus the default bridge's gateway, which its IPAM config does not show (as in dockerd). */
type Stored = NetworkRecord & { BerthGateway?: string };
const BRIDGE_OPT = 'com.docker.network.bridge.';

function sortedMap(m: Record<string, string> | null | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export class Networks {
  readonly #h: NetworksHost;
  readonly #nets = new Map<string, Net>();
  readonly #proxies = new Map<string, { close(): Promise<void> }[]>();
  #ports = new PortAllocator();
  #rulesQueue: Promise<void> = Promise.resolve();
  #rulesDirty = false;
  #bridgeNf = false;
  /** The host has IPv6: published ports get a `::` binding too (through the proxy). */
  #v6 = false;
  /** Networks being removed: their rules are still berth's to delete. */
  readonly #gone = new Set<Net>();

  constructor(h: NetworksHost) { this.#h = h; }

  get #dir(): string { return join(this.#h.root, 'network'); }
  get #iptables(): boolean { return this.#h.config.iptables !== false; }

  // ───────────── start-up ─────────────

  /** Loads the networks, sets up their bridges, adopts the running containers' endpoints and ports, applies the rules. */
  async init(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const files = (await readdir(this.#dir)).filter((f) => f.endsWith('.json'));
    const recs: NetworkRecord[] = [];
    for (const f of files) {
      try { recs.push(JSON.parse(await readFile(join(this.#dir, f), 'utf8')) as NetworkRecord); } catch (err) { log().warn({ err, f }, 'skipping an unreadable network'); }
    }
    recs.sort((a, b) => Number((parseRfc3339(a.Created) ?? 0n) - (parseRfc3339(b.Created) ?? 0n)));
    for (const name of ['none', 'host']) {
      if (!recs.some((r) => r.Name === name)) recs.unshift(await this.#save(predefined(name, name === 'host' ? 'host' : 'null')));
    }
    const cfg = this.#h.config;
    this.#v6 = await ipv6Available();
    if (cfg.ipForward !== false) await setSysctl('net.ipv4.ip_forward', '1');
    let def = recs.find((r) => r.Name === 'bridge');
    if (cfg.bridge === 'none') {
      if (def) { await this.#unsave(def.Id); recs.splice(recs.indexOf(def), 1); }
      def = undefined;
    } else {
      const d = await this.#defaultBridge(def, recs);
      if (!def) recs.splice(2, 0, d);
      else recs[recs.indexOf(def)] = d;
    }
    for (const r of recs) this.#nets.set(r.Id, this.#net(r));
    await Promise.all([...this.#nets.values()].filter((n) => n.bridge && n.rec.Name !== 'bridge').map((n) => this.#bridgeUp(n)));
    await this.#sweepSandboxes();
    // endpoints and ports of the containers that kept running (live-restore)
    for (const c of this.#h.containers()) {
      if (!this.#h.running(c)) continue;
      for (const b of this.#bindings(c)) this.#ports.allocate(b.hostIp, b.proto, b.hostPort);
    }
    await Promise.all(this.#h.containers().filter((c) => this.#h.running(c)).map((c) => this.#startProxies(c).catch((err: unknown) => log().warn({ err, id: c.ID }, 'cannot restore a port proxy'))));
    await Promise.all([...this.#nets.values()].filter((n) => n.rec.Driver === 'bridge' && n.rec.Name !== 'bridge').map((n) => this.#startDns(n)));
    if (this.#iptables) await this.#applyRules();
    else await removeRules(this.#ownership()).catch(() => {});
  }

  /** Namespaces no container holds: left by a crash between making one and recording it. */
  async #sweepSandboxes(): Promise<void> {
    const dir = join(this.#h.execRoot, 'netns');
    const held = new Set(this.#h.containers().map((c) => c.NetworkSettings?.SandboxKey).filter(Boolean));
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(names.map((n) => join(dir, n)).filter((p) => !held.has(p)).map((p) => deleteSandbox(p).catch(() => {})));
  }

  async #defaultBridge(prev: NetworkRecord | undefined, recs: NetworkRecord[]): Promise<NetworkRecord> {
    const cfg = this.#h.config;
    const name = cfg.bridge || DEFAULT_BRIDGE;
    let gwCidr: string;
    if (cfg.bip) {
      const c = parseCidr(cfg.bip);
      const ip = cfg.bip.split('/')[0]!;
      gwCidr = `${ip}/${c.bits}`;
    } else {
      const have = await bridgeAddress(name);
      if (have.cidr) gwCidr = have.cidr;
      else {
        const others = recs.filter((r) => r.Driver === 'bridge' && r.Name !== 'bridge').flatMap((r) => r.IPAM.Config.map((x) => x.Subnet ?? '')).filter(Boolean);
        const sub = parseCidr(pickPool([...await routedPrefixes(), ...others], cfg.defaultAddressPools ?? DEFAULT_ADDRESS_POOLS));
        gwCidr = `${formatIPv4(sub.base + 1)}/${sub.bits}`;
      }
    }
    const sub = parseCidr(gwCidr);
    const mtu = cfg.mtu ?? 1500;
    await ensureBridge(name, gwCidr, mtu);
    if (cfg.userlandProxy === false) await setSysctl(`net.ipv4.conf.${name}.route_localnet`, '1');
    const ipam: NetworkRecord['IPAM']['Config'][number] = { Subnet: formatCidr(sub) };
    if (cfg.fixedCidr) ipam.IPRange = formatCidr(parseCidr(cfg.fixedCidr));
    if (cfg.bip) ipam.Gateway = gwCidr.split('/')[0]!;
    const rec: NetworkRecord = {
      Name: 'bridge', Id: prev?.Id ?? newId(), Created: prev?.Created ?? rfc3339Nano(nowNanos()), Driver: 'bridge', EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: [ipam] }, Internal: false, Attachable: false, Ingress: false,
      Options: {
        [`${BRIDGE_OPT}default_bridge`]: 'true', [`${BRIDGE_OPT}enable_icc`]: String(cfg.icc !== false),
        [`${BRIDGE_OPT}enable_ip_masquerade`]: String(cfg.ipMasq !== false), [`${BRIDGE_OPT}host_binding_ipv4`]: cfg.ip || '0.0.0.0',
        [`${BRIDGE_OPT}name`]: name, 'com.docker.network.driver.mtu': String(mtu),
      },
      Labels: {},
    };
    // the gateway the bridge really has (bip may name any address of the subnet)
    (rec as Stored).BerthGateway = gwCidr.split('/')[0]!;
    await this.#save(rec);
    return rec;
  }

  #net(rec: NetworkRecord): Net {
    const cfg = rec.IPAM.Config[0];
    if (rec.Driver !== 'bridge' || !cfg?.Subnet) return { rec, bridge: '', prefix: 0, mtu: 0 };
    const sub = parseCidr(cfg.Subnet);
    const gw = (rec as Stored).BerthGateway ?? cfg.Gateway ?? formatIPv4(sub.base + 1);
    return {
      rec, bridge: rec.Options[`${BRIDGE_OPT}name`] || bridgeName(rec.Id), subnet: formatCidr(sub), gateway: gw,
      ...(cfg.IPRange ? { ipRange: cfg.IPRange } : {}), prefix: sub.bits, mtu: Number(rec.Options['com.docker.network.driver.mtu'] ?? this.#h.config.mtu ?? 1500),
    };
  }

  async #bridgeUp(n: Net): Promise<void> {
    await ensureBridge(n.bridge, `${n.gateway}/${n.prefix}`, n.mtu);
    // without the proxy, the host's own connections to 127.0.0.1:<port> are DNATed onto the bridge (hairpin)
    if (this.#h.config.userlandProxy === false) await setSysctl(`net.ipv4.conf.${n.bridge}.route_localnet`, '1');
  }

  async #save(rec: NetworkRecord): Promise<NetworkRecord> {
    await atomicWriteJson(join(this.#dir, `${rec.Id}.json`), rec);
    return rec;
  }

  async #unsave(id: string): Promise<void> {
    await rm(join(this.#dir, `${id}.json`), { force: true });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#nets.values()].map((n) => n.dns?.close()));
    await Promise.all([...this.#proxies.values()].flat().map((p) => p.close().catch(() => {})));
    this.#proxies.clear();
    await this.#rulesQueue;
  }

  // ───────────── lookups ─────────────

  /** By full name, full id or unique id prefix (names first, as dockerd). */
  #find(ref: string): Net {
    for (const n of this.#nets.values()) if (n.rec.Name === ref) return n;
    const byId = this.#nets.get(ref);
    if (byId) return byId;
    const hits = [...this.#nets.values()].filter((n) => n.rec.Id.startsWith(ref));
    if (hits.length === 1 && ref.length > 0) return hits[0]!;
    if (hits.length > 1) throw new InvalidArgumentError(`network ${ref} is ambiguous (${hits.length} matches found based on ID prefix)`);
    throw new NotFoundError(`network ${ref} not found`);
  }

  /** The network a container's NetworkSettings key names (by name; the id recorded at join as a fallback). */
  #byKey(key: string, ep?: EndpointSettings): Net | undefined {
    for (const n of this.#nets.values()) if (n.rec.Name === key) return n;
    return ep?.NetworkID ? this.#nets.get(ep.NetworkID) : undefined;
  }

  #allocated(n: Net): Set<string> {
    const s = new Set<string>();
    for (const c of this.#h.containers()) {
      for (const ep of Object.values(c.NetworkSettings?.Networks ?? {})) if (ep.NetworkID === n.rec.Id && ep.IPAddress) s.add(ep.IPAddress);
    }
    return s;
  }

  #endpoints(n: Net): Record<string, NetworkEndpointView> {
    const out: Record<string, NetworkEndpointView> = {};
    for (const c of this.#h.containers()) {
      for (const ep of Object.values(c.NetworkSettings?.Networks ?? {})) {
        if (ep.NetworkID !== n.rec.Id || !ep.EndpointID) continue;
        out[c.ID] = { Name: c.Name.replace(/^\//, ''), EndpointID: ep.EndpointID, MacAddress: ep.MacAddress, IPv4Address: ep.IPAddress ? `${ep.IPAddress}/${ep.IPPrefixLen}` : '', IPv6Address: '' };
      }
    }
    return out;
  }

  #view(n: Net): NetworkView {
    return { network: n.rec, containers: this.#endpoints(n) };
  }

  // ───────────── API ─────────────

  list(filters: Record<string, string[]>): NetworkView[] {
    for (const k of Object.keys(filters)) {
      if (!['driver', 'id', 'label', 'name', 'scope', 'type', 'dangling'].includes(k)) throw new InvalidArgumentError(`invalid filter '${k}'`);
    }
    const nets = [...this.#nets.values()].filter((n) => {
      const r = n.rec;
      const f = (k: string) => filters[k] ?? [];
      if (f('driver').length && !f('driver').includes(r.Driver)) return false;
      if (f('id').length && !f('id').some((v) => r.Id.includes(v))) return false;
      if (f('name').length && !f('name').some((v) => r.Name.includes(v))) return false;
      if (f('scope').length && !f('scope').includes('local')) return false; // every network here is local
      if (f('type').length) {
        for (const t of f('type')) if (t !== 'custom' && t !== 'builtin') throw new InvalidArgumentError(`invalid filter: 'type'='${t}'`);
        const builtin = PREDEFINED.includes(r.Name);
        if (!f('type').some((t) => (t === 'builtin') === builtin)) return false;
      }
      for (const l of f('label')) {
        const i = l.indexOf('=');
        if (i < 0 ? !(l in r.Labels) : r.Labels[l.slice(0, i)] !== l.slice(i + 1)) return false;
      }
      if (f('dangling').length) {
        const want = f('dangling')[0] === 'true' || f('dangling')[0] === '1';
        const dangling = !PREDEFINED.includes(r.Name) && !this.#inUse(n);
        if (want !== dangling) return false;
      }
      return true;
    });
    return nets.map((n) => this.#view(n));
  }

  inspect(ref: string): NetworkView { return this.#view(this.#find(ref)); }

  #inUse(n: Net): boolean {
    return this.#h.containers().some((c) => Object.entries(c.NetworkSettings?.Networks ?? {}).some(([k, ep]) => ep.NetworkID === n.rec.Id || k === n.rec.Name));
  }

  async create(req: NetworkCreateRequest): Promise<{ id: string; warning: string }> {
    const name = req.Name;
    if (!name) throw new InvalidArgumentError('invalid name: ');
    const driver = req.Driver || 'bridge';
    if (PREDEFINED.includes(name)) throw new ForbiddenError(`${name} is a pre-defined network and cannot be created`);
    for (const n of this.#nets.values()) if (n.rec.Name === name) throw new ConflictError(`network with name ${name} already exists`);
    if (driver !== 'bridge') {
      if (driver === 'host' || driver === 'null') throw new ForbiddenError(`only one instance of "${driver}" network is allowed`);
      throw new NotFoundError(`plugin "${driver}" not found`);
    }
    const opts = sortedMap(req.Options);
    const cfgs = req.IPAM?.Config ?? [];
    const v4 = cfgs.filter((c) => !c.Subnet?.includes(':'));
    if (v4.length > 1) throw new InvalidArgumentError('bridge driver doesnt support multiple subnets');
    const want = v4[0] ?? {};
    const others = [...this.#nets.values()].filter((n) => n.subnet);
    let subnet: string;
    if (want.Subnet) {
      let s;
      try { s = parseCidr(want.Subnet); } catch (err) { throw new InvalidArgumentError(`Invalid subnet ${want.Subnet} : ${(err as Error).message}`); }
      subnet = formatCidr(s);
      const clash = others.find((n) => cidrOverlaps(parseCidr(n.subnet!), s));
      if (clash) throw new ForbiddenError(`Pool overlaps with other one on this address space`);
    } else {
      if (want.IPRange || want.Gateway) throw new InvalidArgumentError('user specified IP address is supported only when connecting to networks with user configured subnets');
      subnet = pickPool([...others.map((n) => n.subnet!), ...await routedPrefixes()], this.#h.config.defaultAddressPools ?? DEFAULT_ADDRESS_POOLS);
    }
    const sub = parseCidr(subnet);
    // dockerd's checks of --gateway and --ip-range against the subnet (network/ipam.ts)
    newSubnetState({ subnet, ...(want.Gateway ? { gateway: want.Gateway } : {}), ...(want.IPRange ? { ipRange: want.IPRange } : {}) });
    const ipam: NetworkRecord['IPAM']['Config'][number] = { Subnet: subnet };
    if (want.IPRange) ipam.IPRange = want.IPRange;
    // dockerd records a gateway it chose only for a subnet it chose
    if (want.Gateway || !want.Subnet) ipam.Gateway = want.Gateway || formatIPv4(sub.base + 1);
    if (want.AuxiliaryAddresses && Object.keys(want.AuxiliaryAddresses).length) ipam.AuxiliaryAddresses = want.AuxiliaryAddresses;
    const id = newId();
    const brName = opts[`${BRIDGE_OPT}name`] || bridgeName(id);
    if ([...this.#nets.values()].some((n) => n.bridge === brName)) throw new ConflictError(`bridge name ${brName} is already in use`);
    const rec: NetworkRecord = {
      Name: name, Id: id, Created: rfc3339Nano(nowNanos()), Driver: 'bridge', EnableIPv6: req.EnableIPv6 === true,
      IPAM: { Driver: req.IPAM?.Driver || 'default', Options: req.IPAM?.Options && Object.keys(req.IPAM.Options).length ? sortedMap(req.IPAM.Options) : {}, Config: [ipam] },
      Internal: req.Internal === true, Attachable: req.Attachable === true, Ingress: req.Ingress === true, Options: opts, Labels: sortedMap(req.Labels),
    };
    const n = this.#net(rec);
    n.bridge = brName;
    await this.#bridgeUp(n);
    try {
      await this.#save(rec);
    } catch (err) {
      await deleteBridge(brName);
      throw err;
    }
    this.#nets.set(id, n);
    await this.#startDns(n);
    await this.#rules();
    this.#h.emit('create', id, { name, type: 'bridge' });
    return { id, warning: '' };
  }

  async remove(ref: string): Promise<void> {
    const n = this.#find(ref);
    if (PREDEFINED.includes(n.rec.Name)) throw new ForbiddenError(`${n.rec.Name} is a pre-defined network and cannot be removed`);
    if (Object.keys(this.#endpoints(n)).length) throw new ForbiddenError(`error while removing network: network ${n.rec.Name} id ${n.rec.Id} has active endpoints`);
    await this.#drop(n);
  }

  /**
   * Rules first, with the network's bridge still counted as berth's so that its rules go; the file last: a crash
   * in between leaves the network, whose rules the next start applies again.
   */
  async #drop(n: Net): Promise<void> {
    this.#nets.delete(n.rec.Id);
    this.#gone.add(n);
    try {
      await this.#rules();
    } finally {
      this.#gone.delete(n);
    }
    await this.#unsave(n.rec.Id);
    await n.dns?.close();
    await deleteBridge(n.bridge);
    this.#h.emit('destroy', n.rec.Id, { name: n.rec.Name, type: 'bridge' });
  }

  async prune(filters: Record<string, string[]>): Promise<string[]> {
    for (const k of Object.keys(filters)) if (!['until', 'label', 'label!'].includes(k)) throw new InvalidArgumentError(`Invalid filter '${k}'`);
    const out: string[] = [];
    for (const n of [...this.#nets.values()]) {
      if (PREDEFINED.includes(n.rec.Name) || this.#inUse(n)) continue;
      const labels = n.rec.Labels;
      const lab = (l: string) => { const i = l.indexOf('='); return i < 0 ? l in labels : labels[l.slice(0, i)] === l.slice(i + 1); };
      if (!(filters.label ?? []).every(lab) || (filters['label!'] ?? []).some(lab)) continue;
      if (filters.until?.length) {
        const u = filters.until[0]!;
        const t = /^\d+(\.\d+)?$/.test(u) ? BigInt(Math.floor(Number(u) * 1e9)) : parseRfc3339(u);
        if (t !== undefined && (parseRfc3339(n.rec.Created) ?? 0n) >= t) continue;
      }
      await this.#drop(n);
      out.push(n.rec.Name);
    }
    return out;
  }

  // ───────────── container endpoints ─────────────

  /** At create: the EndpointsConfig of the request goes into NetworkSettings.Networks (validated at start, as dockerd). */
  static endpointsAtCreate(mode: string, req: Record<string, unknown> | undefined, base: Record<string, EndpointSettings>): Record<string, EndpointSettings> {
    const out = { ...base };
    for (const [name, raw] of Object.entries(req ?? {})) {
      const r = (raw ?? {}) as EndpointRequest;
      const key = name === 'default' ? 'bridge' : name;
      if (!(key in out) && mode !== name) continue;
      out[key] = { ...emptyEndpoint(), ...endpointFromRequest(r) };
    }
    return out;
  }

  /** dockerd's create-time checks of the network mode against other settings (runconfig validateNetMode). */
  static checkCreate(mode: string, c: { hostname: boolean; links: boolean; dns: boolean; extraHosts: boolean; ports: boolean; exposed: boolean; mac: boolean }, endpoints: Record<string, EndpointSettings>): void {
    const container = mode.startsWith('container:');
    if (container) {
      if (c.hostname) throw new InvalidArgumentError('conflicting options: hostname and the network mode');
      if (c.links) throw new InvalidArgumentError('conflicting options: container type network can\'t be used with links. This would result in undefined behavior');
      if (c.dns) throw new InvalidArgumentError('conflicting options: dns and the network mode');
      if (c.extraHosts) throw new InvalidArgumentError('conflicting options: custom host-to-IP mapping and the network mode');
      if (c.ports) throw new InvalidArgumentError('conflicting options: port publishing and the container type network mode');
      if (c.exposed) throw new InvalidArgumentError('conflicting options: port exposing and the container type network mode');
      if (c.mac) throw new InvalidArgumentError('conflicting options: mac-address and the network mode');
    }
    if (mode === 'host' && c.links) throw new InvalidArgumentError('conflicting options: host type networking can\'t be used with links. This would result in undefined behavior');
    const builtin = mode === 'host' || mode === 'none' || container || mode === 'default' || mode === 'bridge';
    for (const [key, ep] of Object.entries(endpoints)) {
      if (ep.Aliases?.length && (builtin && (key === 'bridge' || key === mode))) throw new InvalidArgumentError('network-scoped alias is supported only for containers in user defined networks');
      const ip = (ep.IPAMConfig as { IPv4Address?: string } | null)?.IPv4Address;
      if (ip && builtin && (key === 'bridge' || key === mode)) throw new InvalidArgumentError('user specified IP address is supported on user defined networks only');
    }
  }

  /** Sets up the container's network before its start: netns, veths, addresses, ports, DNS records. */
  async attach(c: Container): Promise<Attachment> {
    const mode = c.HostConfig.NetworkMode || 'default';
    const bridgeNet = [...this.#nets.values()].find((n) => n.rec.Name === 'bridge');
    const hostGateway = bridgeNet?.gateway;
    const base = { ...(hostGateway ? { hostGateway } : {}) };
    if (mode === 'host') return { netns: 'host', kind: 'host', ...base };
    // bridge: none turns the default bridge off: a default container then has loopback only, as with dockerd
    if (mode === 'none' || (mode === 'default' && !bridgeNet)) return { netns: undefined, kind: 'none', ...base };
    if (mode.startsWith('container:')) {
      const peer = this.#h.resolve(mode.slice('container:'.length));
      if (!this.#h.running(peer)) throw new ConflictError(`cannot join network of a non running container: ${peer.ID}`);
      const key = peer.NetworkSettings.SandboxKey;
      const netns = peer.HostConfig.NetworkMode === 'host' ? 'host' : key || `/proc/${peer.State.Pid}/ns/net`;
      return { netns, kind: 'container', peer, ...base };
    }
    const ns = c.NetworkSettings;
    const keys = Object.keys(ns.Networks);
    if (!keys.length) ns.Networks[mode === 'default' ? 'bridge' : mode] = emptyEndpoint();
    const joins: { key: string; n: Net; ep: EndpointSettings }[] = [];
    for (const [key, ep] of Object.entries(ns.Networks)) {
      const n = this.#byKey(key, ep);
      if (!n) throw new NotFoundError(`network ${key} not found`);
      if (!n.bridge) throw new InvalidArgumentError(`container cannot be connected to network ${key}`);
      joins.push({ key, n, ep });
    }
    const sandboxId = newId();
    const path = join(this.#h.execRoot, 'netns', sandboxId.slice(0, 12));
    await mkdir(join(this.#h.execRoot, 'netns'), { recursive: true });
    const links: SandboxLink[] = [];
    const taken: { n: Net; ip: string }[] = [];
    let gatewaySet = false;
    try {
      joins.forEach(({ key, n, ep }, i) => {
        const ip = this.#allocateIP(n, ep, taken);
        taken.push({ n, ip });
        const mac = (i === 0 && c.Config.MacAddress) || ep.MacAddress || macFromIP(ip);
        const link: SandboxLink = { bridge: n.bridge, hostIf: `veth${newId().slice(0, 7)}`, ifname: `eth${i}`, ip, prefix: n.prefix, mac, mtu: n.mtu };
        if (!gatewaySet && !n.rec.Internal) { link.gateway = n.gateway!; gatewaySet = true; }
        links.push(link);
        Object.assign(ep, {
          NetworkID: n.rec.Id, EndpointID: newId(), Gateway: n.rec.Internal ? '' : n.gateway!, IPAddress: ip, IPPrefixLen: n.prefix, MacAddress: mac,
          Aliases: n.rec.Name === 'bridge' ? ep.Aliases : uniq([...(ep.Aliases ?? []), c.ID.slice(0, 12)]),
        });
      });
    } catch (err) {
      for (const { ep } of joins) clearEndpoint(ep);
      throw err;
    }
    ns.SandboxID = sandboxId;
    ns.SandboxKey = path;
    ns.Bridge = '';
    // the namespace and the ports (proxies, rules) at once: the ports need only the addresses
    const [made, published] = await Promise.allSettled([createSandbox(path, links), this.#publish(c)]);
    if (made.status === 'rejected' || published.status === 'rejected') {
      await this.detach(c);
      throw made.status === 'rejected' ? made.reason : (published as PromiseRejectedResult).reason;
    }
    ns.Ports = published.value;
    for (const { n } of joins) this.#h.emit('connect', n.rec.Id, { container: c.ID, name: n.rec.Name, type: n.rec.Driver });
    const first = joins[0]!;
    const user = first.n.rec.Name !== 'bridge';
    return { netns: path, kind: user ? 'user' : 'bridge', ip: first.ep.IPAddress, ...(user ? { dns: first.n.gateway! } : {}), ...base };
  }

  /** The endpoint's address: `--ip`, or the lowest free one (network/ipam.ts), never one a running container holds. */
  #allocateIP(n: Net, ep: EndpointSettings, alsoTaken: { n: Net; ip: string }[]): string {
    const taken = this.#allocated(n);
    for (const t of alsoTaken) if (t.n === n) taken.add(t.ip);
    for (const a of Object.values(n.rec.IPAM.Config[0]?.AuxiliaryAddresses ?? {})) taken.add(a);
    const want = (ep.IPAMConfig as { IPv4Address?: string } | null)?.IPv4Address || undefined;
    if (want) checkStaticIP(n.rec.Name, !n.rec.Options[`${BRIDGE_OPT}default_bridge`] && !!n.rec.IPAM.Config[0]?.Subnet);
    const state = { subnet: n.subnet!, gateway: n.gateway!, ...(n.ipRange ? { ipRange: n.ipRange } : {}), allocated: [...taken] };
    return allocateAddress(state, want).ip;
  }

  /** The container's wanted bindings → allocated host ports, proxies started, rules applied. NetworkSettings.Ports shape. */
  async #publish(c: Container): Promise<PortMap> {
    const hc = c.HostConfig;
    const exposed = Object.keys(c.Config.ExposedPorts ?? {});
    let wanted: PortMap = { ...(hc.PortBindings ?? {}) };
    if (hc.PublishAllPorts) wanted = publishAll(exposed, Object.fromEntries(Object.entries(wanted).filter((x): x is [string, NonNullable<PortMap[string]>] => !!x[1])));
    const out: PortMap = {};
    for (const p of exposed) out[p] = null;
    const taken: { ip: string; proto: string; port: number }[] = [];
    const defIp = this.#h.config.ip || '0.0.0.0';
    try {
      for (const [key, list] of Object.entries(wanted)) {
        const [num, proto = 'tcp'] = key.split('/');
        if (!list?.length) { out[key] = null; continue; }
        const res: { HostIp: string; HostPort: string }[] = [];
        for (const b of list) {
          const ip = b.HostIp || defIp;
          if (ip.includes(':') && !this.#v6) continue;
          const [lo, hi] = (b.HostPort || '').split('-').map((x) => (x ? Number(x) : 0));
          const port = this.#ports.allocate(ip, proto, lo ?? 0, hi ?? 0);
          taken.push({ ip, proto, port });
          res.push({ HostIp: ip, HostPort: String(port) });
          // an unspecified address is IPv4 and IPv6 (dockerd 20.10: 0.0.0.0 and ::, one port), IPv6 by the proxy only
          if (!b.HostIp && !this.#h.config.ip && this.#v6) {
            this.#ports.allocate('::', proto, port);
            taken.push({ ip: '::', proto, port });
            res.push({ HostIp: '::', HostPort: String(port) });
          }
        }
        out[`${num}/${proto}`] = res;
      }
    } catch (err) {
      for (const t of taken) this.#ports.release(t.ip, t.proto, t.port);
      throw err;
    }
    c.NetworkSettings.Ports = out;
    try {
      await this.#startProxies(c);
      if (taken.length) await this.#rules();
    } catch (err) {
      for (const t of taken) this.#ports.release(t.ip, t.proto, t.port);
      await this.#stopProxies(c);
      c.NetworkSettings.Ports = {};
      throw err;
    }
    return out;
  }

  /** Published ports of a running container as rules/proxy input. */
  #bindings(c: Container): PublishedPort[] {
    const out: PublishedPort[] = [];
    const nets = Object.entries(c.NetworkSettings?.Networks ?? {});
    const first = nets[0];
    if (!first) return out;
    const n = this.#byKey(first[0], first[1]);
    const ip = first[1].IPAddress;
    if (!n?.bridge || !ip) return out;
    for (const [key, list] of Object.entries(c.NetworkSettings.Ports ?? {})) {
      const [num, proto = 'tcp'] = key.split('/');
      for (const b of list ?? []) out.push({ bridge: n.bridge, containerIp: ip, containerPort: Number(num), proto, hostIp: b.HostIp, hostPort: Number(b.HostPort) });
    }
    return out;
  }

  async #startProxies(c: Container): Promise<void> {
    if (this.#h.config.userlandProxy === false) return;
    const list: { close(): Promise<void> }[] = [];
    this.#proxies.set(c.ID, list);
    for (const b of this.#bindings(c)) {
      list.push(await startProxy({ proto: b.proto as 'tcp' | 'udp', hostIp: b.hostIp, hostPort: b.hostPort, containerIp: b.containerIp, containerPort: b.containerPort }));
    }
  }

  async #stopProxies(c: Container): Promise<void> {
    const list = this.#proxies.get(c.ID);
    this.#proxies.delete(c.ID);
    await Promise.all((list ?? []).map((p) => p.close().catch(() => {})));
  }

  /** After the container's exit: ports, proxies, sandbox and addresses go; the endpoints stay listed (emptied), as dockerd. */
  async detach(c: Container): Promise<void> {
    const ns = c.NetworkSettings;
    if (!ns) return;
    const bindings = this.#bindings(c);
    for (const b of bindings) this.#ports.release(b.hostIp, b.proto, b.hostPort);
    await this.#stopProxies(c);
    const path = ns.SandboxKey;
    if (path && path.startsWith(join(this.#h.execRoot, 'netns'))) await deleteSandbox(path).catch((err: unknown) => log().warn({ err, id: c.ID }, 'cannot remove a network namespace'));
    for (const [key, ep] of Object.entries(ns.Networks ?? {})) {
      if (ep.EndpointID) {
        const n = this.#byKey(key, ep);
        if (n) this.#h.emit('disconnect', n.rec.Id, { container: c.ID, name: n.rec.Name, type: n.rec.Driver });
      }
      clearEndpoint(ep);
    }
    ns.Ports = {};
    ns.SandboxKey = '';
    ns.SandboxID = '';
    if (bindings.length) await this.#rules();
  }

  /**
   * Connects a container; for a running one on the default bridge joining a user network, returns the DNS address
   * its resolv.conf should now name (dockerd starts its embedded resolver for the container then).
   */
  async connect(ref: string, container: Container, req: EndpointRequest): Promise<{ dns?: string }> {
    const n = this.#find(ref);
    const mode = container.HostConfig.NetworkMode || 'default';
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) throw new ForbiddenError(`container sharing network namespace with another container or host cannot be connected to any other network`);
    if (n.rec.Driver !== 'bridge') throw new ForbiddenError(`container cannot be disconnected from host network or connected to host network`);
    const nets = container.NetworkSettings.Networks;
    if (nets[n.rec.Name] && (nets[n.rec.Name]!.EndpointID || !this.#h.running(container))) throw new ForbiddenError(`endpoint with name ${container.Name.slice(1)} already exists in network ${n.rec.Name}`);
    if (n.rec.Name === 'bridge' && req.Aliases?.length) throw new InvalidArgumentError('network-scoped alias is supported only for containers in user defined networks');
    const ep: EndpointSettings = { ...emptyEndpoint(), ...endpointFromRequest(req) };
    if (!this.#h.running(container)) {
      if ((ep.IPAMConfig as { IPv4Address?: string } | null)?.IPv4Address) this.#allocateIP(n, ep, []); // checks only
      nets[n.rec.Name] = ep;
      await this.#h.persist(container);
      this.#h.emit('connect', n.rec.Id, { container: container.ID, name: n.rec.Name, type: 'bridge' });
      return {};
    }
    const ip = this.#allocateIP(n, ep, []);
    const i = Object.keys(nets).length;
    const mac = macFromIP(ip);
    const link: SandboxLink = { bridge: n.bridge, hostIf: `veth${newId().slice(0, 7)}`, ifname: `eth${i}`, ip, prefix: n.prefix, mac, mtu: n.mtu };
    await addLink(container.NetworkSettings.SandboxKey, link);
    Object.assign(ep, {
      NetworkID: n.rec.Id, EndpointID: newId(), Gateway: n.rec.Internal ? '' : n.gateway!, IPAddress: ip, IPPrefixLen: n.prefix, MacAddress: mac,
      Aliases: n.rec.Name === 'bridge' ? ep.Aliases : uniq([...(ep.Aliases ?? []), container.ID.slice(0, 12)]),
      DriverOpts: { ...(ep.DriverOpts ?? {}), 'berth.veth': link.hostIf },
    });
    nets[n.rec.Name] = ep;
    await this.#h.persist(container);
    this.#h.emit('connect', n.rec.Id, { container: container.ID, name: n.rec.Name, type: 'bridge' });
    const before = Object.entries(nets).filter(([k]) => k !== n.rec.Name).map(([k, e]) => this.#byKey(k, e));
    const hadResolver = before.some((b) => b && b.rec.Name !== 'bridge');
    return n.rec.Name !== 'bridge' && !hadResolver && n.gateway ? { dns: n.gateway } : {};
  }

  async disconnect(ref: string, container: Container, force: boolean): Promise<void> {
    let n: Net | undefined;
    try { n = this.#find(ref); } catch (err) { if (!force) throw err; }
    const nets = container.NetworkSettings.Networks;
    const key = n ? Object.keys(nets).find((k) => k === n!.rec.Name || nets[k]!.NetworkID === n!.rec.Id) : Object.keys(nets).find((k) => k === ref);
    if (n && (n.rec.Driver === 'host' || n.rec.Driver === 'null')) throw new ForbiddenError('container cannot be disconnected from host network or connected to host network');
    if (!key) throw new InvalidArgumentError(`container ${container.ID} is not connected to network ${ref}`);
    const ep = nets[key]!;
    const veth = ep.DriverOpts?.['berth.veth'];
    if (this.#h.running(container) && ep.EndpointID) {
      if (veth) await removeLink(veth);
      else {
        // the first network's link: find its host end by the interface index inside
        await removeLinkByIfname(container.NetworkSettings.SandboxKey, ifnameOf(nets, key));
      }
    }
    delete nets[key];
    await this.#h.persist(container);
    this.#h.emit('disconnect', n?.rec.Id ?? ref, { container: container.ID, name: n?.rec.Name ?? ref, type: 'bridge' });
  }

  /** The names of a container as other containers on network `n` resolve them. */
  #records(n: Net): Map<string, string[]> {
    const m = new Map<string, string[]>();
    const add = (name: string, ip: string) => {
      const k = name.toLowerCase();
      const l = m.get(k);
      if (l) { if (!l.includes(ip)) l.push(ip); } else m.set(k, [ip]);
    };
    for (const c of this.#h.containers()) {
      for (const ep of Object.values(c.NetworkSettings?.Networks ?? {})) {
        if (ep.NetworkID !== n.rec.Id || !ep.IPAddress) continue;
        add(c.Name.replace(/^\//, ''), ep.IPAddress);
        for (const a of ep.Aliases ?? []) add(a, ep.IPAddress);
        add(c.ID.slice(0, 12), ep.IPAddress);
        // --link on a user network: an alias seen only by this container is not modelled; links live in /etc/hosts
      }
    }
    return m;
  }

  async #startDns(n: Net): Promise<void> {
    if (!n.gateway || n.dns) return;
    let upstream: string[] = [];
    const refresh = () => this.#h.hostResolv().then((t) => {
      upstream = t.split('\n').map((l) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(l)?.[1]).filter((x): x is string => !!x && !x.startsWith('127.'));
    }).catch(() => {});
    await refresh();
    const dns = await newDnsServer({
      // the table is built per lookup: a container is known the moment it starts
      address: n.gateway, records: { lookup: (name: string) => this.#records(n).get(name) ?? [] },
      upstream: () => upstream,
    });
    try {
      await dns.start();
      n.dns = dns;
    } catch (err) {
      log().warn({ err, network: n.rec.Name, address: n.gateway }, 'cannot start the DNS of a network: names will not resolve on it');
    }
  }

  // ───────────── firewall ─────────────

  #ownership(): { bridges: string[]; subnets: string[] } {
    const bridged = [...this.#nets.values(), ...this.#gone].filter((n) => n.bridge);
    return { bridges: bridged.map((n) => n.bridge), subnets: bridged.map((n) => n.subnet!) };
  }

  /** Rules for the current state; calls coalesce (one apply in flight, one queued). */
  #rules(): Promise<void> {
    if (!this.#iptables) return Promise.resolve();
    if (this.#rulesDirty) return this.#rulesQueue;
    this.#rulesDirty = true;
    this.#rulesQueue = this.#rulesQueue.then(() => { this.#rulesDirty = false; return this.#applyRules(); }).catch((err: unknown) => {
      log().error({ err }, 'cannot apply the firewall rules');
      throw err;
    });
    return this.#rulesQueue;
  }

  async #applyRules(): Promise<void> {
    const cfg = this.#h.config;
    // Docker lists the most recently set up network first
    const nets = [...this.#nets.values()].filter((n) => n.bridge).reverse();
    const networks: BridgeNetwork[] = nets.map((n) => ({
      bridge: n.bridge, subnet: n.subnet!, internal: n.rec.Internal,
      icc: n.rec.Name === 'bridge' ? cfg.icc !== false : n.rec.Options[`${BRIDGE_OPT}enable_icc`] !== 'false',
      masquerade: n.rec.Name === 'bridge' ? cfg.ipMasq !== false : n.rec.Options[`${BRIDGE_OPT}enable_ip_masquerade`] !== 'false',
    }));
    // IPv6 bindings are served by the proxy alone (no ip6tables, as dockerd 20.10 without it)
    const ports = this.#h.containers().filter((c) => this.#h.running(c) || c.NetworkSettings?.SandboxKey).flatMap((c) => this.#bindings(c)).filter((p) => !p.hostIp.includes(':'));
    // icc false drops traffic between ports of one bridge: that traffic must pass iptables at all (as dockerd sets it)
    if (networks.some((n) => n.icc === false) && !this.#bridgeNf) {
      this.#bridgeNf = true;
      await setSysctl('net.bridge.bridge-nf-call-iptables', '1');
    }
    await applyRules(generateRules({ networks, ports, userlandProxy: cfg.userlandProxy !== false }), this.#ownership());
  }
}

function predefined(name: string, driver: string): NetworkRecord {
  return {
    Name: name, Id: newId(), Created: rfc3339Nano(nowNanos()), Driver: driver, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false, Options: {}, Labels: {},
  };
}

function uniq(a: string[]): string[] { return [...new Set(a)]; }

/** Can this host listen on `::` (IPv6 on, not only loopback-less)? */
function ipv6Available(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '::', port: 0, ipv6Only: true }, () => s.close(() => resolve(true)));
  });
}

function endpointFromRequest(r: EndpointRequest): Partial<EndpointSettings> {
  const out: Partial<EndpointSettings> = {};
  const ipam = r.IPAMConfig;
  if (ipam && (ipam.IPv4Address || ipam.IPv6Address || ipam.LinkLocalIPs?.length)) out.IPAMConfig = ipam;
  if (r.Links?.length) out.Links = r.Links;
  if (r.Aliases?.length) out.Aliases = r.Aliases;
  if (r.DriverOpts && Object.keys(r.DriverOpts).length) out.DriverOpts = r.DriverOpts;
  if (r.MacAddress) out.MacAddress = r.MacAddress;
  return out;
}

function clearEndpoint(ep: EndpointSettings): void {
  Object.assign(ep, { NetworkID: ep.NetworkID, EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' });
  if (ep.DriverOpts?.['berth.veth']) {
    const { ['berth.veth']: _gone, ...rest } = ep.DriverOpts;
    ep.DriverOpts = Object.keys(rest).length ? rest : null;
  }
  if (ep.Aliases) ep.Aliases = ep.Aliases.filter((a) => !/^[0-9a-f]{12}$/.test(a)).length ? ep.Aliases.filter((a) => !/^[0-9a-f]{12}$/.test(a)) : null;
}

function ifnameOf(nets: Record<string, EndpointSettings>, key: string): string {
  return `eth${Object.keys(nets).indexOf(key)}`;
}

async function removeLinkByIfname(sandbox: string, ifname: string): Promise<void> {
  await run('nsenter', [`--net=${sandbox}`, 'ip', 'link', 'del', ifname], { allowFailure: true });
}

