/**
 * A small flag parser with pflag's rules (what docker's cobra CLI uses): `-abc` bundles, `-fvalue`, `-f value`,
 * `--flag value`, `--flag=value`, `--bool=true|false`, repeatable list flags, `--` ends the flags, and flags may
 * follow arguments unless `interspersed` is off (run IMAGE CMD -x: everything after IMAGE is the command's).
 */

/** [flags, kind, default]: kind b = boolean, s = string, l = repeatable list; e.g. ['-n, --last <int>', 's'] */
export type OptSpec = readonly [string, 'b' | 's' | 'l', unknown?];

export interface Flag {
  long: string;
  short: string | undefined;
  kind: 'b' | 's' | 'l';
  /** pflag's type name in help: string, int, list, filter… */
  type: string;
  def: unknown;
  /** key in the parsed options: the long name in camelCase (`--no-trunc` → noTrunc) */
  key: string;
}

export type Opts = Record<string, unknown>;

/** A flag error: printed as docker does (`unknown flag: --x`, then the help hint), exit code 125. */
export class FlagError extends Error {}

const camel = (s: string): string => s.replace(/-([a-z])/g, (_x, c: string) => c.toUpperCase());

export function compile(specs: readonly OptSpec[]): Flag[] {
  return specs.map(([flags, kind, def]) => {
    const m = /^(?:-([^-\s]),\s*)?--([a-zA-Z0-9-]+)(?:\s+<([^>]+)>)?$/.exec(flags);
    if (!m) throw new Error(`bad flag spec: ${flags}`);
    return { long: m[2]!, short: m[1], kind, type: m[3] ?? '', def, key: camel(m[2]!) };
  });
}

/** Default values: lists start empty, the rest at their spec default (or absent). */
export function defaults(flags: readonly Flag[]): Opts {
  const o: Opts = {};
  for (const f of flags) if (f.kind === 'l') o[f.key] = []; else if (f.def !== undefined) o[f.key] = f.def;
  return o;
}

const name = (f: Flag): string => (f.short ? `-${f.short}, --${f.long}` : `--${f.long}`);

/** strconv.ParseBool */
function parseBool(f: Flag, v: string): boolean {
  if (/^(1|t|T|TRUE|true|True)$/.test(v)) return true;
  if (/^(0|f|F|FALSE|false|False)$/.test(v)) return false;
  throw new FlagError(`invalid argument "${v}" for "${name(f)}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
}

function set(o: Opts, f: Flag, v: string | undefined): void {
  if (f.kind === 'b') {
    const on = v === undefined || parseBool(f, v);
    // `--rm=false` leaves an unset flag unset; a flag with a default (-H, default true) takes false
    if (on) o[f.key] = true; else if (f.def !== undefined) o[f.key] = false; else delete o[f.key];
  } else if (f.kind === 'l') (o[f.key] as string[]).push(v!);
  else o[f.key] = v;
}

export interface Parsed {
  args: string[];
  opts: Opts;
  /** `--help`, or `-h` where no flag of the command uses -h (docker prints a deprecation line for it) */
  help: '' | '-h' | '--help';
}

/**
 * Parses argv against flags. With `interspersed` off, the first argument ends the flags (cobra's
 * SetInterspersed(false)); `--` always does (and is dropped, as pflag does).
 */
export function parse(argv: readonly string[], flags: readonly Flag[], interspersed = true): Parsed {
  const byLong = new Map<string, Flag>();
  const byShort = new Map<string, Flag>();
  for (const f of flags) { byLong.set(f.long, f); if (f.short) byShort.set(f.short, f); }
  const opts = defaults(flags);
  const args: string[] = [];
  let help: Parsed['help'] = '';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { args.push(...argv.slice(i + 1)); break; }
    if (a.length < 2 || a[0] !== '-') {
      if (!interspersed) { args.push(...argv.slice(i)); break; }
      args.push(a);
      continue;
    }
    if (a[1] === '-') {
      const eq = a.indexOf('=');
      const n = eq < 0 ? a.slice(2) : a.slice(2, eq);
      if (n === '' || n[0] === '-' || n[0] === '=') throw new FlagError(`bad flag syntax: ${a}`);
      const f = byLong.get(n);
      if (!f) {
        if (n === 'help') { help = '--help'; continue; }
        throw new FlagError(`unknown flag: --${n}`);
      }
      if (eq >= 0) set(opts, f, a.slice(eq + 1));
      else if (f.kind === 'b') set(opts, f, undefined);
      else if (i + 1 < argv.length) set(opts, f, argv[++i]);
      else throw new FlagError(`flag needs an argument: --${n}`);
      continue;
    }
    // shorthands: -abc, -fvalue, -f value, -f=value, -d=false
    let s = a.slice(1);
    while (s.length) {
      const c = s[0]!;
      const f = byShort.get(c);
      if (!f) {
        if (c === 'h') { help ||= '-h'; s = s.slice(1); continue; }
        throw new FlagError(`unknown shorthand flag: '${c}' in -${s}`);
      }
      if (s.length > 2 && s[1] === '=') { set(opts, f, s.slice(2)); break; }
      if (f.kind === 'b') { set(opts, f, undefined); s = s.slice(1); continue; }
      if (s.length > 1) { set(opts, f, s.slice(1)); break; }
      if (i + 1 < argv.length) { set(opts, f, argv[++i]); break; }
      throw new FlagError(`flag needs an argument: '${c}' in -${c}`);
    }
  }
  return { args, opts, help };
}
