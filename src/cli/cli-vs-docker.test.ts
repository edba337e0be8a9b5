/**
 * berth's CLI against a reference dockerd 20.10 (in its own network namespace, temp data root),
 * compared with the docker 20.10 CLI on the same daemon: same stdout, stderr (with `docker` read
 * as `berth`) and exit code. Needs root, dockerd and the docker CLI; skipped otherwise.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const DOCKERD = '/usr/sbin/dockerd';
const DOCKER = '/usr/bin/docker';
const FIXTURE = resolve(import.meta.dirname, '../../../shared/images/busybox-1.35.tar');
const CLI = resolve(import.meta.dirname, '../cmd/cli.ts');
const NODE = process.execPath;
const skip = process.getuid?.() !== 0 ? 'needs root' : !existsSync(DOCKERD) || !existsSync(DOCKER) ? 'needs dockerd and the docker 20.10 CLI'
  : !existsSync(FIXTURE) ? 'needs the busybox fixture' : false;

const ns = `berth-t-cli${process.pid}`;
let dir = '';
let sock = '';
let daemon: ChildProcess | undefined;

interface Out { stdout: string; stderr: string; code: number }
function run(cmd: string, args: string[], input?: string): Out {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: input ?? '', env: { ...process.env, DOCKER_HOST: `unix://${sock}` }, timeout: 60_000 });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 };
}
const berth = (...args: string[]): Out => run(NODE, [CLI, ...args]);
const docker = (...args: string[]): Out => run(DOCKER, args);

/** Both CLIs: equal output (docker's name replaced by berth's), equal exit code. */
function same(args: string[], normalize: (s: string) => string = (s) => s): Out {
  const b = berth(...args);
  const d = docker(...args);
  const fix = (s: string): string => normalize(s.replaceAll('docker', 'berth'));
  assert.equal(normalize(b.stdout), fix(d.stdout), `stdout of ${args.join(' ')}`);
  assert.equal(normalize(b.stderr), fix(d.stderr), `stderr of ${args.join(' ')}`);
  assert.equal(b.code, d.code, `exit code of ${args.join(' ')}`);
  return b;
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync('/var/tmp/berth-cli-test-');
  sock = join(dir, 'docker.sock');
  spawnSync('ip', ['netns', 'add', ns]);
  spawnSync('nsenter', [`--net=/run/netns/${ns}`, 'ip', 'link', 'set', 'lo', 'up']);
  daemon = spawn('nsenter', [`--net=/run/netns/${ns}`, DOCKERD, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'pid'), '-H', `unix://${sock}`, '--bridge', 'none', '--iptables=false', '--ip-masq=false'], { stdio: 'ignore' });
  for (let i = 0; i < 150 && docker('version').code !== 0; i++) await new Promise((r) => setTimeout(r, 200));
});

