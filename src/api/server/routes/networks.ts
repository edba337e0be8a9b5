/** /networks... (cf. moby router/network): list, inspect, create, remove, prune, connect, disconnect. */
import type { EndpointRequest, NetworkCreateRequest } from '../../../engine/index.ts';
import { ForbiddenError, InvalidArgumentError, NotFoundError, NotImplementedError } from '../../../lib/index.ts';
import type { NetworkConnectBody, NetworkCreateBody, NetworkDisconnectBody, NetworkPruneResponse } from '../../types/index.ts';
import type { Router } from '../router.ts';
import { parseFilters, readJson, sendJson, sendNoContent, type Ctx } from '../http.ts';
import { compareVersions } from '../version.ts';
import { NETWORK_CONNECT, NETWORK_CREATE, NETWORK_DISCONNECT, decodeGo, networkResource, type GoType } from '../compat/network.ts';

const LIST_FILTERS = new Set(['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
const PRUNE_FILTERS = new Set(['until', 'label', 'label!']);
/** runconfig.IsPreDefinedNetwork */
const PREDEFINED = new Set(['bridge', 'host', 'none', 'default', 'ingress']);

/** The network routes decode their bodies themselves: an empty body is `got EOF while reading request body`. */
async function body(ctx: Ctx, t: GoType): Promise<unknown> {
  let raw: unknown;
  try {
    raw = await readJson<unknown>(ctx.req);
  } catch (e) {
    if (e instanceof InvalidArgumentError && e.message === 'EOF') throw new InvalidArgumentError('got EOF while reading request body');
    throw e;
  }
  return decodeGo(raw, t);
}

/** strconv.ParseBool */
function parseBool(v: string): boolean | undefined {
  if (/^(1|t|T|TRUE|true|True)$/.test(v)) return true;
  if (/^(0|f|F|FALSE|false|False)$/.test(v)) return false;
  return undefined;
}

function listFilters(raw: string | null): Record<string, string[]> {
  const f = parseFilters(raw);
  for (const [k, vals] of Object.entries(f)) {
    if (!LIST_FILTERS.has(k)) throw new InvalidArgumentError(`Invalid filter '${k}'`);
    if (k === 'type') for (const v of vals) if (v !== 'custom' && v !== 'builtin') throw new InvalidArgumentError(`invalid filter: 'type'='${v}'`);
    if (k === 'dangling') {
      for (const v of vals) {
        if (!/^(true|1|false|0)$/.test(v)) {
          throw new InvalidArgumentError(`invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`);
        }
      }
    }
  }
  return f;
}

function endpointRequest(e: NetworkConnectBody['EndpointConfig']): EndpointRequest {
  const r: EndpointRequest = {};
  if (!e) return r;
  if (e.IPAMConfig) {
    const { IPv4Address, IPv6Address, LinkLocalIPs } = e.IPAMConfig;
    r.IPAMConfig = {};
    if (IPv4Address) r.IPAMConfig.IPv4Address = IPv4Address;
    if (IPv6Address) r.IPAMConfig.IPv6Address = IPv6Address;
    if (LinkLocalIPs) r.IPAMConfig.LinkLocalIPs = LinkLocalIPs;
  }
  if (e.Links) r.Links = e.Links;
  if (e.Aliases) r.Aliases = e.Aliases;
  if (e.MacAddress) r.MacAddress = e.MacAddress;
  if (e.DriverOpts) r.DriverOpts = e.DriverOpts;
  return r;
}

/** dockerd's GetContainer("") error, checked before the network is looked up. */
function containerRef(c: string | undefined): string {
  if (!c) throw new InvalidArgumentError('invalid name or ID supplied: ""');
  return c;
}

/** dockerd's 200 with an empty body: `Content-Length: 0`, no Content-Type. */
function emptyOk(ctx: Ctx): void {
  ctx.res.writeHead(200, { 'Content-Length': 0 });
  ctx.res.end();
}

export function registerNetworkRoutes(r: Router): void {
  r.get('/networks', async (ctx) => {
    const views = await ctx.backend.listNetworks(listFilters(ctx.query.get('filters')));
    // API ≥ 1.28 lists networks without their containers (dockerd's NetworkListConfig{Detailed: false})
    const detailed = compareVersions(ctx.version, '1.28') < 0;
    sendJson(ctx.res, 200, views.map((v) => networkResource(v, detailed)));
  });

  r.post('/networks/create', async (ctx) => {
    const b = (await body(ctx, NETWORK_CREATE)) as NetworkCreateBody;
    const name = b.Name ?? '';
    if (PREDEFINED.has(name)) throw new ForbiddenError(`operation is not permitted on predefined ${name} network `);
    if (name === '') throw new InvalidArgumentError('invalid name: ');
    if (b.Scope === 'swarm') throw new ForbiddenError('cannot create a swarm scoped network when swarm is not active');
    if (b.Ingress) throw new ForbiddenError('Ingress network can only be global scope network');
    if (b.Scope && b.Scope !== 'local') {
      throw new InvalidArgumentError('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
    }
    if (b.ConfigFrom?.Network) throw new NotFoundError(`configuration network ${JSON.stringify(b.ConfigFrom.Network)} does not exist`);
    if (b.ConfigOnly) throw new NotImplementedError('berth does not support configuration-only networks');
    const req: NetworkCreateRequest = { Name: name };
    if (b.CheckDuplicate !== undefined) req.CheckDuplicate = b.CheckDuplicate;
    if (b.Driver !== undefined) req.Driver = b.Driver;
    if (b.Internal !== undefined) req.Internal = b.Internal;
    if (b.Attachable !== undefined) req.Attachable = b.Attachable;
    if (b.EnableIPv6 !== undefined) req.EnableIPv6 = b.EnableIPv6;
    if (b.IPAM) req.IPAM = b.IPAM;
    if (b.Options) req.Options = b.Options;
    if (b.Labels) req.Labels = b.Labels;
    const { id, warning } = await ctx.backend.createNetwork(req);
    sendJson(ctx.res, 201, { Id: id, Warning: warning });
  });

  r.post('/networks/prune', async (ctx) => {
    const f = parseFilters(ctx.query.get('filters'));
    for (const k of Object.keys(f)) if (!PRUNE_FILTERS.has(k)) throw new InvalidArgumentError(`Invalid filter '${k}'`);
    const names = await ctx.backend.pruneNetworks(f);
    const res: NetworkPruneResponse = { NetworksDeleted: names.length ? names : null };
    sendJson(ctx.res, 200, res);
  });

  r.get('/networks/{id}', async (ctx) => {
    const ref = ctx.params[0]!;
    const verbose = ctx.query.get('verbose');
    if (verbose && parseBool(verbose) === undefined) {
      throw new InvalidArgumentError(`invalid value for verbose: ${verbose}: strconv.ParseBool: parsing ${JSON.stringify(verbose)}: invalid syntax`);
    }
    // berth's networks are all local: asking for another scope finds nothing
    const scope = ctx.query.get('scope');
    if (scope && scope !== 'local') throw new NotFoundError(`network ${ref} not found`);
    sendJson(ctx.res, 200, networkResource(await ctx.backend.inspectNetwork(ref), true));
  });

  r.delete('/networks/{id}', async (ctx) => {
    await ctx.backend.removeNetwork(ctx.params[0]!);
    sendNoContent(ctx.res);
  });

  r.post('/networks/{id}/connect', async (ctx) => {
    const b = (await body(ctx, NETWORK_CONNECT)) as NetworkConnectBody;
    await ctx.backend.connectNetwork(ctx.params[0]!, containerRef(b.Container), endpointRequest(b.EndpointConfig));
    emptyOk(ctx);
  });

  r.post('/networks/{id}/disconnect', async (ctx) => {
    const b = (await body(ctx, NETWORK_DISCONNECT)) as NetworkDisconnectBody;
    await ctx.backend.disconnectNetwork(ctx.params[0]!, containerRef(b.Container), b.Force === true);
    emptyOk(ctx);
  });
}
