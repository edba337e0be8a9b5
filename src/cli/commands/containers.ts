/** Container commands other than create/run/start (those attach, see run.ts). */
import { createWriteStream } from 'node:fs';
import { ApiError, readAll } from '../../client/index.ts';
import { stdcopy, parseGoDuration, humanSize } from '../../lib/index.ts';
import { CliError, ExitCode } from '../errors.ts';
import { ordered, Template, TemplateError } from '../template.ts';
import { tabulate } from '../tabwriter.ts';
import type { Ctx, Opts } from '../main.ts';
import { confirm, filters, forEach, jsonIndent, list, notFound, str } from './common.ts';

async function rawInspect(ctx: Ctx, path: string, query?: Record<string, string | undefined>): Promise<string> {
  const res = await ctx.client().request('GET', path, query ? { query } : {});
  return (await readAll(res.body)).toString();
}

type Kind = 'container' | 'image' | 'network' | 'volume';
async function inspectOne(ctx: Ctx, name: string, kinds: Kind[], size: boolean): Promise<[Kind, string]> {
  for (const k of kinds) {
    try {
      const n = encodeURIComponent(name);
      if (k === 'container') return [k, await rawInspect(ctx, `/containers/${n}/json`, { size: size ? '1' : undefined })];
      if (k === 'image') return [k, await rawInspect(ctx, `/images/${name}/json`)];
      if (k === 'network') return [k, await rawInspect(ctx, `/networks/${n}`, { verbose: size ? 'true' : undefined })];
      return [k, await rawInspect(ctx, `/volumes/${n}`)];
    } catch (e) {
      if (!(e instanceof ApiError) || (e.status !== 404 && !(kinds.length > 1 && e.status === 400))) throw e;
    }
  }
  throw new CliError(`Error: No such ${kinds.length === 1 ? kinds[0] : 'object'}: ${name}`);
}

/**
 * docker inspect: JSON array (indented 4) or one template line per object. `typed`: the object as docker's typed
 * struct; a template that fails on it runs again on the raw JSON (docker's tryRawInspectFallback).
 */
export async function inspectObjects(ctx: Ctx, names: string[], kinds: Kind[], format: string | undefined, size: boolean, typed?: (data: unknown) => unknown): Promise<void> {
  const tmpl = format ? new Template(format) : undefined;
  const raws: string[] = [];
  const errors: string[] = [];
  let printed = false;
  for (const n of names) {
    try {
      const [kind, raw] = await inspectOne(ctx, n, kinds, size);
      if (tmpl) {
        try {
          // docker 20.10 renders containers from typed structs (field order), the others from maps (sorted)
          const data: unknown = JSON.parse(raw);
          let text: string | undefined;
          if (typed) {
            try { text = tmpl.execute(typed(data)); } catch (e) { if (!(e instanceof TemplateError)) throw e; }
          }
          ctx.out(`${text ?? tmpl.execute(kind === 'container' ? ordered(data) : data)}\n`);
          printed = true;
        } catch (e) {
          if (!(e instanceof TemplateError)) throw e;
          errors.push(`template parsing error: ${e.message}`);
        }
      } else raws.push(raw.trim());
    } catch (e) {
      if (e instanceof CliError) errors.push(e.message);
      else throw e;
    }
  }
  // docker's inspector flushes an empty line when no object was rendered
  if (tmpl && !printed) ctx.out('\n');
  if (!tmpl) ctx.out(raws.length ? `${jsonIndent(`[${raws.join(',')}]`, '', '    ')}\n` : '[]\n');
  if (errors.length) { ctx.err(`${errors.join('\n')}\n`); throw new ExitCode(1); }
}

export async function inspect(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const type = str(o, 'type');
  if (type && !['container', 'image', 'network', 'volume'].includes(type)) throw new CliError(`"${type}" is not a valid value for --type`);
  const kinds: Kind[] = type ? [type as Kind] : ['container', 'image', 'network', 'volume'];
  await inspectObjects(ctx, args, kinds, str(o, 'format'), o.size === true);
}

export async function containerInspect(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  await inspectObjects(ctx, args, ['container'], str(o, 'format'), o.size === true);
}

const intOpt = (o: Opts, k: string): number | undefined => (str(o, k) !== undefined ? Number(str(o, k)) : undefined);

export async function stop(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  await forEach(ctx, args, (n) => ctx.client().containerStop(n, intOpt(o, 'time'), str(o, 'signal')));
}

export async function restart(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  await forEach(ctx, args, (n) => ctx.client().containerRestart(n, intOpt(o, 'time'), str(o, 'signal')));
}

export async function kill(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  await forEach(ctx, args, (n) => ctx.client().containerKill(n, str(o, 'signal')));
}

