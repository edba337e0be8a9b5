/** `ps`: its own module, so that `ps -q` loads no more than it needs. */
import type { ContainerSummary, Query } from '../../client/index.ts';
import { CliError } from '../errors.ts';
import type { Ctx, Opts } from '../main.ts';
import { filters, str } from './common.ts';

const PS_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

/** Runs the template once on a recording context, as docker does to validate it and detect `.Size`. */
function probe(format: string, containerHeaders: Record<string, string>, { TYPE_NAME, Template, TemplateError }: typeof import('../template.ts')): Set<string> {
  const used = new Set<string>();
  const ctx: Record<string | symbol, unknown> = { [TYPE_NAME]: '*formatter.ContainerContext' };
  for (const k of Object.keys(containerHeaders)) ctx[k] = () => { used.add(k); return ''; };
  ctx.toJSON = () => { for (const k of Object.keys(containerHeaders)) used.add(k); return {}; };
  let f = format;
  if (f.startsWith('table')) f = f.slice(5).trim();
  try {
    new Template(f.replaceAll('\\t', '\t').replaceAll('\\n', '\n')).execute(ctx);
  } catch (e) {
    if (e instanceof TemplateError) throw new CliError(`failed to execute template: ${e.message}`, 1);
    throw e;
  }
  return used;
}

function query(o: Opts, size: boolean): Query {
  let limit = str(o, 'last') !== undefined ? Number(str(o, 'last')) : -1;
  if (o.latest === true) limit = 1;
  return { all: o.all === true || undefined, limit: limit > 0 ? limit : undefined, size: size || undefined, filters: filters(o) };
}

export async function ps(ctx: Ctx, _args: string[], o: Opts): Promise<void> {
  const quiet = o.quiet === true;
  let format = str(o, 'format') ?? '';
  let size = o.size === true;
  if (quiet && !format) {
    // the common `ps -q`: IDs only, without loading the template engine
    const list_ = await ctx.client().containerList(query(o, size));
    const trunc = o.noTrunc !== true;
    ctx.out(list_.map((c) => `${trunc ? c.Id.replace(/^[^:]*:/, '').slice(0, 12) : c.Id}\n`).join(''));
    return;
  }
  const { containerContext, containerHeaders, formatRows } = await import('../formatter.ts');
  if (format) {
    const used = probe(format, containerHeaders, await import('../template.ts'));
    if (!quiet && !size && used.has('Size')) size = true;
  }
  if (quiet) format = '{{.ID}}';
  else if (!format || format === 'table') format = size ? `${PS_TABLE}\t{{.Size}}` : PS_TABLE;
  const list_ = await ctx.client().containerList(query(o, size));
  const trunc = o.noTrunc !== true;
  ctx.out(formatRows(format, list_.map((c: ContainerSummary) => containerContext(c, trunc)), containerHeaders));
}

