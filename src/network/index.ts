/**
 * Networking as data (L1): IPAM, published-port parsing/allocation/display, berth's iptables rules
 * (generated and turned into iptables-restore input), and the /etc/hosts + resolv.conf texts.
 * Nothing here touches the host; the engine applies the results.
 */
export {
  parseIPv4, formatIPv4, parseCidr, formatCidr, cidrSize, cidrContains, cidrOverlaps, netmask, broadcast,
  DEFAULT_ADDRESS_POOLS, poolSubnets, pickPool, macFromIP, newSubnetState, allocateAddress, releaseAddress, checkStaticIP,
  type Cidr, type AddressPool, type SubnetState, type SubnetRequest,
} from './ipam.ts';
export {
  publishAll, PortAllocator, EPHEMERAL_START, EPHEMERAL_END, type PortBinding, type PortMap, type PortAllocatorState,
} from './ports.ts';
export {
  CHAIN, USER_CHAIN, ISOLATION1, ISOLATION2, DEFAULT_BRIDGE, generateRules, formatSave, parseSave, ownedRule,
  restoreScript, cleanupScript,
  type BridgeNetwork, type PublishedPort, type RulesInput, type RuleSet, type TableRules, type BuiltinRules, type Ownership,
} from './rules.ts';
export {
  DEFAULT_HOSTS, EMBEDDED_DNS, DEFAULT_DNS, parseExtraHost, linkHostNames, linkEnv, hostsFile, getNameservers, getSearchDomains,
  getOptions, filterResolvDNS, containerResolvFromHost, DEFAULT_DNS6, buildResolv, resolvConf,
  type NetKind, type LinkEntry, type HostsInput, type ResolvInput,
} from './etcfiles.ts';

export {
  createSandbox, deleteSandbox, addLink, removeLink, ensureBridge, deleteBridge, bridgeAddress, routedPrefixes, setSysctl,
  applyRules, removeRules, type SandboxLink,
} from './driver.ts';

/** `br-` + the first 12 hex digits of the network id: a user network's bridge name. */
export function bridgeName(networkId: string): string { return `br-${networkId.slice(0, 12)}`; }
// the DNS server and the port proxy load on first use: an idle daemon without user networks or published ports
// does not carry them
export type { DnsServer, DnsRecords, DnsServerOptions } from './dns.ts';
export type { ProxySpec, ProxyOptions, Proxy } from './proxy.ts';
export async function newDnsServer(o: import('./dns.ts').DnsServerOptions): Promise<import('./dns.ts').DnsServer> {
  const { DnsServer } = await import('./dns.ts');
  return new DnsServer(o);
}
export async function startProxy(spec: import('./proxy.ts').ProxySpec, opts?: import('./proxy.ts').ProxyOptions): Promise<import('./proxy.ts').Proxy> {
  return (await import('./proxy.ts')).startProxy(spec, opts);
}
