/** Image commands. */
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError, readAll } from '../../client/index.ts';
import { humanSize } from '../../lib/index.ts';
import { CliError, ExitCode } from '../errors.ts';
import { formatRows, historyContext, historyHeaders, imageContext, imageHeaders, imageRows } from '../formatter.ts';
import type { Ctx, Opts } from '../main.ts';
import { confirm, errText, filters, list, notFound, str } from './common.ts';
import { inspectObjects } from './containers.ts';

export async function images(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const f = [...list(o, 'filter')];
  if (args[0]) f.push(`reference=${args[0]}`);
  const digests = o.digests === true;
  const imgs = await ctx.client().imageList({ all: o.all === true || undefined, filters: filters({ filter: f }) });
  const trunc = o.noTrunc !== true;
  let format = str(o, 'format') ?? '';
  if (o.quiet === true) format = '{{.ID}}';
  else if (!format || format === 'table') {
    format = digests ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
      : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
  }
  const showDigests = digests || /\{\{\s*\.Digest\s*\}\}/.test(format);
  const rows = imageRows(imgs, showDigests).map((r) => imageContext(r, trunc));
  ctx.out(formatRows(format, rows, imageHeaders));
}

/** Shows a JSON message stream (load, import) as docker does without a terminal; throws on an error message. */
async function showJsonMessages(ctx: Ctx, body: Readable): Promise<void> {
  let buf = '';
  const handle = (line: string): void => {
    if (!line.trim()) return;
    let m: { stream?: string; status?: string; id?: string; error?: string; errorDetail?: { message?: string; code?: number } };
    try { m = JSON.parse(line) as typeof m; } catch { ctx.out(`${line}\n`); return; }
    if (m.errorDetail || m.error) {
      throw new CliError(m.errorDetail?.message ?? m.error ?? '', m.errorDetail?.code || 1);
    }
    if (m.stream !== undefined) ctx.out(m.stream);
    else if (m.status !== undefined) ctx.out(m.id ? `${m.id}: ${m.status}\n` : `${m.status}\n`);
  };
  for await (const c of body) {
    buf += (c as Buffer).toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) { handle(buf.slice(0, i)); buf = buf.slice(i + 1); }
  }
  handle(buf);
}

async function openInput(file: string): Promise<Readable> {
  const s = createReadStream(file);
  try {
    await once(s, 'open');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CliError(`open ${file}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : err.message}`);
  }
  return s;
}

export async function load(ctx: Ctx, _args: string[], o: Opts): Promise<void> {
  const input = str(o, 'input');
  if (!input && process.stdin.isTTY) throw new CliError('requested load from stdin, but stdin is empty');
  const src = input ? await openInput(input) : process.stdin;
  const res = await ctx.client().imageLoad(src, o.quiet === true || !process.stdout.isTTY);
  if (/json/.test(res.headers['content-type'] ?? '')) await showJsonMessages(ctx, res.body);
  else ctx.out(await readAll(res.body));
}

export async function save(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const out = str(o, 'output');
  if (!out && process.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const res = await ctx.client().imageSave(args);
  if (!out) { await pipeline(res.body, process.stdout, { end: false }); return; }
  const tmp = `${out}.berth-${process.pid}.tmp`;
  try {
    await pipeline(res.body, createWriteStream(tmp));
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** reference.ParseNormalizedNamed + TagNameOnly, enough for tag: repo and tag. */
export function splitRef(ref: string): { repo: string; tag: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { repo: ref.slice(0, at), tag: '' };
  const i = ref.lastIndexOf(':');
  if (i > ref.lastIndexOf('/')) return { repo: ref.slice(0, i), tag: ref.slice(i + 1) };
  return { repo: ref, tag: 'latest' };
}

export async function tag(ctx: Ctx, args: string[]): Promise<void> {
  const { repo, tag: t } = splitRef(args[1]!);
  const path = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
  const name = repo.replace(/^[^/]*[.:][^/]*\//, '');
  if (!path.test(name)) {
    const upper = path.test(name.toLowerCase()) ? ': repository name must be lowercase' : '';
    throw new CliError(`Error parsing reference: "${args[1]}" is not a valid repository/tag: invalid reference format${upper}`);
  }
  await ctx.client().imageTag(args[0]!, repo, t);
}

export async function rmi(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const errors: string[] = [];
  for (const n of args) {
    try {
      const items = await ctx.client().imageRemove(n, { force: o.force === true || undefined, noprune: o.noPrune === true || undefined });
      for (const it of items ?? []) {
        if (it.Untagged) ctx.out(`Untagged: ${it.Untagged}\n`);
        if (it.Deleted) ctx.out(`Deleted: ${it.Deleted}\n`);
      }
    } catch (e) {
      // -f: a missing image is reported but does not fail the command
      if (o.force === true && e instanceof ApiError && e.status === 404) { ctx.err(`${errText(notFound(e, 'image', n))}\n`); continue; }
      errors.push(errText(notFound(e, 'image', n)));
    }
  }
  if (errors.length) { ctx.err(`${errors.join('\n')}\n`); throw new ExitCode(1); }
}

export async function history(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const items = await ctx.client().imageHistory(args[0]!);
  const human = o.noHuman === true ? false : o.human !== false;
  let format = str(o, 'format') ?? '';
  if (o.quiet === true) format = '{{.ID}}';
  else if (!format || format === 'table') format = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
  const headers = human ? historyHeaders : { ...historyHeaders, CreatedSince: 'CREATED AT' };
  ctx.out(formatRows(format, items.map((h) => historyContext(h, o.noTrunc !== true, human)), headers));
}

export async function importCmd(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const source = args[0]!;
  let src: Readable;
  if (source === '-') src = process.stdin;
  else if (/^https?:\/\//.test(source)) throw new CliError('import from a URL is not supported by berth');
  else src = await openInput(source);
  const res = await ctx.client().imageImport(src, { repo: args[1], message: str(o, 'message'), platform: str(o, 'platform') }, list(o, 'change'));
  await showJsonMessages(ctx, res.body);
}

export async function prune(ctx: Ctx, _args: string[], o: Opts): Promise<void> {
  const all = o.all === true;
  const warning = all ? 'WARNING! This will remove all images without at least one container associated to them.' : 'WARNING! This will remove all dangling images.';
  if (o.force !== true && !(await confirm(ctx, warning))) return;
  const f = [...list(o, 'filter'), `dangling=${!all}`];
  const r = await ctx.client().imagePrune(filters({ filter: f }));
  let output = '';
  if (r.ImagesDeleted?.length) {
    output = 'Deleted Images:\n';
    for (const d of r.ImagesDeleted) {
      if (d.Untagged) output += `untagged: ${d.Untagged}\n`;
      if (d.Deleted) output += `deleted: ${d.Deleted}\n`;
    }
  }
  if (output) ctx.out(`${output}\n`);
  ctx.out(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`);
}

export async function imageInspect(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  await inspectObjects(ctx, args, ['image'], str(o, 'format'), false);
}

export { notFound };
