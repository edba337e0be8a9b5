/** /containers/... (cf. moby router/container): decode → backend → compat encode. */
import { InvalidArgumentError, log, stdcopy } from '../../../lib/index.ts';
import type { ContainerConfig, HostConfig } from '../../../engine/index.ts';
import type { ContainerCreateRequest } from '../../types/index.ts';
import type { Router } from '../router.ts';
import { goJsonHtml } from '../errors.ts';
import {
  atoi, boolValue, clientGone, drained, intOrZero, parseFilters, parseTime, readJson, sendJson, sendNoContent, type Ctx,
} from '../http.ts';
import { containerInspect, containerSummary } from '../compat/container.ts';
import { endStream, lazyResponseStream } from './streams.ts';
import { attach } from './attach.ts';
import { archiveGet, archiveHead, archivePut, changes } from './archive.ts';
import { stats, update } from './stats.ts';

const PS_FILTERS = new Set(['ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume']);
const PS_STATUS = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);

async function list(ctx: Ctx): Promise<void> {
  const q = ctx.query;
  const filters = parseFilters(q.get('filters'));
  for (const [k, vals] of Object.entries(filters)) {
    if (!PS_FILTERS.has(k)) throw new InvalidArgumentError(`Invalid filter '${k}'`);
    if (k === 'status') for (const v of vals) if (!PS_STATUS.has(v)) throw new InvalidArgumentError(`Invalid filter 'status=${v}'`);
  }
  // Legacy query parameters (API < 1.23 clients).
  for (const k of ['before', 'since'] as const) {
    const v = q.get(k);
    if (v) (filters[k] ??= []).push(v);
  }
  const views = await ctx.backend.listContainers({ all: boolValue(q, 'all'), limit: intOrZero(q, 'limit'), size: boolValue(q, 'size'), filters });
  const now = Date.now();
  sendJson(ctx.res, 200, views.map((v) => containerSummary(v, now)));
}

async function create(ctx: Ctx): Promise<void> {
  const t0 = performance.now();
  const body = (await readJson<ContainerCreateRequest>(ctx.req)) ?? {};
  const decoded = performance.now();
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidArgumentError('json: cannot unmarshal into Go value of type container.Config');
  }
  const { HostConfig: hc, NetworkingConfig: nc, ...config } = body;
  const name = ctx.query.get('name');
  const req: Parameters<Ctx['backend']['createContainer']>[0] = {
    config: config as Partial<ContainerConfig>,
    hostConfig: (hc ?? {}) as Partial<HostConfig>,
  };
  if (name) req.name = name;
  if (nc) req.networkingConfig = { EndpointsConfig: (nc.EndpointsConfig ?? {}) as Record<string, unknown> };
  const out = await ctx.backend.createContainer(req);
  sendJson(ctx.res, 201, { Id: out.id, Warnings: out.warnings ?? [] });
  const ms = (t: number) => Math.round((t - t0) * 10) / 10;
  log().debug({ id: out.id, phases: { decoded: ms(decoded), created: ms(performance.now()) } }, 'create request');
}

function stopOpts(ctx: Ctx): { timeout?: number; signal?: string } {
  const o: { timeout?: number; signal?: string } = {};
  const t = atoi(ctx.query, 't');
  if (t !== undefined) o.timeout = t;
  const s = ctx.query.get('signal');
  if (s) o.signal = s;
  return o;
}

/**
 * wait: Docker sends the headers as soon as the wait is registered (the CLI waits for them before it
 * starts the container), then the body when the condition is met.
 */
