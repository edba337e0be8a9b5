/** Helpers shared by the command modules. */
import { ApiError, encodeFilters } from '../../client/index.ts';
import { CliError, ExitCode } from '../errors.ts';
import type { Ctx, Opts } from '../main.ts';

export const str = (o: Opts, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
export const list = (o: Opts, k: string): string[] => (Array.isArray(o[k]) ? (o[k] as string[]) : []);

export function filters(o: Opts, key = 'filter'): string | undefined {
  try {
    return encodeFilters(list(o, key));
  } catch (e) {
    throw new CliError((e as Error).message, 125);
  }
}

/** docker client's objectNotFoundError for calls it wraps (inspect, remove). */
export function notFound(e: unknown, what: 'container' | 'image' | 'object', id: string): unknown {
  if (e instanceof ApiError && e.status === 404) return new CliError(`Error: No such ${what}: ${id}`);
  return e;
}

export function errText(e: unknown): string {
  if (e instanceof ApiError) return `Error response from daemon: ${e.message}`;
  if (e instanceof CliError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/** Runs fn for each name, printing the name on success; errors are printed at the end (exit 1). */
/** Run fn for each name in parallel; print each name that succeeded (fn resolving `false` prints nothing), then the errors. */
export async function forEach(ctx: Ctx, names: string[], fn: (n: string) => Promise<void | false>, print = true, trailer?: (failed: string[]) => string): Promise<void> {
  const errors: string[] = [];
  const failed: string[] = [];
  // docker runs these in parallel but prints in order
  const results = await Promise.allSettled(names.map((n) => fn(n)));
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') { if (print && r.value !== false) ctx.out(`${names[i]}\n`); } else { errors.push(errText(r.reason)); failed.push(names[i]!); }
  });
  if (errors.length) {
    if (trailer) errors.push(trailer(failed));
    ctx.err(`${errors.join('\n')}\n`);
    throw new ExitCode(1);
  }
}

/** Confirmation prompt of the prune commands. */
export async function confirm(ctx: Ctx, warning: string): Promise<boolean> {
  ctx.out(`${warning}\nAre you sure you want to continue? [y/N] `);
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (c: Buffer): void => {
      buf += c.toString();
      if (buf.includes('\n')) { process.stdin.off('data', onData); process.stdin.pause(); resolve(buf.split('\n')[0]!); }
    };
    process.stdin.on('data', onData);
    process.stdin.once('end', () => resolve(buf));
  });
  return /^\s*y(es)?\s*$/i.test(line);
}

/** Go's json.Indent on raw bytes (keeps key order, escapes and number spelling). */
export function jsonIndent(raw: string, prefix: string, indent: string): string {
  let out = '';
  let depth = 0;
  let needIndent = false;
  const nl = (): string => `\n${prefix}${indent.repeat(depth)}`;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (needIndent && c !== ']' && c !== '}') { needIndent = false; depth++; out += nl(); }
    if (c === '"') {
      let j = i + 1;
      while (j < raw.length && raw[j] !== '"') j += raw[j] === '\\' ? 2 : 1;
      out += raw.slice(i, j + 1);
      i = j;
      continue;
    }
    switch (c) {
      case '{': case '[': out += c; needIndent = true; break;
      case ',': out += c + nl(); break;
      case ':': out += ': '; break;
      case '}': case ']':
        if (needIndent) { needIndent = false; out += c; } else { depth--; out += nl() + c; }
        break;
      default: out += c;
    }
  }
  return out;
}

/** One value of a pflag StringSlice: a CSV record (`a,"b,c"` → a, b,c); '' has none. */
export function csvRecord(v: string): string[] {
  if (v === '') return [];
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (quoted) {
      if (c === '"' && v[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') quoted = false; else cur += c;
    } else if (c === '"' && cur === '') quoted = true;
    else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}
