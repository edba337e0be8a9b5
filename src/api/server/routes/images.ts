/** /images/... (cf. moby router/image). */
import { InvalidArgumentError, NotFoundError, NotImplementedError } from '../../../lib/index.ts';
import type { ImageRecord, ImportOptions } from '../../../image/index.ts';
import type { Router } from '../router.ts';
import { errorMessage, goJsonHtml } from '../errors.ts';
import { boolValue, parseFilters, sendJson, sendNoContent, type Ctx } from '../http.ts';
import { imageInspect, imageSummary, historyItem } from '../compat/image.ts';
import { unixSeconds } from '../compat/container.ts';
import { applyChanges } from '../changes.ts';
import { endStream, lazyResponseStream } from './streams.ts';

/** Go's path.Match as a RegExp. */
export function globRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new InvalidArgumentError('syntax error in pattern');
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function familiarName(tag: string): string {
  const at = tag.indexOf('@');
  const t = at >= 0 ? tag.slice(0, at) : tag;
  const colon = t.lastIndexOf(':');
  return colon > t.lastIndexOf('/') ? t.slice(0, colon) : t;
}

const IMAGE_FILTERS = new Set(['before', 'dangling', 'label', 'reference', 'since']);

async function list(ctx: Ctx): Promise<void> {
  const q = ctx.query;
  const filters = parseFilters(q.get('filters'));
  for (const k of Object.keys(filters)) if (!IMAGE_FILTERS.has(k)) throw new InvalidArgumentError(`Invalid filter '${k}'`);
  const all = boolValue(q, 'all');
  let danglingOnly = false;
  if (filters.dangling) {
    const d = filters.dangling;
    if (d.some((v) => v === 'true' || v === '1')) danglingOnly = true;
    else if (!d.every((v) => v === 'false' || v === '0')) throw new InvalidArgumentError(`Invalid filter 'dangling=${d[0]}'`);
  }
  const images = await ctx.backend.listImages();
  const refTime = async (ref: string) => unixSeconds((await ctx.backend.inspectImage(ref)).image.config.created);
  const before = filters.before?.length ? await refTime(filters.before[0]!) : undefined;
  const since = filters.since?.length ? await refTime(filters.since[0]!) : undefined;
  const patterns = filters.reference?.map(globRegex);
  const labels = filters.label ?? [];
  const parents = new Set(images.map((i) => i.parent).filter(Boolean));

  const out = [];
  for (const img of images) {
    const created = unixSeconds(img.config.created);
    if (before !== undefined && created >= before) continue;
    if (since !== undefined && created <= since) continue;
    if (labels.length) {
      const l = img.config.config?.Labels ?? {};
      const ok = labels.every((f) => {
        const i = f.indexOf('=');
        return i < 0 ? f in l : l[f.slice(0, i)] === f.slice(i + 1);
      });
      if (!ok) continue;
    }
    let rec: ImageRecord = img;
    if (patterns) {
      const tags = img.repoTags.filter((t) => patterns.some((p) => p.test(t) || p.test(familiarName(t))));
      const digests = img.repoDigests.filter((t) => patterns.some((p) => p.test(t) || p.test(familiarName(t))));
      if (!tags.length && !digests.length) continue;
      rec = { ...img, repoTags: tags, repoDigests: digests };
    }
    const untagged = rec.repoTags.length === 0 && rec.repoDigests.length === 0;
    if (untagged) {
      if (!all && parents.has(img.id)) continue;
      if (filters.dangling && !danglingOnly) continue;
    } else if (danglingOnly) continue;
    out.push(imageSummary(rec));
  }
  out.sort((a, b) => b.Created - a.Created);
  sendJson(ctx.res, 200, out);
}

/** `docker import` / `docker pull` share this endpoint. */
async function create(ctx: Ctx): Promise<void> {
  const q = ctx.query;
  const fromSrc = q.get('fromSrc');
  const fromImage = q.get('fromImage');
  if (fromImage) {
    ctx.req.resume();
    const tag = q.get('tag');
    throw new NotImplementedError(`berth cannot pull images yet: ${fromImage}${tag ? `:${tag}` : ''}`);
  }
  if (!fromSrc) {
    ctx.req.resume();
    throw new InvalidArgumentError('Get "http:": http: no Host in request URL');
  }
  if (fromSrc !== '-') {
    ctx.req.resume();
    throw new NotImplementedError('import from a URL is not implemented by berth yet');
  }
  let repo = q.get('repo') ?? '';
  let tag = q.get('tag') ?? '';
  if (!tag) {
    const c = repo.lastIndexOf(':');
    if (c > repo.lastIndexOf('/')) { tag = repo.slice(c + 1); repo = repo.slice(0, c); }
  }
  const opts: ImportOptions = {};
  if (repo) opts.repo = repo;
  if (tag) opts.tag = tag;
  // as dockerd: an import without a message says where it came from
  opts.message = q.get('message') || `Imported from ${fromSrc}`;
  const changes = q.getAll('changes').filter((c) => c.trim());
  if (changes.length) opts.config = applyChanges(changes);
  const id = await ctx.backend.importImage(ctx.req, opts);
  sendStream(ctx, [{ status: id }]);
}

