/**
 * Dockerfile line parser, following BuildKit's frontend/dockerfile/parser (the parser the classic
 * builder in moby 20.10 vendors): parser directives, comments, line continuations, per-instruction
 * argument shapes (JSON vs shell form, ENV/LABEL pairs, flags, ONBUILD, HEALTHCHECK) and heredocs.
 * It does no variable expansion (lexer.ts does, at dispatch time) and keeps line numbers (1-based).
 */
import { InvalidArgumentError } from '../../lib/index.ts';
import { expandWords, isSpace } from './lexer.ts';

export interface Heredoc {
  /** The terminator word, quotes removed. */
  name: string;
  /** File descriptor before `<<` (`3<<EOF`), 0 when absent. */
  fileDescriptor: number;
  /** False when any part of the terminator was quoted (`<<"EOF"`): the content is taken literally. */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from content lines (see chompHeredocContent). */
  chomp: boolean;
  /** The raw lines between the instruction and the terminator, each with its newline. */
  content: string;
}

export interface Node {
  /** The keyword as written (`run`, `RUN`...); compare with `.toLowerCase()`. */
  value: string;
  /** Builder flags as written (`--from=x`), in order. */
  flags: string[];
  /** The argument list (BuildKit's Next chain): shape depends on the instruction. */
  args: string[];
  /** ONBUILD: the wrapped instruction. */
  sub?: Node;
  /** The arguments came from a JSON array (exec form). */
  json: boolean;
  heredocs: Heredoc[];
  /** The logical line after joining continuations. */
  original: string;
  startLine: number;
  endLine: number;
}

export interface Directive { name: string; value: string; line: number }

export interface Warning { short: string; line: number }

export interface ParseResult {
  directives: Directive[];
  /** `\` unless `# escape=` said otherwise. */
  escapeToken: string;
  children: Node[];
  warnings: Warning[];
}

/** A parse error with the (1-based) line it refers to; message is Docker's text. */
export class DockerfileParseError extends InvalidArgumentError {
  override name = 'DockerfileParseError';
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.line = line;
  }
}

const WS = /[\t\v\f\r ]+/;
const MAX_LINE = 64 * 1024;
const HEREDOC = /^(\d*)<<(-?)\s*([^<]*)$/;
const HEREDOC_INSTRUCTIONS = new Set(['add', 'copy', 'run']);
const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const VALID_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const trimNewline = (s: string): string => s.replace(/[\r\n]+$/, '');
const isComment = (s: string): boolean => s.trimStart().startsWith('#');

/** Strips the leading tabs of every line, as `<<-` asks. */
export function chompHeredocContent(src: string): string {
  return src.replace(/^\t+/gm, '');
}

class Directives {
  escape = '\\';
  continuation = /([^\\])\\[ \t]*$|^\\[ \t]*$/;
  private done = false;
  private readonly seen = new Set<string>();
  readonly found: Directive[] = [];

  /** Directives are `# key=value` comment lines before anything else; the first other line ends them. */
  possible(line: string, lineNo: number): boolean {
    if (this.done) return false;
    const m = line.startsWith('#') ? DIRECTIVE.exec(line.slice(1).trimStart()) : null;
    const key = m?.[1]?.toLowerCase();
    if (!m || key === undefined || !VALID_DIRECTIVES.has(key)) {
      this.done = true;
      return false;
    }
    if (this.seen.has(key)) throw new DockerfileParseError(`only one ${key} parser directive can be used`, lineNo);
    this.seen.add(key);
    const value = m[2] ?? '';
    if (key === 'escape') {
      if (value !== '`' && value !== '\\') {
        throw new DockerfileParseError(`invalid escape token '${value}' does not match \` or \\`, lineNo);
      }
      this.escape = value;
      const e = '\\' + value;
      // An escape token at the end of a line continues it, unless it is itself escaped.
      this.continuation = new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
    }
    this.found.push({ name: key, value, line: lineNo });
    return true;
  }

  /** Removes a trailing continuation token; returns whether the logical line ends here. */
  trimContinuation(line: string): [string, boolean] {
    if (this.continuation.test(line)) return [line.replace(this.continuation, '$1'), false];
    return [line, true];
  }
}

export interface ParseOptions {
  /** The Dockerfile's name in messages (`-f` value). Default `Dockerfile`. */
  name?: string;
  /** Run the per-instruction argument checks (unknown instruction...). Default true. */
  validate?: boolean;
  /**
   * Recognise heredocs. Default true (BuildKit, Docker 23+). Docker 20.10's classic builder has no
   * heredocs: there `RUN <<EOF` is plain text and the body lines are instructions.
   */
  heredocs?: boolean;
}

