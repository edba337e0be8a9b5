/**
 * A subset of Go's text/template, enough for docker's `--format`: text and `{{ }}` actions
 * (with `{{-`/`-}}` trimming), fields `.A.B`, `$` and `$var`, pipelines `a | f`, parenthesised
 * pipelines, string/number/bool literals, `if`/`else if`/`else`, `range` (with `$i, $v :=`),
 * `with`, variables `$x := …`, and docker's functions (json, join, split, upper, lower, title,
 * pad, truncate, index, len, print, printf, println, eq, ne, lt, le, gt, ge, and, or, not).
 *
 * Values: plain objects behave as Go maps (missing key is an error, as docker runs templates
 * with missingkey=error); objects carrying TYPE_NAME behave as Go structs (fields may be
 * methods: functions called with the arguments); arrays as slices.
 */

/** Marks an object as a Go struct with this type name (`*formatter.ContainerContext`). */
export const TYPE_NAME = Symbol('goType');
/** An object whose JSON form keeps its key order (a Go struct); maps are sorted. */
export const ORDERED = Symbol('ordered');

/** Mark decoded daemon JSON so `{{json}}` and printing keep its key order (docker decodes into typed structs). */
export function ordered<T>(v: T): T {
  if (Array.isArray(v)) v.forEach(ordered);
  else if (v && typeof v === 'object') {
    (v as Record<symbol, unknown>)[ORDERED] = true;
    for (const x of Object.values(v)) ordered(x);
  }
  return v;
}

export class TemplateError extends Error {}

type Node =
  | { k: 'text'; s: string }
  | { k: 'action'; p: Pipe }
  | { k: 'if' | 'with'; p: Pipe; list: Node[]; else: Node[] }
  | { k: 'range'; p: Pipe; list: Node[]; else: Node[] };
interface Pipe { decl: string[]; cmds: Arg[][]; pos: number; src: string }
type Arg =
  | { k: 'field'; chain: string[]; pos: number; src: string }
  | { k: 'var'; name: string; chain: string[]; pos: number; src: string }
  | { k: 'dot' }
  | { k: 'ident'; name: string; pos: number }
  | { k: 'lit'; v: unknown }
  | { k: 'pipe'; p: Pipe; chain: string[] };

interface Tok { t: string; v: string; pos: number }

const FUNCS = new Set(['json', 'join', 'split', 'upper', 'lower', 'title', 'pad', 'truncate', 'index', 'len', 'print', 'printf', 'println', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'not', 'slice']);

function lexAction(src: string, base: number, all: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const err = (m: string): never => { throw new TemplateError(`template: ${loc(all, base + i)}: ${m}`); };
  while (i < src.length) {
    const c = src[i]!;
    const pos = base + i;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (c === '(' || c === ')' || c === '|' || c === ',') { toks.push({ t: c, v: c, pos }); i++; continue; }
    if (c === ':' && src[i + 1] === '=') { toks.push({ t: ':=', v: ':=', pos }); i += 2; continue; }
    if (c === '=') { toks.push({ t: '=', v: '=', pos }); i++; continue; }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) err('unterminated quoted string');
      toks.push({ t: 'str', v: JSON.parse(src.slice(i, j + 1)) as string, pos });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) err('unterminated raw quoted string');
      toks.push({ t: 'str', v: src.slice(i + 1, j), pos });
      i = j + 1;
      continue;
    }
    const m = /^(?:\$[A-Za-z0-9_]*|\.?[A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z_][A-Za-z0-9_]*)*|^\.|^-?\d+(?:\.\d+)?/.exec(src.slice(i));
    if (!m) err(`unexpected "${c}" in command`);
    const w = m![0];
    toks.push({ t: w[0] === '$' ? 'var' : w[0] === '.' ? 'field' : /^-?\d/.test(w) ? 'num' : 'ident', v: w, pos });
    i += w.length;
  }
  return toks;
}

function loc(all: string, pos: number): string {
  const before = all.slice(0, pos);
  const line = before.split('\n').length;
  return `:${line}:${pos - (before.lastIndexOf('\n') + 1)}`;
}

