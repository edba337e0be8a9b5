/**
 * Docker's shell-word lexer (BuildKit frontend/dockerfile/shell/lex.go): variable expansion and
 * word splitting for instruction arguments. Not a shell: no command substitution, no globbing.
 * Supported: `$var`, `${var}`, `${var:-w}`, `${var-w}`, `${var:+w}`, `${var+w}`, `${var:?w}`,
 * `${var?w}`, escapes (with the Dockerfile's escape token), single and double quotes.
 */
import { InvalidArgumentError } from '../../lib/index.ts';

/** Variables visible to expansion: a Map, a plain object, or a lookup function. */
export type Env = ReadonlyMap<string, string> | Readonly<Record<string, string>> | ((name: string) => string | undefined);

/** Knobs the parser needs for heredoc detection (same names as BuildKit's Lex fields). */
export interface LexOptions {
  /** Keep the quote characters in the output. */
  rawQuotes?: boolean;
  /** Keep the escape characters in the output. */
  rawEscapes?: boolean;
  /** Leave `$name` / `${name...}` as written when `name` is unset. */
  skipUnsetEnv?: boolean;
}

const EOF = '';

function getter(env: Env): (name: string) => string | undefined {
  if (typeof env === 'function') return env;
  if (env instanceof Map) return (n) => env.get(n);
  const rec = env as Readonly<Record<string, string>>;
  return (n) => (Object.hasOwn(rec, n) ? rec[n] : undefined);
}

/** Go's unicode.IsSpace (JS `\s` differs: it has U+FEFF, lacks U+0085). */
export const isSpace = (ch: string | undefined): boolean =>
  ch !== undefined && /^[\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(ch);

/** Collects whitespace-separated words; text from quotes or escapes never splits. */
class Words {
  words: string[] = [];
  buf = '';
  inWord = false;
  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf.length > 0) { this.words.push(this.buf); this.buf = ''; this.inWord = false; }
    } else this.addRaw(ch);
  }
  addRaw(s: string): void { this.buf += s; this.inWord = true; }
  addString(s: string): void { for (const ch of s) this.addChar(ch); }
  done(): string[] {
    if (this.buf.length > 0) { this.words.push(this.buf); this.buf = ''; this.inWord = false; }
    return this.words;
  }
}

class ShellWord {
  private readonly chars: string[];
  private pos = 0;
  private readonly get: (name: string) => string | undefined;
  private readonly escape: string;
  private readonly opts: LexOptions;
  private rawEscapes: boolean;

  constructor(word: string, env: Env, escape: string, opts: LexOptions) {
    this.chars = Array.from(word);
    this.get = getter(env);
    this.escape = escape;
    this.opts = opts;
    this.rawEscapes = opts.rawEscapes ?? false;
  }

  private peek(): string { return this.chars[this.pos] ?? EOF; }
  private next(): string { return this.chars[this.pos++] ?? EOF; }

  /** Reads until `stop` (consumed) or the end; returns the joined text and the split words. */
  processStopOn(stop: string, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = new Words();
      while (this.peek() !== EOF) {
        const ch = this.peek();
        if (stop !== EOF && ch === stop) {
          this.next();
          return { result, words: words.done() };
        }
        if (ch === '$') {
          const v = this.processDollar();
          result += v;
          words.addString(v); // expanded values split into words, like an unquoted shell expansion
        } else if (ch === '<') {
          const v = this.processPossibleHeredoc();
          result += v;
          words.addRaw(v);
        } else if (ch === "'") {
          const v = this.processSingleQuote();
          result += v;
          words.addRaw(v);
        } else if (ch === '"') {
          const v = this.processDoubleQuote();
          result += v;
          words.addRaw(v);
        } else {
          let c = this.next();
          if (c === this.escape) {
            if (this.rawEscapes) { words.addRaw(c); result += c; }
            c = this.next();
            if (c === EOF) break; // a trailing escape is dropped
            words.addRaw(c);
          } else {
            words.addChar(c);
          }
          result += c;
        }
      }
      if (stop !== EOF) throw new Error(`unexpected end of statement while looking for matching ${stop}`);
      return { result, words: words.done() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    // Inside single quotes nothing is special, not even the escape token.
    let out = this.opts.rawQuotes ? this.next() : (this.next(), '');
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new Error('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return this.opts.rawQuotes ? out + ch : out;
      out += ch;
    }
  }

  private processDoubleQuote(): string {
    let out = this.opts.rawQuotes ? this.next() : (this.next(), '');
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new Error('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        const ch = this.next();
        return this.opts.rawQuotes ? out + ch : out;
      }
      if (p === '$') { out += this.processDollar(); continue; }
      let ch = this.next();
      if (ch === this.escape) {
        if (this.rawEscapes) out += ch;
        const n = this.peek();
        if (n === EOF) continue;
        // Only `"`, `$` and the escape token itself are escapable inside double quotes.
        if (n === '"' || n === '$' || n === this.escape) ch = this.next();
      }
      out += ch;
    }
  }

