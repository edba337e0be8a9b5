/** /containers/{id}/archive (HEAD stat, GET tar, PUT extract) and /containers/{id}/changes (cf. moby router/container/copy.go). */
import { InvalidArgumentError } from '../../../lib/index.ts';
import type { PathStat } from '../../../engine/index.ts';
import { goJsonHtml } from '../errors.ts';
import { boolValue, sendJson, type Ctx } from '../http.ts';

/** X-Docker-Container-Path-Stat: the stat as Go's json.Marshal writes it, base64. */
export function pathStatHeader(s: PathStat): string {
  return Buffer.from(goJsonHtml({ name: s.name, size: s.size, mode: s.mode, mtime: s.mtime, linkTarget: s.linkTarget }).slice(0, -1)).toString('base64');
}

function pathParam(ctx: Ctx): string {
  const p = ctx.query.get('path');
  if (!p) throw new InvalidArgumentError('Path cannot be empty');
  return p;
}

export async function archiveHead(ctx: Ctx): Promise<void> {
  const stat = await ctx.backend.containerStatPath(ctx.params[0]!, pathParam(ctx));
  ctx.res.writeHead(200, { 'X-Docker-Container-Path-Stat': pathStatHeader(stat) });
  ctx.res.end();
}

export async function archiveGet(ctx: Ctx): Promise<void> {
  const { stat, write } = await ctx.backend.containerArchivePath(ctx.params[0]!, pathParam(ctx));
  const { res } = ctx;
  res.writeHead(200, { 'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': pathStatHeader(stat) });
  try {
    await write(res);
  } catch {
    res.destroy();
    return;
  }
  res.end();
}

export async function archivePut(ctx: Ctx): Promise<void> {
  const q = ctx.query;
  await ctx.backend.containerExtractToDir(ctx.params[0]!, pathParam(ctx), {
    noOverwriteDirNonDir: boolValue(q, 'noOverwriteDirNonDir'),
    copyUIDGID: boolValue(q, 'copyUIDGID'),
  }, ctx.req);
  ctx.res.writeHead(200, { 'Content-Length': '0' });
  ctx.res.end();
}

export async function changes(ctx: Ctx): Promise<void> {
  const list = await ctx.backend.containerChanges(ctx.params[0]!);
  sendJson(ctx.res, 200, list.length ? list : null);
}