export class Template {
  readonly src: string;
  readonly root: Node[];
  constructor(src: string) {
    this.src = src;
    this.root = parse(src);
  }

  execute(dot: unknown): string {
    const out: string[] = [];
    const vars: Array<[string, unknown]> = [['$', dot]];
    execList(this.root, dot, vars, out, this.src);
    return out.join('');
  }
}

function parse(src: string): Node[] {
  // split into text and actions
  interface Item { text?: string; action?: string; pos: number }
  const items: Item[] = [];
  let i = 0;
  while (i < src.length) {
    const o = src.indexOf('{{', i);
    if (o < 0) { items.push({ text: src.slice(i), pos: i }); break; }
    let text = src.slice(i, o);
    let start = o + 2;
    if (src[start] === '-' && /\s/.test(src[start + 1] ?? '')) { text = text.trimEnd(); start += 2; }
    const close = src.indexOf('}}', start);
    if (close < 0) throw new TemplateError(`template: ${loc(src, o)}: unclosed action`);
    let end = close;
    let next = close + 2;
    if (src[close - 1] === '-' && /\s/.test(src[close - 2] ?? '')) {
      end = close - 2;
      while (next < src.length && /\s/.test(src[next]!)) next++;
    }
    if (text) items.push({ text, pos: i });
    items.push({ action: src.slice(start, end), pos: start });
    i = next;
  }
  let k = 0;
  const parsePipe = (toks: Tok[], pos: number, srcText: string): Pipe => {
    let j = 0;
    const decl: string[] = [];
    // declarations: $x := or $i, $v :=
    const colon = toks.findIndex((t) => t.t === ':=' || t.t === '=');
    if (colon > 0 && toks.slice(0, colon).every((t) => t.t === 'var' || t.t === ',')) {
      for (const t of toks.slice(0, colon)) if (t.t === 'var') decl.push(t.v);
      j = colon + 1;
    }
    const parseCmds = (stopParen: boolean): Arg[][] => {
      const cmds: Arg[][] = [[]];
      for (; j < toks.length; j++) {
        const t = toks[j]!;
        if (t.t === ')') { if (stopParen) return cmds; throw new TemplateError(`template: ${loc(src, t.pos)}: unexpected right paren`); }
        if (t.t === '|') { cmds.push([]); continue; }
        const cur = cmds[cmds.length - 1]!;
        if (t.t === '(') {
          j++;
          const innerStart = toks[j]?.pos ?? t.pos;
          const inner = parseCmds(true);
          const closeTok = toks[j];
          if (!closeTok || closeTok.t !== ')') throw new TemplateError(`template: ${loc(src, t.pos)}: unclosed left paren`);
          const p: Pipe = { decl: [], cmds: inner, pos: innerStart, src: src.slice(t.pos, closeTok.pos + 1) };
          // a field chain right after the paren: (x).Field
          const after = toks[j + 1];
          let chain: string[] = [];
          if (after && after.t === 'field' && after.pos === closeTok.pos + 1) { chain = after.v.split('.').filter(Boolean); j++; }
          cur.push({ k: 'pipe', p, chain });
          continue;
        }
        cur.push(toArg(t));
      }
      if (stopParen) throw new TemplateError(`template: ${loc(src, pos)}: unclosed left paren`);
      return cmds;
    };
    const cmds = parseCmds(false);
    if (cmds.some((c) => c.length === 0)) throw new TemplateError(`template: ${loc(src, pos)}: missing value for command`);
    return { decl, cmds, pos, src: srcText };
  };
  const toArg = (t: Tok): Arg => {
    switch (t.t) {
      case 'str': return { k: 'lit', v: t.v };
      case 'num': return { k: 'lit', v: Number(t.v) };
      case 'var': { const [name, ...chain] = t.v.split('.'); return { k: 'var', name: name!, chain, pos: t.pos, src: t.v }; }
      case 'field': return t.v === '.' ? { k: 'dot' } : { k: 'field', chain: t.v.split('.').slice(1), pos: t.pos, src: t.v };
      default:
        if (t.v === 'true' || t.v === 'false') return { k: 'lit', v: t.v === 'true' };
        if (t.v === 'nil') return { k: 'lit', v: null };
        if (!FUNCS.has(t.v)) throw new TemplateError(`template: ${loc(src, t.pos)}: function "${t.v}" not defined`);
        return { k: 'ident', name: t.v, pos: t.pos };
    }
  };
  const parseList = (stops: string[]): { list: Node[]; stop: string; rest: Tok[]; pos: number } => {
    const list: Node[] = [];
    for (; k < items.length; k++) {
      const it = items[k]!;
      if (it.text !== undefined) { list.push({ k: 'text', s: it.text }); continue; }
      const raw = it.action!;
      const lead = raw.length - raw.trimStart().length;
      const body = raw.trim();
      const bpos = it.pos + lead;
      if (body.startsWith('/*')) continue;
      const toks = lexAction(body, bpos, src);
      const kw = toks[0]?.t === 'ident' ? toks[0].v : '';
      if (toks.length === 0) throw new TemplateError(`template: ${loc(src, it.pos)}: missing value for command`);
      if (kw === 'end' || kw === 'else') {
        if (!stops.includes(kw)) throw new TemplateError(`template: ${loc(src, bpos)}: unexpected {{${kw}}}`);
        return { list, stop: kw, rest: toks.slice(1), pos: bpos };
      }
      if (kw === 'if' || kw === 'range' || kw === 'with') {
        k++;
        list.push(parseControl(kw, toks.slice(1), bpos, body));
        continue;
      }
      list.push({ k: 'action', p: parsePipe(toks, bpos, body) });
    }
    if (stops.length) throw new TemplateError(`template: ${loc(src, src.length)}: unexpected EOF`);
    return { list, stop: '', rest: [], pos: src.length };
  };
  const parseControl = (kw: 'if' | 'range' | 'with', toks: Tok[], pos: number, body: string): Node => {
    if (!toks.length) throw new TemplateError(`template: ${loc(src, pos)}: missing value for ${kw}`);
    const p = parsePipe(toks, toks[0]!.pos, body);
    const a = parseList(['end', 'else']);
    let elseList: Node[] = [];
    if (a.stop === 'else') {
      k++;
      if (a.rest.length && a.rest[0]!.t === 'ident' && (a.rest[0]!.v === 'if' || a.rest[0]!.v === 'with')) {
        // else if … : a nested control that shares our {{end}}
        const nested = parseControl(a.rest[0]!.v as 'if' | 'with', a.rest.slice(1), a.pos, body);
        elseList = [nested];
        return { k: kw, p, list: a.list, else: elseList };
      }
      const b = parseList(['end']);
      elseList = b.list;
    }
    return { k: kw, p, list: a.list, else: elseList };
  };
  const r = parseList([]);
  return r.list;
}