/**
 * Parses a Dockerfile. Throws DockerfileParseError (an InvalidArgumentError, with `.line`) whose
 * message is what Docker 20.10's classic builder answers (checked against dockerd 20.10):
 * `the Dockerfile (NAME) cannot be empty`, `failed to parse NAME: <parser error>` for line-level
 * errors, `dockerfile parse error line N: <error>` for instruction-level ones.
 */
export function parseDockerfile(text: string, opts: ParseOptions = {}): ParseResult {
  const name = opts.name ?? 'Dockerfile';
  if (text === '') throw new DockerfileParseError(`the Dockerfile (${name}) cannot be empty`, 0);
  let r: ParseResult;
  try {
    r = parseLines(text, opts.heredocs ?? true);
  } catch (e) {
    if (e instanceof DockerfileParseError) throw new DockerfileParseError(`failed to parse ${name}: ${e.message}`, e.line);
    throw e;
  }
  if (opts.validate !== false) {
    for (const n of r.children) {
      const msg = checkInstruction(n);
      if (msg) throw new DockerfileParseError(`dockerfile parse error line ${n.startLine}: ${msg}`, n.startLine);
    }
  }
  return r;
}

/** BuildKit's parser.Parse: logical lines to nodes. Errors carry bare messages. */
function parseLines(text: string, heredocs: boolean): ParseResult {
  const d = new Directives();
  // Lines keep their newline: heredoc bodies need it.
  const lines = text.split(/(?<=\n)/);
  if (lines[0]?.startsWith('\uFEFF')) lines[0] = lines[0].slice(1);
  // Go's bufio.Scanner gives up on lines over 64 KiB; Docker reports that rather than truncating.
  const long = lines.findIndex((l) => l.length > MAX_LINE / 4 && Buffer.byteLength(l) > MAX_LINE);
  if (long >= 0) throw new DockerfileParseError(`dockerfile line greater than max allowed size of ${MAX_LINE - 1}`, long + 1);
  const children: Node[] = [];
  const warnings: Warning[] = [];
  let i = 0; // index of the next line to read; also the number of lines read so far

  // Go's processLine: trim the newline, maybe leading blanks, look for a directive, drop comments.
  const processLine = (raw: string, stripLeft: boolean, lineNo: number): string => {
    let s = trimNewline(raw);
    if (stripLeft) s = s.trimStart();
    d.possible(s, lineNo);
    return isComment(s) ? '' : s;
  };

  while (i < lines.length) {
    let cur = processLine(lines[i] ?? '', true, i + 1);
    i++;
    const startLine = i;
    let [part, eol] = d.trimContinuation(cur);
    if (eol && part === '') continue;
    let buf = part;
    let emptyContinuation = false;
    while (!eol && i < lines.length) {
      const raw = lines[i] ?? '';
      cur = processLine(raw, false, i + 1);
      i++;
      if (isComment(raw)) continue; // comment lines inside a continuation vanish
      if (trimNewline(cur).trimStart() === '') { emptyContinuation = true; continue; }
      [part, eol] = d.trimContinuation(cur);
      buf += part;
    }
    if (emptyContinuation) {
      warnings.push({ short: `Empty continuation line found in: ${buf}`, line: i });
    }
    let node: Node;
    try {
      node = nodeFromLine(buf, d.escape);
    } catch (e) {
      throw new DockerfileParseError((e as Error).message, startLine);
    }
    if (heredocs && canContainHeredoc(node) && buf.includes('<<')) {
      for (const h of heredocsFromLine(buf, startLine)) {
        let content = '';
        let terminated = false;
        while (i < lines.length) {
          const raw = lines[i] ?? '';
          i++;
          let candidate = trimNewline(raw);
          if (h.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === h.name) { terminated = true; break; }
          content += raw;
        }
        if (!terminated) throw new DockerfileParseError('unterminated heredoc', startLine);
        const target = node.sub ?? node;
        target.heredocs.push({ ...h, content });
      }
    }
    node.startLine = startLine;
    node.endLine = i;
    if (node.sub) { node.sub.startLine = startLine; node.sub.endLine = i; }
    children.push(node);
  }
  if (children.length === 0) throw new DockerfileParseError('file with no instructions', i);
  return { directives: d.found, escapeToken: d.escape, children, warnings };
}

const KNOWN = new Set([
  'add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label', 'maintainer',
  'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir',
]);

/**
 * The argument checks BuildKit's instructions package (and the classic builder's dispatcher) does
 * right after parsing; returns Docker's message or undefined. The caller adds the line prefix.
 */
