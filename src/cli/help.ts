/**
 * `--help` in the docker 20.10 CLI's layout (cobra's usage template, pflag's wrapped flag list). Loaded only for help
 * and for the errors that print a usage.
 */
import { homedir } from 'node:os';
import { compile, type Flag } from './flags.ts';
import { GLOBAL_OPTS, GROUPS, PROG, TOP, spec, type Spec } from './main.ts';
import { HELP } from './help-text.ts';

const DEPRECATED_H = 'Flag shorthand -h has been deprecated, please use --help\n';

/** pflag's wrapN: the first line of s within i columns (up to slop more if that ends s), and the rest. */
function wrapN(i: number, slop: number, s: string): [string, string] {
  if (i + slop > s.length) return [s, ''];
  const head = s.slice(0, i);
  const w = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'));
  if (w <= 0) return [s, ''];
  const nl = head.lastIndexOf('\n');
  if (nl > 0 && nl < w) return [s.slice(0, nl), s.slice(nl + 1)];
  return [s.slice(0, w), s.slice(w + 1)];
}

/** pflag's wrap: text from column i, lines up to w, a little slop so a short last word is not orphaned. */
function wrap(i: number, w: number, s: string): string {
  let width = w - i;
  let r = '';
  if (width < 24) { i = 16; width = w - i; r += `\n${' '.repeat(i)}`; }
  const nl = (t: string): string => t.replaceAll('\n', `\n${' '.repeat(i)}`);
  if (width < 24) return r + nl(s);
  const slop = 5;
  width -= slop;
  let [line, rest] = wrapN(width, slop, s);
  r += nl(line);
  while (rest !== '') {
    [line, rest] = wrapN(width, slop, rest);
    r += `\n${' '.repeat(i)}${nl(line)}`;
  }
  return r;
}

/** pflag's FlagUsagesWrapped: sorted by long name, descriptions aligned and wrapped. Flags without a description are hidden. */
function flagUsages(flags: readonly Flag[], descs: Record<string, string>): string {
  const home = homedir();
  const cols = (process.stdout.isTTY ? process.stdout.columns || 80 : 80) - 1;
  const shown = flags.filter((f) => descs[f.long] !== undefined).sort((a, b) => (a.long < b.long ? -1 : 1));
  const heads = shown.map((f) => (f.short ? `  -${f.short}, --${f.long}` : `      --${f.long}`) + (f.type ? ` ${f.type}` : ''));
  const maxlen = Math.max(...heads.map((h) => h.length + 1));
  return shown.map((f, n) => `${heads[n]} ${' '.repeat(maxlen - heads[n]!.length)} ${wrap(maxlen + 2, cols, descs[f.long]!.replaceAll('~/', `${home}/`))}\n`).join('');
}

function list(items: Array<[string, string]>): string {
  const pad = Math.max(11, ...items.map(([n]) => n.length));
  return items.sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, d]) => `  ${n.padEnd(pad)} ${d}\n`).join('');
}

function rootUsage(): string {
  const groups = Object.entries(GROUPS).map(([n, [d]]): [string, string] => [n, d]);
  const cmds = TOP.map((k): [string, string] => [spec(k).name, spec(k).desc]);
  return `Usage:  ${PROG} [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers\n\nOptions:\n${flagUsages(compile(GLOBAL_OPTS), HELP.root!)}`
    + `\nManagement Commands:\n${list(groups)}\nCommands:\n${list(cmds)}\nRun '${PROG} COMMAND --help' for more information on a command.\n`;
}

function groupUsage(name: string): string {
  const [desc, subs] = GROUPS[name]!;
  return `Usage:  ${PROG} ${name} COMMAND\n\n${desc}\n\nCommands:\n${list(subs.map(([k, n]) => [n, spec(k).desc]))}`
    + `\nRun '${PROG} ${name} COMMAND --help' for more information on a command.\n`;
}

/** The usage block printed after a flag error of the root command or a management command. */
export function usageOf(path: string): string {
  return path === '' ? rootUsage() : groupUsage(path);
}

export function rootHelp(how: '' | '-h' | '--help'): string {
  return `${how === '-h' ? DEPRECATED_H : ''}\n${rootUsage()}`;
}

export function groupHelp(name: string, how: '' | '-h' | '--help'): string {
  return `${how === '-h' ? DEPRECATED_H : ''}\n${groupUsage(name)}`;
}

export function commandHelp(c: { spec: Spec; key: string; path: string; aliases: string[] }, how: '' | '-h' | '--help'): string {
  const s = c.spec;
  let h = `${how === '-h' ? DEPRECATED_H : ''}\nUsage:  ${PROG} ${s.usage}\n\n${s.desc}\n`;
  if (c.aliases.length) h += `\nAliases:\n  ${[c.path.split(' ').at(-1)!, ...c.aliases].join(', ')}\n`;
  const flags = flagUsages(compile(s.opts), HELP[c.key] ?? {});
  if (flags) h += `\nOptions:\n${flags}`;
  return h;
}
