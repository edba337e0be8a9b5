/** `volume create|ls|inspect|rm|prune`, as the docker 20.10 CLI prints them. */
import { ApiError } from '../../client/index.ts';
import type { VolumeListResponse, VolumePruneResponse, VolumeResponse } from '../../api/types/index.ts';
import { humanSize } from '../../lib/index.ts';
import { CliError } from '../errors.ts';
import { formatRows } from '../formatter.ts';
import { TYPE_NAME } from '../template.ts';
import type { Ctx, Opts } from '../main.ts';
import { confirm, filters, forEach, list, str } from './common.ts';
import { inspectObjects } from './containers.ts';

export async function create(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const flagName = str(o, 'name');
  if (flagName && args[0]) throw new CliError('conflicting options: either specify --name or provide positional arg, not both');
  const kv = (items: string[]): Record<string, string> => {
    const m: Record<string, string> = {};
    for (const x of items) {
      const i = x.indexOf('=');
      if (i < 0) m[x] = ''; else m[x.slice(0, i)] = x.slice(i + 1);
    }
    return m;
  };
  const labels = kv(list(o, 'label'));
  const driverOpts = kv(list(o, 'opt'));
  const body = { Driver: str(o, 'driver') ?? 'local', DriverOpts: driverOpts, Labels: labels, Name: args[0] ?? flagName ?? '' };
  const v = await ctx.client().json<VolumeResponse>('POST', '/volumes/create', { body });
  ctx.out(`${v.Name}\n`);
}

function volumeContext(v: VolumeResponse): Record<string | symbol, unknown> {
  const labels = (): string => Object.entries(v.Labels ?? {}).map(([k, val]) => `${k}=${val}`).sort().join(',');
  const c = {
    [TYPE_NAME]: '*formatter.volumeContext',
    Name: () => v.Name,
    Driver: () => v.Driver,
    Scope: () => v.Scope,
    Mountpoint: () => v.Mountpoint,
    Labels: labels,
    Label: (name: unknown) => (v.Labels ?? {})[String(name)] ?? '',
    Links: () => 'N/A',
    Size: () => 'N/A',
    toJSON: () => ({ Driver: v.Driver, Labels: labels(), Links: 'N/A', Mountpoint: v.Mountpoint, Name: v.Name, Scope: v.Scope, Size: 'N/A' }),
  };
  return c;
}

const HEADERS: Record<string, string> = {
  Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Label: 'LABEL', Links: 'LINKS', Size: 'SIZE',
};

export async function ls(ctx: Ctx, _args: string[], o: Opts): Promise<void> {
  const r = await ctx.client().json<VolumeListResponse>('GET', '/volumes', { query: { filters: filters(o) } });
  const vols = [...(r.Volumes ?? [])].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  let format = str(o, 'format') ?? '';
  if (o.quiet === true) format = '{{.Name}}';
  else if (!format || format === 'table') format = 'table {{.Driver}}\t{{.Name}}';
  ctx.out(formatRows(format, vols.map(volumeContext), HEADERS));
}

export async function inspect(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  await inspectObjects(ctx, args, ['volume'], str(o, 'format'), false);
}

export async function rm(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  await forEach(ctx, args, async (n) => {
    try {
      await ctx.client().ok('DELETE', `/volumes/${encodeURIComponent(n)}`, { query: { force: o.force === true ? '1' : undefined } });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw new CliError(`Error: No such volume: ${n}`);
      throw e;
    }
  });
}

export async function prune(ctx: Ctx, _args: string[], o: Opts): Promise<void> {
  if (o.force !== true && !(await confirm(ctx, 'WARNING! This will remove all local volumes not used by at least one container.'))) return;
  const r = await ctx.client().json<VolumePruneResponse>('POST', '/volumes/prune', { query: { filters: filters(o) } });
  let output = '';
  if (r.VolumesDeleted?.length) output = `Deleted Volumes:\n${r.VolumesDeleted.map((n) => `${n}\n`).join('')}`;
  if (output) ctx.out(`${output}\n`);
  ctx.out(`Total reclaimed space: ${humanSize(r.VolumesDeleted?.length ? r.SpaceReclaimed ?? 0 : 0)}\n`);
}
