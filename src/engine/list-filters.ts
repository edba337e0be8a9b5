/** `GET /containers/json` filters, as dockerd 20.10 applies them (daemon/list.go). */
import { InvalidArgumentError } from '../lib/index.ts';
import type { Container, ContainerStatus } from './model.ts';
import { statusOf } from './model.ts';
import { parseRfc3339 } from './time.ts';

const KEYS = new Set(['ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume']);
const STATES = new Set<string>(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);

export function validateListFilters(f: Record<string, string[]>): void {
  for (const [k, vals] of Object.entries(f)) {
    if (!KEYS.has(k)) throw new InvalidArgumentError(`Invalid filter '${k}'`);
    if (k === 'status') for (const v of vals) if (!STATES.has(v)) throw new InvalidArgumentError(`Invalid filter 'status=${v}'`);
    if (k === 'exited') for (const v of vals) if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`invalid filter 'exited=${v}'`);
  }
}

/** Go's regexp.MatchString as filters.Match uses it; an invalid pattern matches as a substring. */
function reMatch(pattern: string, s: string): boolean {
  try { return new RegExp(pattern).test(s); } catch { return s.includes(pattern); }
}

function labelMatch(labels: Record<string, string>, want: string): boolean {
  const i = want.indexOf('=');
  if (i < 0) return want in labels;
  return labels[want.slice(0, i)] === want.slice(i + 1);
}

export interface ListContext {
  all: boolean;
  limit: number;
  filters: Record<string, string[]>;
  /** Image IDs the ancestor filter values resolve to. */
  ancestorIds: Set<string>;
  beforeCreated?: bigint;
  sinceCreated?: bigint;
}

export function includeContainer(c: Container, ctx: ListContext): boolean {
  const f = ctx.filters;
  const st: ContainerStatus = statusOf(c.State);
  if (!c.State.Running && !ctx.all && ctx.limit <= 0 && !f.status?.length) return false;
  if (f.status?.length && !f.status.includes(st)) return false;
  if (f.name?.length) {
    const n = c.Name;
    if (!f.name.some((p) => reMatch(p, n) || reMatch(p, n.slice(1)))) return false;
  }
  if (f.id?.length && !f.id.some((p) => c.ID.startsWith(p) || reMatch(p, c.ID))) return false;
  if (f.label?.length && !f.label.every((l) => labelMatch(c.Config.Labels ?? {}, l))) return false;
  if (f.exited?.length) {
    if (c.State.Running || st === 'created') return false;
    if (!f.exited.some((v) => Number(v) === c.State.ExitCode)) return false;
  }
  if (f.ancestor?.length) {
    if (!ctx.ancestorIds.has(c.Image) && !f.ancestor.includes(c.Config.Image)) return false;
  }
  if (ctx.beforeCreated !== undefined || ctx.sinceCreated !== undefined) {
    const t = parseRfc3339(c.Created) ?? 0n;
    if (ctx.beforeCreated !== undefined && !(t < ctx.beforeCreated)) return false;
    if (ctx.sinceCreated !== undefined && !(t > ctx.sinceCreated)) return false;
  }
  if (f.isolation?.length && !f.isolation.includes(c.HostConfig.Isolation || 'default')) return false;
  if (f.network?.length) {
    const nets = Object.keys(c.NetworkSettings.Networks ?? {});
    if (!f.network.some((n) => nets.includes(n) || Object.values(c.NetworkSettings.Networks ?? {}).some((e) => e.NetworkID === n))) return false;
  }
  if (f.expose?.length || f.publish?.length) {
    const exposed = Object.keys(c.Config.ExposedPorts ?? {});
    const published = Object.entries(c.HostConfig.PortBindings ?? {}).flatMap(([k, b]) => (b ?? []).map((x) => [k, x.HostPort] as const));
    const norm = (p: string) => (p.includes('/') ? p : `${p}/tcp`);
    if (f.expose?.length && !f.expose.some((p) => exposed.includes(norm(p)))) return false;
    if (f.publish?.length && !f.publish.some((p) => published.some(([k, hp]) => hp === p.split('/')[0] || k === norm(p)))) return false;
  }
  if (f.volume?.length) {
    const mps = Object.values(c.MountPoints ?? {});
    if (!f.volume.some((v) => mps.some((m) => m.Name === v || m.Source === v || m.Destination === v))) return false;
  }
  if (f.health?.length) {
    const h = c.State.Health?.Status ?? 'none';
    if (!f.health.includes(h)) return false;
  }
  return true;
}
