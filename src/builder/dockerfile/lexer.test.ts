import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandWord, expandWords } from './index.ts';
import { InvalidArgumentError } from '../../lib/index.ts';

const env = { HOME: '/root', EMPTY: '', SP: ' a  b ', V: 'x' };

test('plain, braced and positional/special variables', () => {
  assert.equal(expandWord('$HOME/bin:${HOME}x', env), '/root/bin:/rootx');
  assert.equal(expandWord('$NOPE-${NOPE}.', env), '-.');
  assert.equal(expandWord('a$', env), 'a$');          // lone dollar stays
  assert.equal(expandWord('$.x $/', env), '$.x $/');  // not a name: kept
  assert.equal(expandWord('x$1y$$z', env), 'xyz');    // $1 and $$ are (unset) parameters
  assert.equal(expandWord('$V_1 ${V}_1', env), ' x_1'); // names take letters, digits and _
});

test('default and alternative values, with and without the colon', () => {
  assert.equal(expandWord('${NOPE:-d} ${EMPTY:-d} ${V:-d}', env), 'd d x');
  assert.equal(expandWord('${NOPE-d} ${EMPTY-d} ${V-d}', env), 'd  x');
  assert.equal(expandWord('${NOPE:+a} ${EMPTY:+a} ${V:+a}', env), '  a');
  assert.equal(expandWord('${NOPE+a} ${EMPTY+a} ${V+a}', env), ' a a');
  // The word is itself expanded, and may hold quotes and nested substitutions.
  assert.equal(expandWord('${NOPE:-$HOME/"q w"}', env), '/root/q w');
  assert.equal(expandWord('${NOPE:-${ALSO:-deep}}', env), 'deep');
  assert.equal(expandWord('${V:?must be set}', env), 'x');
  assert.throws(() => expandWord('${NOPE:?need it}', env), { message: 'failed to process "${NOPE:?need it}": NOPE: need it' });
  assert.throws(() => expandWord('${EMPTY:?}', env), /EMPTY: is not allowed to be empty/);
  assert.equal(expandWord('${EMPTY?}', env), '');
});

test('quotes and escapes', () => {
  assert.equal(expandWord(`'$HOME' "$HOME" \\$HOME`, env), '$HOME /root $HOME');
  assert.equal(expandWord(`'a\\b' "a\\b" "a\\"b" "\\$V" a\\b`, env), 'a\\b a\\b a"b $V ab');
  assert.equal(expandWord('"it\'s"', env), "it's");
  assert.equal(expandWord('trailing\\', env), 'trailing'); // a final escape is dropped
  // With the backtick escape a backslash is an ordinary character (Windows paths).
  assert.equal(expandWord('C:\\dir\\`$V `"q`"', env, '`'), 'C:\\dir\\$V "q"');
});

test('word splitting: unquoted expansions split, quoted ones do not', () => {
  assert.deepEqual(expandWords('a  b\tc', env), ['a', 'b', 'c']);
  assert.deepEqual(expandWords('x${SP}y', env), ['x', 'a', 'b', 'y']);
  assert.deepEqual(expandWords('x"${SP}"y', env), ['x a  b y']);
  assert.deepEqual(expandWords('a\\ b "c d" \'e f\'', env), ['a b', 'c d', 'e f']);
  assert.deepEqual(expandWords('"" $EMPTY', env), []); // empty words vanish, as in ProcessWords
  assert.deepEqual(expandWords('', env), []);
});

test('raw options used for heredoc detection keep quotes, escapes and unset variables', () => {
  const opts = { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true };
  assert.deepEqual(expandWords('cat <<"EOF" $NOPE ${NOPE:-x} a\\ b', {}, '\\', opts), ['cat', '<<"EOF"', '$NOPE', '${NOPE:-x}', 'a\\ b']);
  assert.deepEqual(expandWords('cat << EOF', {}, '\\', opts), ['cat', '<< EOF']);
});

test('env may be a Map or a function; errors are InvalidArgumentError', () => {
  assert.equal(expandWord('$A', new Map([['A', 'm']])), 'm');
  assert.equal(expandWord('$A$B', (n) => (n === 'A' ? 'f' : undefined)), 'f');
  assert.equal(expandWord('$toString', {}), ''); // no prototype leaks
  for (const [w, msg] of [
    ['"open', 'unexpected end of statement while looking for matching double-quote'],
    ["'open", 'unexpected end of statement while looking for matching single-quote'],
    ['${V', 'unsupported modifier (\uFFFD) in substitution'], // Docker's own (odd) text
    ['${V:-x', "syntax error: missing '}'"],
    ['${}', 'syntax error: bad substitution'],
    ['${V*x}', 'unsupported modifier (*) in substitution'],
    ['${V:x}', 'unsupported modifier (:x) in substitution'],
    ['${V:', "syntax error: missing '}'"],
  ] as const) {
    assert.throws(() => expandWord(w, env), (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError);
      assert.equal(e.message, `failed to process ${JSON.stringify(w)}: ${msg}`);
      return true;
    });
  }
});