after(async () => {
  if (skip) return;
  if (daemon?.pid && daemon.exitCode === null) {
    const exited = new Promise((r) => daemon!.once('exit', r));
    daemon.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
  }
  spawnSync('ip', ['netns', 'del', ns]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('load, images, history, inspect', { skip }, () => {
  const b = berth('load', '-i', FIXTURE);
  assert.equal(b.stdout, 'Loaded image: busybox:1.35\nLoaded image: busybox:latest\n');
  assert.equal(b.code, 0);
  same(['load', '-i', FIXTURE]);
  same(['load', '-i', '/nonexistent.tar']);
  same(['images']);
  same(['images', '-q']);
  same(['images', '--no-trunc', '--digests', 'busybox']);
  same(['images', '--format', '{{json .}}']);
  same(['history', 'busybox:1.35']);
  same(['history', '--no-trunc', '-H=false', 'busybox:1.35']);
  same(['image', 'inspect', 'busybox:1.35']);
  same(['inspect', '-f', '{{.Id}} {{json .RootFS}}', 'busybox:1.35']);
  same(['rmi', 'nosuch']);
});

test('run: output, exit codes, errors', { skip }, () => {
  const hello = berth('run', '--rm', 'busybox:1.35', 'echo', 'hello');
  assert.deepEqual(hello, { stdout: 'hello\n', stderr: '', code: 0 });
  same(['run', '--rm', 'busybox:1.35', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  same(['run', '--restart', 'bogus', 'busybox:1.35']);
  same(['run', '--restart', 'on-failure:x', 'busybox:1.35']);
  same(['run', '-m', 'lots', 'busybox:1.35']);
  same(['run', '-p', '99999:80', 'busybox:1.35']);
  same(['run', '--nosuchflag', 'busybox:1.35']);
  // The docker 20.10 CLI's order of -e values varies from call to call (captured: B=2,C=3,A=1 and C=3,A=1,B=2
  // for the same flags); berth keeps the order given. Compare the environments as sets, and berth's order exactly.
  const sorted = (s: string): string => s.split('\n').sort().join('\n');
  const env = same(['run', '--rm', '-h', 'h', '-e', 'A=1', '-eB=2', '--env=C=3', '--rm=true', 'busybox:1.35', 'env'], sorted);
  assert.match(env.stdout, /^HOSTNAME=h\nA=1\nB=2\nC=3\n/m);
  same(['run', '-x', 'busybox:1.35']);
  same(['ps', '-a', '--last']);
  same(['run']);
  const dropDockerLog = (s: string): string => s.replace(/^time=.*\n/gm, '');
  same(['run', '--rm', 'busybox:1.35', '/nonexistent'], dropDockerLog);
  same(['run', '--rm', 'busybox:1.35', '/etc'], dropDockerLog);
  const piped = run(NODE, [CLI, 'run', '--rm', '-i', 'busybox:1.35', 'sh', '-c', 'cat; exit 7'], 'from stdin\n');
  assert.deepEqual(piped, { stdout: 'from stdin\n', stderr: '', code: 7 });
});

test('ps, logs, inspect, stop, rm on the same containers', { skip }, () => {
  const demo = berth('run', '--name', 'demo', 'busybox:1.35', 'sh', '-c', 'echo out; echo err >&2; exit 3');
  assert.deepEqual(demo, { stdout: 'out\n', stderr: 'err\n', code: 3 });
  const d = berth('run', '-d', '--name', 'sleeper', '-l', 'a=b', 'busybox:1.35', 'sleep', '1000');
  assert.match(d.stdout, /^[0-9a-f]{64}\n$/);
  assert.match(berth('create', '--name', 'created', 'busybox:1.35', 'echo', 'hi').stdout, /^[0-9a-f]{64}\n$/);
  // a second create of the same name conflicts: compare the error
  same(['create', '--name', 'created', 'busybox:1.35']);
  // times may tick between the two calls; compare everything else
  // times may tick between the two calls (and change column widths): compare with times and runs of spaces folded;
  // the layout itself is compared exactly with time-free formats below
  const t = (s: string): string => s.replace(/(\d+|Less than a|About an?) (seconds?|minutes?|second) ago/g, 'X ago')
    .replace(/Up (\d+|Less than a) seconds?/g, 'Up X').replace(/ {2,}/g, '  ');
  same(['ps'], t);
  same(['ps', '-a'], t);
  same(['ps', '-a', '--no-trunc'], t);
  same(['ps', '-aq']);
  same(['ps', '-a', '--format', 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Ports}}\t{{.Names}}\t{{.Labels}}\t{{.Networks}}\t{{.State}}']);
  same(['ps', '-a', '--no-trunc', '--format', 'table {{.ID}}\t{{.Command}}\t{{.Names}}']);
  same(['ps', '-a', '-s'], t);
  same(['ps', '-a', '--filter', 'status=exited', '--format', 'table {{.Names}}\t{{.Status}}\t{{.Label "a"}}'], t);
  same(['ps', '--filter', 'bogus=1']);
  same(['ps', '--format', '{{.Nope}}']);
  same(['logs', 'demo']);
  same(['logs', '--tail', '1', 'demo']);
  same(['logs', 'nosuch']);
  same(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{json .Config.Labels}}', 'demo', 'sleeper', 'created']);
  same(['inspect', 'nosuch']);
  same(['inspect', '-f', '{{.Nope}}', 'demo']);
  same(['top', 'demo']);
  same(['rm', 'sleeper']);
  same(['stop', 'nosuch']);
  same(['start', 'nosuch']);
  assert.deepEqual(berth('stop', '-t', '1', 'sleeper'), { stdout: 'sleeper\n', stderr: '', code: 0 });
  assert.deepEqual(berth('rm', 'demo', 'nosuch'), { stdout: 'demo\n', stderr: 'Error: No such container: nosuch\n', code: 1 });
  assert.deepEqual(berth('rm', '-f', 'sleeper', 'created'), { stdout: 'sleeper\ncreated\n', stderr: '', code: 0 });
  same(['ps', '-a']);
});
