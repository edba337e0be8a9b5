/**
 * The flag parser follows pflag (docker's cobra CLI); help and flag errors equal the docker 20.10 CLI's, byte for byte
 * (those comparisons need /usr/bin/docker, but no daemon).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { compile, parse, FlagError } from './flags.ts';

const PS = compile([['-a, --all', 'b'], ['-q, --quiet', 'b'], ['-n, --last <int>', 's'], ['--no-trunc', 'b'], ['-f, --filter <filter>', 'l'],
  ['-H, --human', 'b', true], ['--format <string>', 's']]);

function flagError(argv: string[], interspersed = true): string {
  try { parse(argv, PS, interspersed); } catch (e) { if (e instanceof FlagError) return e.message; throw e; }
  assert.fail(`no error for ${argv.join(' ')}`);
}

test('bundles, values in every form, repeatable lists, camelCase keys', () => {
  const p = parse(['-aq', '-n3', '--filter', 'a=1', '-fb=2', '--filter=c=3', '-f', 'd=4', '--no-trunc', '--format={{.ID}}'], PS);
  assert.deepEqual(p.opts, { all: true, quiet: true, last: '3', filter: ['a=1', 'b=2', 'c=3', 'd=4'], human: true, noTrunc: true, format: '{{.ID}}' });
  assert.deepEqual(p.args, []);
  assert.equal(parse(['-n=5'], PS).opts.last, '5');
  assert.equal(parse(['--last', '-1'], PS).opts.last, '-1');
});

test('--bool=false and -b=false; a flag with a default keeps false, one without is unset', () => {
  assert.deepEqual(parse(['--all=true', '-q=false', '-H=false', '--no-trunc=0'], PS).opts, { all: true, human: false, filter: [] });
  assert.equal(flagError(['--all=maybe']), 'invalid argument "maybe" for "-a, --all" flag: strconv.ParseBool: parsing "maybe": invalid syntax');
});

test('interspersed arguments, `--`, and stopping at the first argument (run IMAGE CMD -x)', () => {
  assert.deepEqual(parse(['x', '-a', 'y'], PS).args, ['x', 'y']);
  assert.deepEqual(parse(['-a', '--', '-q', 'y'], PS), { args: ['-q', 'y'], opts: { all: true, filter: [], human: true }, help: '' });
  const run = parse(['-a', 'img', 'sh', '-c', '--all', '--', 'x'], PS, false);
  assert.deepEqual(run.args, ['img', 'sh', '-c', '--all', '--', 'x']);
  assert.equal(run.opts.all, true);
  assert.deepEqual(parse(['-', '-a'], PS).args, ['-']);
});

test('errors: docker texts', () => {
  assert.equal(flagError(['--bogus']), 'unknown flag: --bogus');
  assert.equal(flagError(['-x']), "unknown shorthand flag: 'x' in -x");
  assert.equal(flagError(['-ax']), "unknown shorthand flag: 'x' in -x");
  assert.equal(flagError(['-n']), "flag needs an argument: 'n' in -n");
  assert.equal(flagError(['--last']), 'flag needs an argument: --last');
  assert.equal(flagError(['---x']), 'bad flag syntax: ---x');
});

test('--help and -h (where no flag takes -h)', () => {
  assert.equal(parse(['x', '--help'], PS).help, '--help');
  assert.equal(parse(['-h'], PS).help, '-h');
  assert.equal(parse(['img', '--help'], PS, false).help, '');
});

const DOCKER = '/usr/bin/docker';
const CLI = resolve(import.meta.dirname, '../cmd/cli.ts');
const skip = existsSync(DOCKER) ? false : 'needs the docker 20.10 CLI';

interface Out { stdout: string; stderr: string; code: number }
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Out> {
  return new Promise((res) => {
    execFile(cmd, args, { encoding: 'utf8', env }, (e, stdout, stderr) => res({ stdout, stderr, code: e ? Number(e.code) : 0 }));
  });
}

test('help, flag and argument errors as the docker 20.10 CLI prints them', { skip }, async () => {
  const env = { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock', HOME: process.env.HOME ?? '/root' };
  const cases = [
    ['ps', '--help'], ['ps', '-h'], ['ps', '-ax'], ['ps', '--bogus'], ['ps', '-n'], ['ps', '--last'], ['ps', 'x'], ['ps', '--all=maybe'],
    ['container', 'ls', '--help'], ['container', 'ls', 'x'], ['image', 'ls', '--help'], ['image', 'rm'], ['rename', 'a'], ['logs', '--help'],
    ['images', '--help'], ['container', 'inspect', '--help'], ['rm', '-fvalue', 'x'], ['history', '--help'], ['system', 'df', '--help'],
    ['wait', '--help'], ['run'], ['foo'], ['-D', 'ps', '--debug'],
  ];
  // a few at a time: each case is two process starts
  for (let i = 0; i < cases.length; i += 4) {
    await Promise.all(cases.slice(i, i + 4).map(async (args) => {
      const [d, b] = await Promise.all([run(DOCKER, args, env), run(process.execPath, [CLI, ...args], env)]);
      const fix = (s: string): string => s.replaceAll('docker', 'berth');
      assert.equal(b.stdout, fix(d.stdout), `stdout of ${args.join(' ')}`);
      assert.equal(b.stderr, fix(d.stderr), `stderr of ${args.join(' ')}`);
      assert.equal(b.code, d.code, `exit code of ${args.join(' ')}`);
    }));
  }
});
