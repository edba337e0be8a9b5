import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readDockerignore, PatternMatcher, matchesPatterns, trimBuildFilesFromExcludes, patternRegexp } from './index.ts';
import { InvalidArgumentError } from '../../lib/index.ts';

test('reading .dockerignore: comments, blank lines, trimming, Clean, leading slash, exceptions, BOM, CRLF', () => {
  const text = [
    '\uFEFF# a comment',
    '',
    '   ',
    '  node_modules  ',
    '/abs/path',
    './rel/../other/',
    '!  keep.me ',
    '!/abs-exception',
    ' # not a comment: leading space makes it a pattern',
    'dir//sub///',
    '*.log\r',
    '/',
    '!',
    '**/',
    'last-line-without-newline',
  ].join('\n');
  assert.deepEqual(readDockerignore(text), [
    'node_modules', 'abs/path', 'other', '!keep.me', '!abs-exception', '# not a comment: leading space makes it a pattern',
    'dir/sub', '*.log', '/', '!', '**', 'last-line-without-newline',
  ]);
  assert.deepEqual(readDockerignore(''), []);
  assert.deepEqual(readDockerignore('a\n\n'), ['a']);
  // the BOM is dropped from the first line only
  assert.deepEqual(readDockerignore('x\n\uFEFFy'), ['x', '\uFEFFy']);
});

test('pattern → regexp as fileutils compiles it', () => {
  assert.equal(patternRegexp('*.txt'), '^[^/]*\\.txt$');
  assert.equal(patternRegexp('**'), '^.*$');
  assert.equal(patternRegexp('**/a'), '^(.*/)?a$');
  assert.equal(patternRegexp('a/**/b'), '^a/(.*/)?b$');
  assert.equal(patternRegexp('a?c$'), '^a[^/]c\\$$');
  assert.equal(patternRegexp('\\*x\\'), '^\\*x\\\\$');
});

/** [patterns, file, excluded] */
const CASES: Array<[string[], string, boolean]> = [
  [['*.txt'], 'a.txt', true],
  [['*.txt'], 'dir/a.txt', false],
  [['*.txt'], 'a.txt.bak', false],
  [['*/*.txt'], 'dir/a.txt', true],
  [['*/*.txt'], 'a/b/c.txt', false],
  [['**/*.txt'], 'a.txt', true],
  [['**/*.txt'], 'a/b/c.txt', true],
  [['**/*.txt'], 'a/b/c.txt', true],
  // the parent check compares as many leading elements as the pattern has (2 here: `a/b`), so this is not
  // a match in itself; the walk never gets there, as the directory a/b/c.txt is excluded
  [['**/*.txt'], 'a/b/c.txt/d', false],
  [['**'], 'anything/at/all', true],
  [['**/'], 'x', true],
  [['a/**'], 'a/b', true],
  [['a/**'], 'a/b/c', true],
  [['a/**'], 'a', false], // the directory itself stays (empty)
  [['a/**/b'], 'a/b', true],
  [['a/**/b'], 'a/x/y/b', true],
  [['a/**/b'], 'a/x/y/bc', false],
  [['a**'], 'abc/def', true],
  [['**.txt'], 'a.txt', false], // `**` then `.txt`: only a name that is exactly `.txt`
  [['**.txt'], 'x/.txt', true],
  [['node_modules'], 'node_modules', true],
  [['node_modules'], 'node_modules/pkg/index.js', true], // the parent directory matches
  [['node_modules'], 'src/node_modules', false],
  [['*/node_modules'], 'src/node_modules/x', true],
  [['a/b'], 'a/b/c/d', true],
  [['a/b'], 'a/bc', false],
  [['?'], 'a', true],
  [['?'], 'ab', false],
  [['a?c'], 'abc', true],
  [['a?c'], 'a/c', false],
  [['[a-c]x'], 'bx', true],
  [['[a-c]x'], 'dx', false],
  [['[^a-c]x'], 'dx', true],
  [['[^a-c]x'], 'ax', false],
  [['[!a]'], '!', true], // `!` does not negate a class here: it is a regexp
  [['\\*'], '*', true],
  [['\\*'], 'a', false],
  [['.*'], '.git', true],
  [['.*'], '.git/config', true],
  [['.*'], 'a.git', false],
  [['*'], 'x/y/z', true],
  [['a$b'], 'a$b', true],
  [['Dockerfile'], 'dockerfile', false], // case matters
  // the last matching pattern wins
  [['*.md', '!README.md'], 'README.md', false],
  [['*.md', '!README.md'], 'CHANGES.md', true],
  [['!README.md', '*.md'], 'README.md', true],
  [['docs', '!docs/keep.md'], 'docs/keep.md', false],
  [['docs', '!docs/keep.md'], 'docs/other.md', true],
  [['docs', '!docs/keep.md'], 'docs', true],
  [['**', '!src', 'src/*.tmp'], 'src/main.c', false],
  [['**', '!src', 'src/*.tmp'], 'src/a.tmp', true],
  [['**', '!src', 'src/*.tmp'], 'README', true],
  [['a', '!a/b', 'a/b/c'], 'a/b/d', false],
  [['a', '!a/b', 'a/b/c'], 'a/b/c/e', true],
  // patterns are cleaned
  [['./a/../b/'], 'b/x', true],
  [['  spaced  '], 'spaced', true],
];

