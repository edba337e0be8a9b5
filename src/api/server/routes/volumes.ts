/** /volumes... (cf. moby router/volume): list, create, inspect, remove, prune. */
import { InvalidArgumentError } from '../../../lib/index.ts';
import type { VolumeCreateBody, VolumeResponse } from '../../types/index.ts';
import type { Router } from '../router.ts';
import { boolValue, parseFilters, readJson, sendJson, sendNoContent } from '../http.ts';

type EngineVolume = Omit<VolumeResponse, 'Scope'> & { Scope: string };

/** Go marshals maps with sorted keys. */
function sorted(m: Record<string, string> | null): Record<string, string> | null {
  return m && Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Docker's key order (volume.Volume). */
export function volumeResponse(v: EngineVolume): VolumeResponse {
  return {
    CreatedAt: v.CreatedAt, Driver: v.Driver, Labels: sorted(v.Labels), Mountpoint: v.Mountpoint, Name: v.Name, Options: sorted(v.Options),
    Scope: v.Scope === 'global' ? 'global' : 'local',
  };
}

function stringMap(v: unknown, field: string): Record<string, string> | null | undefined {
  if (v === undefined || v === null) return v;
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw new InvalidArgumentError(`json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go struct field VolumeCreateBody.${field} of type map[string]string`);
  }
  return v as Record<string, string>;
}

export function registerVolumeRoutes(r: Router): void {
  r.get('/volumes', async (ctx) => {
    const vols = await ctx.backend.listVolumes(parseFilters(ctx.query.get('filters')));
    sendJson(ctx.res, 200, { Volumes: vols.map(volumeResponse), Warnings: null });
  });
  r.post('/volumes/create', async (ctx) => {
    const b = (await readJson<VolumeCreateBody>(ctx.req, true)) ?? {};
    if (typeof b !== 'object' || Array.isArray(b)) throw new InvalidArgumentError('json: cannot unmarshal into Go value of type volume.VolumeCreateBody');
    const opts: Parameters<typeof ctx.backend.createVolume>[0] = {};
    if (typeof b.Name === 'string') opts.name = b.Name;
    if (typeof b.Driver === 'string') opts.driver = b.Driver;
    const driverOpts = stringMap(b.DriverOpts, 'DriverOpts');
    const labels = stringMap(b.Labels, 'Labels');
    if (driverOpts !== undefined) opts.driverOpts = driverOpts;
    if (labels !== undefined) opts.labels = labels;
    sendJson(ctx.res, 201, volumeResponse(await ctx.backend.createVolume(opts)));
  });
  r.post('/volumes/prune', async (ctx) => {
    sendJson(ctx.res, 200, await ctx.backend.pruneVolumes(parseFilters(ctx.query.get('filters'))));
  });
  r.get('/volumes/{name}', async (ctx) => {
    sendJson(ctx.res, 200, volumeResponse(await ctx.backend.inspectVolume(ctx.params[0]!)));
  });
  r.delete('/volumes/{name}', async (ctx) => {
    await ctx.backend.removeVolume(ctx.params[0]!, boolValue(ctx.query, 'force'));
    sendNoContent(ctx.res);
  });
}