function checkInstruction(n: Node): string | undefined {
  const cmd = n.value.toLowerCase();
  const up = n.value.toUpperCase();
  if (!KNOWN.has(cmd)) return `unknown instruction: ${up}`;
  switch (cmd) {
    case 'env': case 'label':
      if (n.args.length === 0) return `${up} requires at least one argument`;
      for (let k = 0; k < n.args.length; k += 3) if (n.args[k] === '') return `${up} names can not be blank`;
      return undefined;
    case 'arg':
      return n.args.length === 0 ? 'ARG requires at least one argument' : undefined;
    case 'from':
      if (n.args.length !== 1 && !(n.args.length === 3 && n.args[1]?.toLowerCase() === 'as')) {
        return 'FROM requires either one or three arguments';
      }
      return undefined;
    case 'copy': case 'add':
      if (n.args.length < 2 && !(n.args.length === 1 && n.heredocs.length > 0)) {
        return n.args.length === 0 ? `${up} requires at least two arguments`
          : `${up} requires at least two arguments, but only one was provided. Destination could not be determined`;
      }
      return undefined;
    case 'workdir': case 'user': case 'stopsignal': case 'maintainer':
      return n.args.length === 0 ? `${up} requires exactly one argument` : undefined;
    case 'expose': case 'volume':
      return n.args.length === 0 ? `${up} requires at least one argument` : undefined;
    case 'onbuild': {
      if (!n.sub) return 'ONBUILD requires at least one argument';
      const t = n.sub.value.toUpperCase();
      if (t === 'ONBUILD') return 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed';
      if (t === 'FROM' || t === 'MAINTAINER') return `${t} isn't allowed as an ONBUILD trigger`;
      return checkInstruction(n.sub);
    }
    case 'healthcheck': {
      const typ = n.args[0]?.toUpperCase();
      if (typ === undefined) return 'HEALTHCHECK requires at least one argument';
      if (typ === 'NONE') return n.args.length > 1 ? 'HEALTHCHECK NONE takes no arguments' : undefined;
      if (typ === 'CMD') return n.args.length < 2 ? 'Missing command after HEALTHCHECK CMD' : undefined;
      return `Unknown type ${goQuote(typ)} in HEALTHCHECK (try CMD)`;
    }
  }
  return undefined;
}

function canContainHeredoc(node: Node): boolean {
  const n = node.value.toLowerCase() === 'onbuild' && node.sub ? node.sub : node;
  return HEREDOC_INSTRUCTIONS.has(n.value.toLowerCase()) && !n.json;
}

function heredocsFromLine(line: string, lineNo: number): Omit<Heredoc, 'content'>[] {
  const none = (): undefined => undefined;
  let words: string[];
  try {
    words = expandWords(line, none, '\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  } catch {
    return []; // BuildKit ignores lexing errors here
  }
  const docs: Omit<Heredoc, 'content'>[] = [];
  for (const word of words) {
    const m = HEREDOC.exec(word);
    const rest = m?.[3];
    if (!m || !rest) continue;
    try {
      // Lex the marker with and without quotes: a difference means it was quoted, so no expansion.
      const plain = expandWords(rest, none, '\\', { skipUnsetEnv: true });
      if (plain.length !== 1 || plain[0] === undefined) continue;
      const raw = expandWords(rest, none, '\\', { skipUnsetEnv: true, rawQuotes: true });
      const quotes = (s: string): number => (s.match(/['"]/g) ?? []).length;
      docs.push({
        name: plain[0],
        fileDescriptor: Number(m[1] || 0),
        expand: quotes(plain[0]) === quotes(raw[0] ?? ''),
        chomp: m[2] === '-',
      });
    } catch (e) {
      throw new DockerfileParseError((e as Error).message, lineNo);
    }
  }
  return docs;
}

function nodeFromLine(line: string, escape: string): Node {
  const trimmed = line.trim();
  const m = WS.exec(trimmed);
  const cmd = m ? trimmed.slice(0, m.index) : trimmed;
  let flags: string[] = [];
  let rest = '';
  if (m) [rest, flags] = extractBuilderFlags(trimmed.slice(m.index + m[0].length), escape);
  rest = rest.trim();
  const node: Node = {
    value: cmd, flags, args: [], json: false, heredocs: [], original: line, startLine: 0, endLine: 0,
  };
  switch (cmd.toLowerCase()) {
    case 'add': case 'copy': case 'volume': maybeJSONToList(node, rest); break;
    case 'cmd': case 'entrypoint': case 'run': case 'shell': maybeJSON(node, rest); break;
    case 'arg': node.args = parseWords(rest, escape); break;
    case 'env': case 'label': node.args = parseNameVal(rest, cmd.toLowerCase() === 'env' ? 'ENV' : 'LABEL', escape); break;
    case 'expose': case 'from': node.args = rest === '' ? [] : rest.split(WS); break;
    case 'maintainer': case 'stopsignal': case 'user': case 'workdir': node.args = rest === '' ? [] : [rest]; break;
    case 'healthcheck': healthcheck(node, rest); break;
    case 'onbuild': if (rest !== '') node.sub = nodeFromLine(rest, escape); break;
    default: node.args = ['']; // unknown: BuildKit keeps one empty argument (reported at dispatch)
  }
  return node;
}

/** Leading `--flag` words (quotes and escapes removed); a bare `--` ends them. Returns [rest, flags]. */
function extractBuilderFlags(line: string, escape: string): [string, string[]] {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    let ch = line[pos] ?? '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (isSpace(ch)) continue;
      if (ch !== '-' || line[pos + 1] !== '-') return [line.slice(pos), words];
      phase = 'word';
    }
    if (pos === line.length) {
      if (word !== '--' && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return [line.slice(pos), words];
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') { quote = ch; blankOK = true; phase = 'quote'; continue; }
      if (ch === escape) {
        if (pos + 1 === line.length) continue;
        ch = line[++pos] ?? '';
      }
      word += ch;
      continue;
    }
    // quote
    if (ch === quote) { phase = 'word'; continue; }
    if (ch === escape) {
      if (pos + 1 === line.length) { phase = 'word'; continue; }
      ch = line[++pos] ?? '';
    }
    word += ch;
  }
  return ['', words];
}

/** Splits on unquoted whitespace, keeping quotes and escapes (they are removed at expansion). */
function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let sb = '';
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = chars[pos] ?? '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (isSpace(ch)) continue;
      phase = 'word';
    }
    if (pos === chars.length) {
      if (blankOK || sb.length > 0) words.push(sb);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (blankOK || sb.length > 0) words.push(sb);
        sb = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') { quote = ch; blankOK = true; phase = 'quote'; }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue; // a trailing escape is dropped
        sb += ch; // keep escape + next char, even a quote
        ch = chars[++pos] ?? '';
      }
      sb += ch;
      continue;
    }
    if (ch === quote) phase = 'word';
    if (ch === escape && quote !== "'") { // nothing escapes inside single quotes
      if (pos + 1 === chars.length) { phase = 'word'; continue; }
      sb += ch;
      ch = chars[++pos] ?? '';
    }
    sb += ch;
  }
  return words;
}