test('matching: *, ?, [...], **, escapes, parent directories, exceptions (the last match decides)', () => {
  for (const [patterns, file, want] of CASES) {
    assert.equal(new PatternMatcher(patterns).matches(file), want, `${JSON.stringify(patterns)} on ${file}`);
  }
});

test('matchesPatterns never excludes the context root; bad patterns fail as docker says', () => {
  assert.equal(matchesPatterns('.', ['**']), false);
  assert.equal(matchesPatterns('./a/', ['a']), true);
  assert.throws(() => new PatternMatcher(['[']), (e: unknown) => e instanceof InvalidArgumentError && e.message === 'syntax error in pattern');
  assert.throws(() => new PatternMatcher(['a\\']), /^Error: syntax error in pattern$|syntax error in pattern/);
  assert.throws(() => new PatternMatcher(['[]a]']), /syntax error in pattern/);
  assert.throws(() => new PatternMatcher(['[a-]']), /syntax error in pattern/);
  assert.throws(() => new PatternMatcher(['!']), /illegal exclusion pattern: "!"/);
  // accepted by the syntax check, refused when the regexp is built (Go's regexp refuses the range too)
  const pm = new PatternMatcher(['a[z-b]']);
  assert.throws(() => pm.matches('ab'), /syntax error in pattern/);
  // valid classes
  new PatternMatcher(['[\\]]', '[a-z0-9]', '[^x]', 'a\\*']);
});

test('mustWalk: an excluded directory is still walked when an exception names something in it', () => {
  const pm = new PatternMatcher(['docs', '!docs/keep.md', 'vendor']);
  assert.equal(pm.mustWalk('docs'), true);
  assert.equal(pm.mustWalk('vendor'), false);
  assert.equal(new PatternMatcher(['a']).mustWalk('a'), false);
  // the prefix test is textual, as in TarWithOptions
  assert.equal(new PatternMatcher(['*', '!a/b']).mustWalk('a'), true);
});

test('the Dockerfile and .dockerignore are always sent', () => {
  assert.deepEqual(trimBuildFilesFromExcludes(['*'], 'Dockerfile', false), ['*', '!.dockerignore', '!Dockerfile']);
  assert.deepEqual(trimBuildFilesFromExcludes(['*'], 'Dockerfile', true), ['*', '!.dockerignore']);
  assert.deepEqual(trimBuildFilesFromExcludes(['build'], 'build/Dockerfile.dev', false), ['build', '!build/Dockerfile.dev']);
  assert.deepEqual(trimBuildFilesFromExcludes(['*.md'], 'Dockerfile', false), ['*.md']);
  const pm = new PatternMatcher(trimBuildFilesFromExcludes(['build'], 'build/Dockerfile.dev', false));
  assert.equal(pm.matches('build/Dockerfile.dev'), false);
  assert.equal(pm.matches('build/other'), true);
  assert.equal(pm.mustWalk('build'), true);
});