function sendStream(ctx: Ctx, lines: unknown[]): void {
  if (!ctx.res.headersSent) ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  for (const l of lines) ctx.res.write(goJsonHtml(l));
  ctx.res.end();
}

async function load(ctx: Ctx): Promise<void> {
  const quiet = boolValue(ctx.query, 'quiet');
  const { res } = ctx;
  const sent = new Set<string>();
  const emit = (v: unknown) => {
    if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(goJsonHtml(v));
  };
  try {
    const lines = await ctx.backend.loadImages(ctx.req, (line) => {
      // Progress ("Loading layer …") is a status line, shown only when not quiet; everything else
      // (`Loaded image: …`, `The image … already exists, renaming …`) is a stream line, sent once.
      if (!line.startsWith('Loading layer')) { sent.add(line); emit({ stream: `${line}\n` }); }
      else if (!quiet) emit({ status: line });
    });
    for (const l of lines) if (!sent.has(l)) emit({ stream: `${l}\n` });
    if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end();
  } catch (err) {
    ctx.req.resume();
    if (!res.headersSent) throw err;
    const message = errorMessage(err);
    res.end(goJsonHtml({ errorDetail: { message }, error: message }));
  }
}

async function save(ctx: Ctx, names: string[]): Promise<void> {
  if (!names.length) throw new InvalidArgumentError('no images specified');
  const out = lazyResponseStream(ctx.res, 'application/x-tar');
  await ctx.backend.saveImages(names, out);
  endStream(out);
}

async function inspect(ctx: Ctx): Promise<void> {
  try {
    const { image, graphDriver } = await ctx.backend.inspectImage(ctx.params[0]!);
    sendJson(ctx.res, 200, imageInspect(image, graphDriver));
  } catch (err) {
    // Docker 20.10 words this one twice: `no such image: x: No such image: x`.
    if (err instanceof NotFoundError && err.message.startsWith('No such image: ')) {
      throw new NotFoundError(`no such image: ${err.message.slice('No such image: '.length)}: ${err.message}`);
    }
    throw err;
  }
}

export function registerImageRoutes(r: Router): void {
  r.get('/images/json', list);
  r.post('/images/create', create);
  r.post('/images/load', load);
  r.get('/images/get', (ctx) => save(ctx, ctx.query.getAll('names')));
  r.post('/images/prune', async (ctx) => {
    const filters = parseFilters(ctx.query.get('filters'));
    const d = filters.dangling;
    const all = !!d && d.some((v) => v === 'false' || v === '0');
    const out = await ctx.backend.pruneImages({ all, filters });
    sendJson(ctx.res, 200, { ImagesDeleted: out.deleted.length ? out.deleted : null, SpaceReclaimed: out.spaceReclaimed });
  });
  r.get('/images/search', () => { throw new NotImplementedError('image search is not implemented by berth yet'); });
  r.get('/images/{name:.*}/json', inspect);
  r.get('/images/{name:.*}/history', async (ctx) => {
    sendJson(ctx.res, 200, (await ctx.backend.imageHistory(ctx.params[0]!)).map(historyItem));
  });
  r.get('/images/{name:.*}/get', (ctx) => save(ctx, [ctx.params[0]!]));
  r.post('/images/{name:.*}/tag', async (ctx) => {
    await ctx.backend.tagImage(ctx.params[0]!, ctx.query.get('repo') ?? '', ctx.query.get('tag') ?? '');
    sendNoContent(ctx.res, 201);
  });
  r.post('/images/{name:.*}/push', () => { throw new NotImplementedError('push is not implemented by berth yet'); });
  r.delete('/images/{name:.*}', async (ctx) => {
    const q = ctx.query;
    const items = await ctx.backend.removeImage(ctx.params[0]!, { force: boolValue(q, 'force'), noPrune: boolValue(q, 'noprune') });
    sendJson(ctx.res, 200, items.map((i) => (i.Untagged !== undefined ? { Untagged: i.Untagged } : { Deleted: i.Deleted })));
  });
}
