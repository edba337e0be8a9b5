/**
 * Go encoding/json's syntax error texts, for requests whose body or `filters` parameter is not valid JSON.
 * Only runs after JSON.parse failed, so it costs nothing on the good path.
 */

function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
}

/**
 * The error Go reports for `text`. `stream`: as json.Decoder does (empty → `EOF`, truncated → `unexpected EOF`);
 * otherwise as json.Unmarshal (`unexpected end of JSON input`).
 */
export function goJsonError(text: string, stream: boolean): string {
  const eof = stream ? 'unexpected EOF' : 'unexpected end of JSON input';
  let i = 0;
  const n = text.length;
  const ws = () => { while (i < n && ' \t\r\n'.includes(text[i]!)) i++; };
  class Fail { msg: string; constructor(msg: string) { this.msg = msg; } }
  const bad = (ctx: string): never => {
    throw new Fail(i >= n ? eof : `invalid character ${quoteChar(String.fromCodePoint(text.codePointAt(i)!))} ${ctx}`);
  };
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++, i++) {
      if (i >= n) throw new Fail(eof);
      if (text[i] !== word[k]) bad(`in literal ${word} (expecting ${quoteChar(word[k]!)})`);
    }
  };
  const str = () => {
    i++;
    while (true) {
      if (i >= n) throw new Fail(eof);
      const c = text[i]!;
      if (c === '"') { i++; return; }
      if (c === '\\') {
        i++;
        if (i >= n) throw new Fail(eof);
        if (text[i] === 'u') {
          i++;
          for (let k = 0; k < 4; k++, i++) {
            if (i >= n) throw new Fail(eof);
            if (!/[0-9a-fA-F]/.test(text[i]!)) bad('in \\u hexadecimal character escape');
          }
          continue;
        }
        if (!'"\\/bfnrt'.includes(text[i]!)) bad('in string escape code');
        i++;
        continue;
      }
      if (c < ' ') bad('in string literal');
      i++;
    }
  };
  const num = () => {
    if (text[i] === '-') { i++; if (i >= n) throw new Fail(eof); if (!/[0-9]/.test(text[i]!)) bad('in numeric literal'); }
    if (text[i] === '0') i++; else while (i < n && /[0-9]/.test(text[i]!)) i++;
    if (text[i] === '.') { i++; if (i >= n) throw new Fail(eof); if (!/[0-9]/.test(text[i]!)) bad('after decimal point in numeric literal'); while (i < n && /[0-9]/.test(text[i]!)) i++; }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (i >= n) throw new Fail(eof);
      if (!/[0-9]/.test(text[i]!)) bad('in exponent of numeric literal');
      while (i < n && /[0-9]/.test(text[i]!)) i++;
    }
  };
  const value = (): void => {
    ws();
    if (i >= n) throw new Fail(eof);
    const c = text[i]!;
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      while (true) {
        ws();
        if (i >= n) throw new Fail(eof);
        if (text[i] !== '"') bad('looking for beginning of object key string');
        str(); ws();
        if (i >= n) throw new Fail(eof);
        if (text[i] !== ':') bad('after object key');
        i++;
        value(); ws();
        if (i >= n) throw new Fail(eof);
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        bad('after object key:value pair');
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      while (true) {
        value(); ws();
        if (i >= n) throw new Fail(eof);
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        bad('after array element');
      }
    }
    if (c === '"') return str();
    if (c === '-' || (c >= '0' && c <= '9')) return num();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    bad('looking for beginning of value');
  };
  try {
    ws();
    if (i >= n) return stream ? 'EOF' : eof;
    value();
    ws();
    if (!stream && i < n) bad('after top-level value');
    return 'invalid JSON';
  } catch (e) {
    if (e instanceof Fail) return e.msg;
    throw e;
  }
}