async function wait(ctx: Ctx): Promise<void> {
  const { res } = ctx;
  const condition = ctx.query.get('condition') || 'not-running';
  const signal = clientGone(ctx);
  let settled = false;
  const p = ctx.backend.waitContainer(ctx.params[0]!, condition, signal).finally(() => { settled = true; });
  // Give the backend a turn to resolve the name and register; a not-found still becomes a proper 404.
  await Promise.race([p.catch(() => {}), new Promise<void>((r) => setImmediate(r))]);
  if (settled) {
    const r = await p; // throws → error response
    sendJson(res, 200, { Error: r.Error ?? null, StatusCode: r.StatusCode });
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  try {
    const r = await p;
    res.end(goJsonHtml({ Error: r.Error ?? null, StatusCode: r.StatusCode }));
  } catch (err) {
    if (signal.aborted) { res.destroy(); return; }
    res.end(goJsonHtml({ Error: { Message: err instanceof Error ? err.message : String(err) }, StatusCode: -1 }));
  }
}

/** Log timestamps as Docker prints them: RFC 3339 with exactly 9 fractional digits. */
export function ts9(t: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return t;
  return `${m[1]}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}${m[3]}`;
}

async function logs(ctx: Ctx): Promise<void> {
  const q = ctx.query;
  const stdout = boolValue(q, 'stdout');
  const stderr = boolValue(q, 'stderr');
  if (!stdout && !stderr) throw new InvalidArgumentError('Bad parameters: you must choose at least one stream');
  const tailRaw = q.get('tail');
  const tailN = tailRaw && /^\d+$/.test(tailRaw) ? Number(tailRaw) : -1;
  const timestamps = boolValue(q, 'timestamps');
  const details = boolValue(q, 'details');
  const signal = clientGone(ctx);
  const { tty, entries } = await ctx.backend.logs(ctx.params[0]!, {
    follow: boolValue(q, 'follow'),
    stdout,
    stderr,
    since: parseTime(q.get('since')),
    until: parseTime(q.get('until')),
    timestamps,
    tail: tailN < 0 ? 'all' : tailN,
  }, signal);
  const { res } = ctx;
  res.writeHead(200);
  res.flushHeaders();
  for await (const e of entries) {
    if (signal.aborted) break;
    // `details`: the entry's attributes (berth stores none, as without --log-opt labels/env) and a space, then the line
    const line = details ? Buffer.concat([Buffer.from(' '), e.line]) : e.line;
    const payload = timestamps ? Buffer.concat([Buffer.from(`${ts9(e.time)} `), line]) : line;
    res.write(tty ? payload : stdcopy.frame(e.stream === 'stderr' ? stdcopy.STDERR : stdcopy.STDOUT, payload));
    await drained(res);
  }
  res.end();
}

export function registerContainerRoutes(r: Router): void {
  r.get('/containers/json', list);
  r.post('/containers/create', create);
  r.post('/containers/prune', async (ctx) => {
    const out = await ctx.backend.pruneContainers(parseFilters(ctx.query.get('filters')));
    sendJson(ctx.res, 200, { ContainersDeleted: out.ContainersDeleted?.length ? out.ContainersDeleted : null, SpaceReclaimed: out.SpaceReclaimed });
  });
  r.get('/containers/{id}/json', async (ctx) => {
    const size = boolValue(ctx.query, 'size');
    sendJson(ctx.res, 200, containerInspect(await ctx.backend.inspectContainer(ctx.params[0]!, size), size));
  });
  r.post('/containers/{id}/start', async (ctx) => {
    ctx.req.resume();
    const dk = ctx.query.get('detachKeys');
    await ctx.backend.startContainer(ctx.params[0]!, dk || undefined);
    sendNoContent(ctx.res);
  });
  r.post('/containers/{id}/stop', async (ctx) => {
    await ctx.backend.stopContainer(ctx.params[0]!, stopOpts(ctx));
    sendNoContent(ctx.res);
  });
  r.post('/containers/{id}/restart', async (ctx) => {
    await ctx.backend.restartContainer(ctx.params[0]!, stopOpts(ctx));
    sendNoContent(ctx.res);
  });
  r.post('/containers/{id}/kill', async (ctx) => {
    const s = ctx.query.get('signal');
    await ctx.backend.killContainer(ctx.params[0]!, s || undefined);
    sendNoContent(ctx.res);
  });
  r.post('/containers/{id}/pause', async (ctx) => {
    await ctx.backend.pauseContainer(ctx.params[0]!);
    sendNoContent(ctx.res);
  });
  r.post('/containers/{id}/unpause', async (ctx) => {
    await ctx.backend.unpauseContainer(ctx.params[0]!);
    sendNoContent(ctx.res);
  });
  r.post('/containers/{id}/wait', wait);
  r.delete('/containers/{id}', async (ctx) => {
    const q = ctx.query;
    await ctx.backend.removeContainer(ctx.params[0]!, { force: boolValue(q, 'force'), volumes: boolValue(q, 'v'), link: boolValue(q, 'link') });
    sendNoContent(ctx.res);
  });
  r.post('/containers/{id}/rename', async (ctx) => {
    await ctx.backend.renameContainer(ctx.params[0]!, ctx.query.get('name') ?? '');
    sendNoContent(ctx.res);
  });
  r.get('/containers/{id}/top', async (ctx) => {
    const t = await ctx.backend.topContainer(ctx.params[0]!, ctx.query.get('ps_args') ?? '');
    sendJson(ctx.res, 200, { Processes: t.Processes, Titles: t.Titles });
  });
  r.get('/containers/{id}/logs', logs);
  r.post('/containers/{id}/resize', async (ctx) => {
    const h = atoi(ctx.query, 'h') ?? 0;
    const w = atoi(ctx.query, 'w') ?? 0;
    await ctx.backend.resizeContainer(ctx.params[0]!, h, w);
    sendNoContent(ctx.res, 200);
  });
  r.get('/containers/{id}/export', async (ctx) => {
    const out = lazyResponseStream(ctx.res, 'application/x-tar');
    await ctx.backend.exportContainer(ctx.params[0]!, out);
    endStream(out);
  });
  r.hijack('POST', '/containers/{id}/attach', attach);
  r.get('/containers/{id}/changes', changes);
  r.get('/containers/{id}/archive', archiveGet);
  r.head('/containers/{id}/archive', archiveHead);
  r.put('/containers/{id}/archive', archivePut);
  r.get('/containers/{id}/stats', stats);
  r.post('/containers/{id}/update', update);
}