export async function rm(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  await forEach(ctx, args, async (n) => {
    try {
      await ctx.client().containerRemove(n, { v: o.volumes === true || undefined, link: o.link === true || undefined, force: o.force === true || undefined });
    } catch (e) {
      const err = notFound(e, 'container', n);
      // As docker: with -f, a name that does not exist is reported but is no failure.
      if (o.force === true && err instanceof CliError) {
        ctx.err(`${err.message}\n`);
        return false;
      }
      throw err;
    }
  });
}

export async function rename(ctx: Ctx, args: string[]): Promise<void> {
  try {
    await ctx.client().containerRename(args[0]!, args[1]!);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    throw new CliError(`Error response from daemon: ${e.message}\nError: failed to rename container named ${args[0]}`);
  }
}

export async function pause(ctx: Ctx, args: string[]): Promise<void> {
  await forEach(ctx, args, (n) => ctx.client().containerPause(n));
}

export async function unpause(ctx: Ctx, args: string[]): Promise<void> {
  await forEach(ctx, args, (n) => ctx.client().containerUnpause(n));
}

export async function wait(ctx: Ctx, args: string[]): Promise<void> {
  const errors: string[] = [];
  for (const n of args) {
    try {
      const r = await (await ctx.client().containerWait(n))();
      ctx.out(`${r.StatusCode}\n`);
    } catch (e) {
      errors.push(e instanceof ApiError ? `Error response from daemon: ${e.message}` : (e as Error).message);
    }
  }
  if (errors.length) { ctx.err(`${errors.join('\n')}\n`); throw new ExitCode(1); }
}

export async function top(ctx: Ctx, args: string[]): Promise<void> {
  const r = await ctx.client().containerTop(args[0]!, args.length > 1 ? args.slice(1).join(' ') : undefined);
  let text = `${r.Titles.join('\t')}\n`;
  for (const p of r.Processes ?? []) text += `${p.join('\t')}\n`;
  ctx.out(tabulate(text, 20, 3));
}

/** timetypes.GetTimestamp: a duration before now, RFC 3339, or unix seconds. */
export function timestampArg(v: string, now = Date.now()): string {
  if (/^\d+(\.\d+)?$/.test(v)) return v;
  try {
    const ms = parseGoDuration(v);
    const t = now - ms;
    return `${Math.floor(t / 1000)}.${String(Math.round((t % 1000) * 1e6)).padStart(9, '0')}`;
  } catch { /* not a duration */ }
  const d = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(d)) throw new CliError(`invalid value for "since": failed to parse value as time or duration: "${v}"`);
  return String(Math.floor(d / 1000));
}

export async function logs(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const name = args[0]!;
  let tty: boolean;
  try {
    tty = (await ctx.client().containerInspect(name)).Config.Tty;
  } catch (e) {
    throw notFound(e, 'container', name);
  }
  const res = await ctx.client().containerLogs(name, {
    stdout: true,
    stderr: true,
    since: str(o, 'since') ? timestampArg(str(o, 'since')!) : undefined,
    until: str(o, 'until') ? timestampArg(str(o, 'until')!) : undefined,
    timestamps: o.timestamps === true || undefined,
    follow: o.follow === true || undefined,
    tail: str(o, 'tail') ?? 'all',
    details: o.details === true || undefined,
  });
  await copyOutput(res.body, tty);
}

/** Copies a (possibly multiplexed) output stream to stdout/stderr. */
export async function copyOutput(body: NodeJS.ReadableStream, tty: boolean): Promise<void> {
  if (tty) {
    for await (const c of body) process.stdout.write(c as Buffer);
    return;
  }
  const d = new stdcopy.Demuxer((stream, payload) => {
    if (stream === stdcopy.STDERR || stream === stdcopy.SYSTEMERR) process.stderr.write(payload);
    else process.stdout.write(payload);
  });
  for await (const c of body) d.push(c as Buffer);
}

export async function exportCmd(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const out = str(o, 'output');
  if (!out && process.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const res = await ctx.client().containerExport(args[0]!);
  const { pipeline } = await import('node:stream/promises');
  await pipeline(res.body, out ? createWriteStream(out) : process.stdout, { end: !!out });
}

export async function prune(ctx: Ctx, _args: string[], o: Opts): Promise<void> {
  if (o.force !== true && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.'))) return;
  const r = await ctx.client().containerPrune(filters(o));
  let output = '';
  if (r.ContainersDeleted?.length) output = `Deleted Containers:\n${r.ContainersDeleted.map((id) => `${id}\n`).join('')}`;
  if (output) ctx.out(`${output}\n`);
  ctx.out(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`);
}

export { list };
