/**
 * Networks on the wire: NetworkView → Docker's NetworkResource (key order, sorted maps, `{}` for no containers), and
 * the request bodies decoded with encoding/json's rules (case-insensitive field names, null leaves the zero value,
 * a value of the wrong JSON type fails with Go's `json: cannot unmarshal …` text).
 */
import type { NetworkView } from '../../../engine/index.ts';
import { InvalidArgumentError } from '../../../lib/index.ts';
import type { EndpointResource, IPAMConfig, NetworkResource } from '../../types/index.ts';

/** Go marshals maps with sorted keys. */
function sorted<T>(m: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function ipamConfig(c: IPAMConfig): IPAMConfig {
  const o: IPAMConfig = {};
  if (c.Subnet) o.Subnet = c.Subnet;
  if (c.IPRange) o.IPRange = c.IPRange;
  if (c.Gateway) o.Gateway = c.Gateway;
  if (c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length) o.AuxiliaryAddresses = sorted(c.AuxiliaryAddresses);
  return o;
}

/** types.NetworkResource. `containers`: false for GET /networks at API ≥ 1.28 (dockerd lists none there). */
export function networkResource(v: NetworkView, containers: boolean): NetworkResource {
  const n = v.network;
  const eps: Record<string, EndpointResource> = {};
  if (containers) {
    for (const [id, e] of Object.entries(v.containers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      eps[id] = { Name: e.Name, EndpointID: e.EndpointID, MacAddress: e.MacAddress, IPv4Address: e.IPv4Address, IPv6Address: e.IPv6Address };
    }
  }
  return {
    Name: n.Name,
    Id: n.Id,
    Created: n.Created,
    Scope: 'local',
    Driver: n.Driver,
    EnableIPv6: n.EnableIPv6,
    IPAM: { Driver: n.IPAM.Driver, Options: n.IPAM.Options && sorted(n.IPAM.Options), Config: (n.IPAM.Config ?? []).map(ipamConfig) },
    Internal: n.Internal,
    Attachable: n.Attachable,
    Ingress: n.Ingress,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: eps,
    Options: sorted(n.Options ?? {}),
    Labels: sorted(n.Labels ?? {}),
  };
}

// --- encoding/json's decoding, for the few shapes the network routes take ---

/** A Go type: a scalar, []T, map[string]T, or a struct (fields by their JSON names). */
export type GoType =
  | { k: 'string' } | { k: 'bool' } | { k: 'int' }
  | { k: 'slice'; of: GoType; name: string }
  | { k: 'map'; of: GoType; name: string }
  | { k: 'struct'; name: string; fields: Record<string, GoType> };

const S: GoType = { k: 'string' };
const B: GoType = { k: 'bool' };
const I: GoType = { k: 'int' };
const STRINGS: GoType = { k: 'slice', of: S, name: '[]string' };
const STRMAP: GoType = { k: 'map', of: S, name: 'map[string]string' };
const struct = (name: string, fields: Record<string, GoType>): GoType => ({ k: 'struct', name, fields });

const IPAM_CONFIG = struct('network.IPAMConfig', { Subnet: S, IPRange: S, Gateway: S, AuxiliaryAddresses: STRMAP });
export const NETWORK_CREATE = struct('types.NetworkCreateRequest', {
  Name: S, CheckDuplicate: B, Driver: S, Scope: S, EnableIPv6: B,
  IPAM: struct('network.IPAM', { Driver: S, Options: STRMAP, Config: { k: 'slice', of: IPAM_CONFIG, name: '[]network.IPAMConfig' } }),
  Internal: B, Attachable: B, Ingress: B, ConfigOnly: B, ConfigFrom: struct('network.ConfigReference', { Network: S }), Options: STRMAP, Labels: STRMAP,
});
const ENDPOINT = struct('network.EndpointSettings', {
  IPAMConfig: struct('network.EndpointIPAMConfig', { IPv4Address: S, IPv6Address: S, LinkLocalIPs: STRINGS }),
  Links: STRINGS, Aliases: STRINGS, NetworkID: S, EndpointID: S, Gateway: S, IPAddress: S, IPPrefixLen: I, IPv6Gateway: S,
  GlobalIPv6Address: S, GlobalIPv6PrefixLen: I, MacAddress: S, DriverOpts: STRMAP,
});
export const NETWORK_CONNECT = struct('types.NetworkConnect', { Container: S, EndpointConfig: ENDPOINT });
export const NETWORK_DISCONNECT = struct('types.NetworkDisconnect', { Container: S, Force: B });

function jsonKind(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? 'number' : `number ${v}`;
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : 'string';
}

function typeName(t: GoType): string {
  return t.k === 'slice' || t.k === 'map' || t.k === 'struct' ? t.name : t.k;
}

/**
 * Decodes a parsed JSON value into type t as Go would: returns the value with the struct fields under their canonical
 * names (unknown fields dropped, nulls dropped), or throws Go's first type error.
 */
export function decodeGo(v: unknown, t: GoType): unknown {
  const fail = (val: unknown, at: GoType, where: { struct: string; path: string } | undefined): never => {
    const into = where ? `Go struct field ${where.struct}.${where.path}` : 'Go value';
    throw new InvalidArgumentError(`json: cannot unmarshal ${jsonKind(val)} into ${into} of type ${typeName(at)}`);
  };
  const walk = (val: unknown, ty: GoType, where: { struct: string; path: string } | undefined): unknown => {
    if (val === null) return undefined;
    switch (ty.k) {
      case 'string': return typeof val === 'string' ? val : fail(val, ty, where);
      case 'bool': return typeof val === 'boolean' ? val : fail(val, ty, where);
      case 'int': return typeof val === 'number' && Number.isInteger(val) ? val : fail(val, ty, where);
      case 'slice': return Array.isArray(val) ? val.map((x) => walk(x, ty.of, where) ?? zero(ty.of)) : fail(val, ty, where);
      case 'map': {
        if (typeof val !== 'object' || Array.isArray(val)) return fail(val, ty, where);
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(val as Record<string, unknown>)) out[k] = walk(x, ty.of, where) ?? zero(ty.of);
        return out;
      }
      case 'struct': {
        if (typeof val !== 'object' || Array.isArray(val)) return fail(val, ty, where);
        const out: Record<string, unknown> = {};
        const short = ty.name.slice(ty.name.indexOf('.') + 1);
        for (const [k, x] of Object.entries(val as Record<string, unknown>)) {
          const name = Object.hasOwn(ty.fields, k) ? k : Object.keys(ty.fields).find((f) => f.toLowerCase() === k.toLowerCase());
          if (name === undefined) continue;
          const r = walk(x, ty.fields[name]!, { struct: short, path: where ? `${where.path}.${name}` : name });
          if (r !== undefined) out[name] = r;
        }
        return out;
      }
    }
  };
  const r = walk(v, t, undefined);
  return r === undefined ? {} : r;
}

function zero(t: GoType): unknown {
  return t.k === 'string' ? '' : t.k === 'bool' ? false : t.k === 'int' ? 0 : t.k === 'struct' ? {} : null;
}