// ---------- evaluation ----------

type Vars = Array<[string, unknown]>;

function execList(list: Node[], dot: unknown, vars: Vars, out: string[], src: string): void {
  for (const n of list) {
    switch (n.k) {
      case 'text': out.push(n.s); break;
      case 'action': {
        const v = evalPipe(n.p, dot, vars, src);
        if (n.p.decl.length === 0) out.push(printValue(v));
        break;
      }
      case 'if': case 'with': {
        const mark = vars.length;
        const v = evalPipe(n.p, dot, vars, src);
        if (truth(v)) execList(n.list, n.k === 'with' ? v : dot, vars, out, src);
        else execList(n.else, dot, vars, out, src);
        vars.length = mark;
        break;
      }
      case 'range': {
        const mark = vars.length;
        const v = evalPipe({ ...n.p, decl: [] }, dot, vars, src);
        let entries: Array<[unknown, unknown]> = [];
        if (Array.isArray(v)) entries = v.map((x, i) => [i, x]);
        else if (v && typeof v === 'object') entries = Object.keys(v).sort().map((key) => [key, (v as Record<string, unknown>)[key]]);
        else if (typeof v === 'number') entries = Array.from({ length: v }, (_, i) => [i, i]);
        else if (v !== null && v !== undefined) throw new TemplateError(`template: ${loc(src, n.p.pos)}: range can't iterate over ${printValue(v)}`);
        if (!entries.length) execList(n.else, dot, vars, out, src);
        for (const [key, val] of entries) {
          if (n.p.decl.length === 1) vars.push([n.p.decl[0]!, val]);
          else if (n.p.decl.length >= 2) { vars.push([n.p.decl[0]!, key]); vars.push([n.p.decl[1]!, val]); }
          execList(n.list, val, vars, out, src);
          vars.length = mark;
        }
        break;
      }
    }
  }
}