  private processDollar(): string {
    this.next(); // '$'
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const v = this.get(name);
      if (v === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return v ?? '';
    }
    this.next(); // '{'
    const first = this.peek();
    if (first === EOF) throw new Error("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new Error('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    // Go turns the scanner's EOF into U+FFFD in the message; keep Docker's text.
    let mod = ch === EOF ? '\uFFFD' : ch;
    if (ch === '}') {
      const v = this.get(name);
      if (v === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
      return v ?? '';
    }
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      mod += ch === EOF ? '\uFFFD' : ch;
    }
    // Without a colon an unknown modifier fails at once; after `:` Go reads the word first
    // (so a missing `}` wins). `#`, `%` and `/` (newer BuildKit, not Docker 20.10) are unsupported.
    const known = ch === '-' || ch === '+' || ch === '?';
    if (!known && !nullIsUnset) throw new Error(`unsupported modifier (${mod}) in substitution`);
    let word: string;
    try {
      word = this.processStopOn('}', false).result;
    } catch (e) {
      if (this.peek() === EOF) throw new Error("syntax error: missing '}'");
      throw e;
    }
    if (!known) throw new Error(`unsupported modifier (${mod}) in substitution`);
    const v = this.get(name);
    if (v === undefined && this.opts.skipUnsetEnv) return `\${${name}${mod}${word}}`;
    const unset = v === undefined || (nullIsUnset && v === '');
    switch (ch) {
      case '-': return unset ? word : (v ?? '');
      case '+': return unset ? '' : word;
      default: // '?'
        if (v === undefined) throw new Error(`${name}: ${word || 'is not allowed to be unset'}`);
        if (nullIsUnset && v === '') throw new Error(`${name}: ${word || 'is not allowed to be empty'}`);
        return v;
    }
  }

  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name === '' && /^\p{Nd}$/u.test(ch)) {
        // Positional parameters: all the digits, nothing else.
        while (/^\p{Nd}$/u.test(this.peek())) name += this.next();
        return name;
      }
      if (name === '' && '@*#?-$!0'.includes(ch)) return this.next();
      if (!/^[\p{L}\p{Nd}_]$/u.test(ch)) break;
      name += this.next();
    }
    return name;
  }

  /** `<<` plus any following blanks stay glued to the next word so heredoc markers survive splitting. */
  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let out = '<<';
    while (this.peek() === ' ' || this.peek() === '\t') out += this.next();
    return out;
  }
}

function run(word: string, env: Env, escape: string, opts: LexOptions): { result: string; words: string[] } {
  try {
    return new ShellWord(word, env, escape, opts).processStopOn(EOF, opts.rawEscapes ?? false);
  } catch (e) {
    throw new InvalidArgumentError(`failed to process ${JSON.stringify(word)}: ${(e as Error).message}`);
  }
}

/**
 * Expands one word as Docker does for ENV, LABEL, WORKDIR, COPY... (ProcessWord): quotes removed,
 * variables substituted, no splitting. `escape` is the Dockerfile's escape token (`\` or `` ` ``).
 */
export function expandWord(word: string, env: Env, escape = '\\', opts: LexOptions = {}): string {
  return run(word, env, escape, opts).result;
}

/**
 * Expands and splits into words as Docker does for EXPOSE, VOLUME, ARG names... (ProcessWords):
 * unquoted whitespace separates words, including whitespace that came from a variable's value.
 */
export function expandWords(word: string, env: Env, escape = '\\', opts: LexOptions = {}): string[] {
  return run(word, env, escape, opts).words;
}
