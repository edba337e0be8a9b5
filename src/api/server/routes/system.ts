/** /_ping, /version, /info, /system/df, /events (cf. moby router/system). */
import { volumeResponse } from './volumes.ts';
import { InvalidArgumentError } from '../../../lib/index.ts';
import type { EngineEvent } from '../../../engine/index.ts';
import type { Router } from '../router.ts';
import { goJsonHtml } from '../errors.ts';
import { parseFilters, parseTime, sendJson, type Ctx } from '../http.ts';
import { infoResponse, versionResponse, eventMessage } from '../compat/system.ts';
import { containerSummary } from '../compat/container.ts';
import { imageSummary, sharedSizes } from '../compat/image.ts';
import { API_VERSION, MIN_API_VERSION } from '../version.ts';

let eventListeners = 0;

function ping(ctx: Ctx): void {
  const head = ctx.req.method === 'HEAD';
  ctx.res.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
  ctx.res.setHeader('Pragma', 'no-cache');
  ctx.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': head ? 0 : 2 });
  ctx.res.end(head ? undefined : 'OK');
}


async function events(ctx: Ctx): Promise<void> {
  const { query: q, res } = ctx;
  // `since=0` is the epoch (replay everything kept), not "no since"
  const since = q.get('since') ? parseTime(q.get('since')) : undefined;
  const until = q.get('until') ? parseTime(q.get('until')) : undefined;
  const filters = parseFilters(q.get('filters'));
  // dockerd 20.10 ignores filter keys it does not know on /events (unlike /containers/json)
  if (since !== undefined && until !== undefined && until < since) throw new InvalidArgumentError(`since time (${since}) cannot be after until time (${until})`);
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  eventListeners++;
  let closed = false;
  const write = (e: EngineEvent) => {
    if (closed || (until !== undefined && e.time > until)) return;
    res.write(goJsonHtml(eventMessage(e)));
  };
  const opts: { since?: number; until?: number; filters: Record<string, string[]> } = { filters };
  if (since !== undefined) opts.since = since;
  if (until !== undefined) opts.until = until;
  const unsubscribe = ctx.backend.subscribeEvents(opts, write);
  let timer: NodeJS.Timeout | undefined;
  const finish = () => {
    if (closed) return;
    closed = true;
    eventListeners--;
    if (timer) clearTimeout(timer);
    unsubscribe();
    res.end();
  };
  res.on('close', finish);
  if (until !== undefined) timer = setTimeout(finish, Math.max(0, until * 1000 - Date.now()));
}

export function registerSystemRoutes(r: Router): void {
  r.get('/_ping', ping);
  r.head('/_ping', ping);
  r.get('/version', async (ctx) => {
    const i = await ctx.backend.info();
    sendJson(ctx.res, 200, versionResponse(i, API_VERSION, MIN_API_VERSION));
  });
  r.get('/info', async (ctx) => {
    sendJson(ctx.res, 200, infoResponse(await ctx.backend.info(), eventListeners));
  });
  r.get('/system/df', async (ctx) => {
    const du = await ctx.backend.diskUsage();
    const shared = sharedSizes(du.images);
    const now = Date.now();
    sendJson(ctx.res, 200, {
      LayersSize: du.layersSize,
      Images: du.images.map((img) => imageSummary(img, du.imageContainers.get(img.id) ?? 0, shared.get(img.id) ?? 0)),
      Containers: du.containers.map((c) => containerSummary(c, now)),
      Volumes: du.volumes.map((v) => ({ ...volumeResponse(v.volume), UsageData: { Size: v.size, RefCount: v.refCount } })),
      BuildCache: null,
      BuilderSize: 0,
    });
  });
  r.get('/events', events);
}