function evalPipe(p: Pipe, dot: unknown, vars: Vars, src: string): unknown {
  let v: unknown;
  let piped = false;
  for (const cmd of p.cmds) {
    v = evalCmd(cmd, dot, vars, src, piped ? [v] : []);
    piped = true;
  }
  for (const d of p.decl) vars.push([d, v]);
  return v;
}

function evalCmd(cmd: Arg[], dot: unknown, vars: Vars, src: string, extra: unknown[]): unknown {
  const first = cmd[0]!;
  const evalArgs = (): unknown[] => [...cmd.slice(1).map((a) => evalArg(a, dot, vars, src, [])), ...extra];
  if (first.k === 'ident') {
    try {
      return callFunc(first.name, evalArgs());
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      throw new TemplateError(`template: ${loc(src, first.pos)}: executing "" at <${first.name}>: error calling ${first.name}: ${(e as Error).message}`);
    }
  }
  if (first.k === 'field' || first.k === 'var' || first.k === 'pipe') {
    return evalArg(first, dot, vars, src, evalArgs());
  }
  if (cmd.length > 1 || extra.length) throw new TemplateError(`template: can't give argument to non-function ${printValue(evalArg(first, dot, vars, src, []))}`);
  return evalArg(first, dot, vars, src, []);
}

function evalArg(a: Arg, dot: unknown, vars: Vars, src: string, args: unknown[]): unknown {
  switch (a.k) {
    case 'lit': return a.v;
    case 'dot': return dot;
    case 'ident': return callFunc(a.name, args);
    case 'field': return walk(dot, a.chain, args, a.pos, a.src, src);
    case 'var': {
      let v: unknown;
      let found = false;
      for (let i = vars.length - 1; i >= 0; i--) if (vars[i]![0] === a.name) { v = vars[i]![1]; found = true; break; }
      if (!found) throw new TemplateError(`template: ${loc(src, a.pos)}: undefined variable "${a.name}"`);
      return walk(v, a.chain, args, a.pos, a.src, src);
    }
    case 'pipe': return walk(evalPipe(a.p, dot, vars, src), a.chain, args, a.p.pos, a.p.src, src);
  }
}

function walk(v: unknown, chain: string[], args: unknown[], pos: number, text: string, src: string): unknown {
  const fail = (m: string): never => { throw new TemplateError(`template: ${loc(src, pos)}: executing "" at <${text}>: ${m}`); };
  for (let i = 0; i < chain.length; i++) {
    const name = chain[i]!;
    const last = i === chain.length - 1;
    if (v === null || v === undefined) fail(`nil pointer evaluating interface {}.${name}`);
    if (typeof v !== 'object') fail(`can't evaluate field ${name} in type ${goTypeOf(v)}`);
    const o = v as Record<string | symbol, unknown>;
    const tn = o[TYPE_NAME] as string | undefined;
    if (tn !== undefined) {
      if (!(name in o)) fail(`can't evaluate field ${name} in type ${tn}`);
      const f = o[name];
      v = typeof f === 'function' ? (f as (...a: unknown[]) => unknown).apply(o, last ? args : []) : f;
      if (last) return v;
      continue;
    }
    if (Array.isArray(v)) fail(`can't evaluate field ${name} in type []interface {}`);
    if (!Object.hasOwn(o, name)) fail(`map has no entry for key "${name}"`);
    v = o[name];
  }
  if (args.length) {
    if (typeof v === 'function') return (v as (...a: unknown[]) => unknown)(...args);
    fail(`can't give argument to non-function ${text}`);
  }
  return v;
}