/** ENV/LABEL: `k=v k2=v2` (args k, v, "=", ...) or the legacy `k v w` (args k, "v w", ""). */
function parseNameVal(rest: string, key: string, escape: string): string[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) return [];
  if (!words[0]?.includes('=')) {
    const m = WS.exec(rest);
    if (!m) throw new Error(`${key} must have two arguments`);
    return [rest.slice(0, m.index), rest.slice(m.index + m[0].length), ''];
  }
  return words.flatMap((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) throw new Error(`Syntax error - can't find = in ${goQuote(w)}. Must be of the form: name=value`);
    return [w.slice(0, eq), w.slice(eq + 1), '='];
  });
}

const NOT_STRINGS = 'when using JSON array syntax, arrays must be comprised of strings only';

/** Exec form: a JSON array of strings. undefined means "not JSON", so the caller falls back to shell form. */
function parseJSON(rest: string): string[] | undefined {
  rest = rest.trimStart();
  if (!rest.startsWith('[')) return undefined;
  let v: unknown;
  try { v = JSON.parse(rest); } catch { return undefined; }
  if (!Array.isArray(v)) return undefined;
  // Only an array with a non-string element is an error; any other invalid JSON is shell form.
  if (!v.every((x) => typeof x === 'string')) throw new Error(NOT_STRINGS);
  return v as string[];
}

function maybeJSON(node: Node, rest: string): void {
  if (rest === '') return;
  const j = parseJSON(rest);
  if (j) { node.args = j; node.json = true; } else node.args = [rest];
}

function maybeJSONToList(node: Node, rest: string): void {
  const j = parseJSON(rest);
  if (j) { node.args = j; node.json = true; } else node.args = rest === '' ? [] : rest.split(WS);
}

/** HEALTHCHECK TYPE [cmd...]: the type word, then the command as RUN/CMD parse it. */
function healthcheck(node: Node, rest: string): void {
  let sep = 0;
  while (sep < rest.length && !isSpace(rest[sep])) sep++;
  if (sep === 0) return;
  let next = sep;
  while (next < rest.length && isSpace(rest[next])) next++;
  maybeJSON(node, rest.slice(next));
  node.args.unshift(rest.slice(0, sep));
}

/** Go's strconv.Quote: the dump format quotes every string with it. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case '\\': out += '\\\\'; continue;
      case '\x07': out += '\\a'; continue;
      case '\b': out += '\\b'; continue;
      case '\f': out += '\\f'; continue;
      case '\n': out += '\\n'; continue;
      case '\r': out += '\\r'; continue;
      case '\t': out += '\\t'; continue;
      case '\v': out += '\\v'; continue;
    }
    if (ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch)) out += ch;
    else if (c < 0x80) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd'; // lone surrogate: Go sees invalid UTF-8
    else if (c < 0x10000) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += '\\U' + c.toString(16).padStart(8, '0');
  }
  return out + '"';
}