function goTypeOf(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  return 'interface {}';
}

export function truth(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object' && !(TYPE_NAME in (v as object))) return Object.keys(v as object).length > 0;
  return true;
}

/** Go's %v. */
export function printValue(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[${v.map(printValue).join(' ')}]`;
  if (typeof v === 'object') {
    if (typeof (v as { toString?: unknown }).toString === 'function' && (v as object).toString !== Object.prototype.toString) return String(v);
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    // a Go struct prints its values; a decoded struct is recognised by its capitalised field names
    if (TYPE_NAME in o || (ORDERED in o && keys.length > 0 && keys.every((k) => /^[A-Z]/.test(k)))) return `{${keys.filter((k) => typeof o[k] !== 'function').map((key) => printValue(o[key])).join(' ')}}`;
    return `map[${Object.keys(o).sort().map((key) => `${key}:${printValue(o[key])}`).join(' ')}]`;
  }
  return String(v);
}

/**
 * Go's JSON encoding: maps with sorted keys, structs (ORDERED/TYPE_NAME) in field order. docker's
 * `json` template function does not escape <>&, but formatter contexts marshal themselves with
 * json.Marshal, which does: pass escapeHtml for those.
 */
export function goJson(v: unknown, indent = '', escapeHtml = false): string {
  const norm = (x: unknown): unknown => {
    if (x === undefined) return null;
    if (x === null || typeof x !== 'object') return x;
    if (Array.isArray(x)) return x.map(norm);
    const o = x as Record<string | symbol, unknown>;
    if (typeof o.toJSON === 'function') return norm((o.toJSON as () => unknown)());
    const keys = Object.keys(o);
    if (!(ORDERED in o) && !(TYPE_NAME in o)) keys.sort();
    const r: Record<string, unknown> = {};
    for (const key of keys) if (typeof o[key] !== 'function') r[key] = norm(o[key]);
    return r;
  };
  const text = JSON.stringify(norm(v), null, indent);
  return escapeHtml ? text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : text;
}

function cmp(name: string, a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b && !(typeof a === 'number' && typeof b === 'number')) throw new Error('incompatible types for comparison');
  switch (name) {
    case 'lt': return (a as number) < (b as number);
    case 'le': return (a as number) <= (b as number);
    case 'gt': return (a as number) > (b as number);
    default: return (a as number) >= (b as number);
  }
}

/** Go's fmt.Sprintf for the common verbs. */
export function sprintf(format: string, args: unknown[]): string {
  let i = 0;
  return format.replace(/%([-+ 0#]*)(\d+)?(?:\.(\d+))?([vsdqfgtxXT%])/g, (_m, flags: string, width: string | undefined, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (i >= args.length) return `%!${verb}(MISSING)`;
    const a = args[i++];
    let s: string;
    switch (verb) {
      case 'd': s = typeof a === 'number' ? String(Math.trunc(a)) : `%!d(${goTypeOf(a)}=${printValue(a)})`; break;
      case 'f': s = typeof a === 'number' ? a.toFixed(prec !== undefined ? Number(prec) : 6) : `%!f(${goTypeOf(a)}=${printValue(a)})`; break;
      case 'q': s = JSON.stringify(printValue(a)); break;
      case 'x': s = typeof a === 'number' ? a.toString(16) : Buffer.from(printValue(a)).toString('hex'); break;
      case 'X': s = typeof a === 'number' ? a.toString(16).toUpperCase() : Buffer.from(printValue(a)).toString('hex').toUpperCase(); break;
      case 'T': s = goTypeOf(a); break;
      default: s = printValue(a); if (prec !== undefined && verb === 's') s = s.slice(0, Number(prec));
    }
    if (width !== undefined) {
      const w = Number(width);
      const len = [...s].length;
      if (len < w) s = flags.includes('-') ? s + ' '.repeat(w - len) : (flags.includes('0') && verb !== 's' ? '0' : ' ').repeat(w - len) + s;
    }
    return s;
  }) + (i < args.length ? `%!(EXTRA ${args.slice(i).map((a) => `${goTypeOf(a)}=${printValue(a)}`).join(', ')})` : '');
}

function callFunc(name: string, args: unknown[]): unknown {
  const need = (n: number): void => {
    if (args.length !== n) throw new Error(`wrong number of args for ${name}: want ${n} got ${args.length}`);
  };
  switch (name) {
    case 'json': {
      need(1);
      const a = args[0];
      return goJson(a, '', !!a && typeof a === 'object' && TYPE_NAME in a && 'toJSON' in a);
    }
    case 'join': need(2); return ((args[0] as unknown[] | null) ?? []).map(printValue).join(String(args[1]));
    case 'split': need(2); return String(args[0]).split(String(args[1]));
    case 'upper': need(1); return printValue(args[0]).toUpperCase();
    case 'lower': need(1); return printValue(args[0]).toLowerCase();
    case 'title': need(1); return printValue(args[0]).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, a: string, b: string) => a + b.toUpperCase());
    case 'pad': need(3); return ' '.repeat(Number(args[1])) + printValue(args[0]) + ' '.repeat(Number(args[2]));
    case 'truncate': { need(2); const s = [...printValue(args[0])]; const n = Number(args[1]); return s.length > n ? s.slice(0, n).join('') : s.join(''); }
    case 'len': {
      need(1);
      const a = args[0];
      if (typeof a === 'string') return Buffer.byteLength(a);
      if (Array.isArray(a)) return a.length;
      if (a && typeof a === 'object') return Object.keys(a).length;
      throw new Error(`len of type ${goTypeOf(a)}`);
    }
    case 'index': {
      let v = args[0];
      for (const key of args.slice(1)) {
        if (v === null || v === undefined) return undefined;
        if (Array.isArray(v)) {
          if (typeof key !== 'number' || key < 0 || key >= v.length) throw new Error(`index out of range: ${printValue(key)}`);
          v = v[key];
        } else if (typeof v === 'object') {
          v = Object.hasOwn(v, String(key)) ? (v as Record<string, unknown>)[String(key)] : undefined;
        } else throw new Error(`can't index item of type ${goTypeOf(v)}`);
      }
      return v;
    }
    case 'slice': {
      const a = args[0];
      const from = Number(args[1] ?? 0);
      if (typeof a === 'string') return a.slice(from, args[2] !== undefined ? Number(args[2]) : undefined);
      if (Array.isArray(a)) return a.slice(from, args[2] !== undefined ? Number(args[2]) : undefined);
      throw new Error(`can't slice item of type ${goTypeOf(a)}`);
    }
    case 'print': return goPrint(args);
    case 'println': return `${args.map(printValue).join(' ')}\n`;
    case 'printf': return sprintf(String(args[0] ?? ''), args.slice(1));
    case 'eq': if (args.length < 2) throw new Error('missing argument for comparison'); return args.slice(1).some((b) => args[0] === b);
    case 'ne': need(2); return args[0] !== args[1];
    case 'lt': case 'le': case 'gt': case 'ge': need(2); return cmp(name, args[0], args[1]);
    case 'and': { let v: unknown = args[0]; for (const a of args) { v = a; if (!truth(a)) return a; } return v; }
    case 'or': { let v: unknown = args[0]; for (const a of args) { v = a; if (truth(a)) return a; } return v; }
    case 'not': need(1); return !truth(args[0]);
  }
  throw new Error(`function "${name}" not defined`);
}

/** Go's fmt.Sprint: spaces between operands when neither is a string. */
function goPrint(args: unknown[]): string {
  let s = '';
  for (let i = 0; i < args.length; i++) {
    if (i > 0 && typeof args[i] !== 'string' && typeof args[i - 1] !== 'string') s += ' ';
    s += printValue(args[i]);
  }
  return s;
}

const cache = new Map<string, Template>();
/** Parses (with a small cache) and executes. */
export function render(src: string, dot: unknown): string {
  let t = cache.get(src);
  if (!t) { t = new Template(src); cache.set(src, t); }
  return t.execute(dot);
}
