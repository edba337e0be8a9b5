/**
 * berth's CLI against a reference dockerd 20.10 (in its own network namespace with its default bridge and
 * iptables there, temp data root), compared with the docker 20.10 CLI on the same daemon: same stdout, stderr
 * (with `docker` read as `berth`) and exit code. Needs root, dockerd and the docker CLI; skipped otherwise.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  // the program's name, not docker0 or other words that contain it
  const fix = (s: string): string => normalize(s.replace(/\bdocker(?=[ :])/g, 'berth'));
  assert.equal(normalize(b.stdout), fix(d.stdout), `stdout of ${args.join(' ')}`);
  assert.equal(normalize(b.stderr), fix(d.stderr), `stderr of ${args.join(' ')}`);
  assert.equal(b.code, d.code, `exit code of ${args.join(' ')}`);
  return b;
}

const sortLines = (s: string): string => s.split('\n').sort().join('\n');

before(async () => {
  if (skip) return;
  dir = mkdtempSync('/var/tmp/berth-cli-test-');
  sock = join(dir, 'docker.sock');
  spawnSync('ip', ['netns', 'add', ns]);
  spawnSync('nsenter', [`--net=/run/netns/${ns}`, 'ip', 'link', 'set', 'lo', 'up']);
  daemon = spawn('nsenter', [`--net=/run/netns/${ns}`, DOCKERD, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'pid'), '-H', `unix://${sock}`], { stdio: 'ignore' });
  for (let i = 0; i < 150 && docker('version').code !== 0; i++) await new Promise((r) => setTimeout(r, 200));
});

after(async () => {
  if (skip) return;
  docker('rm', '-f', 'web', 'exp');
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

test('network create: the CLI\'s own IPAM checks, daemon errors, the id, what reaches the daemon', { skip }, () => {
  for (const args of [
    ['--gateway', '10.1.0.1'], ['--subnet', '10.5.0.0/16', '--gateway', '10.6.0.1'],
    ['--subnet', '10.2.0.0/16,10.3.0.0/16', '--gateway', '10.2.0.1', '--gateway', '10.3.0.1', '--gateway', '10.4.0.1'],
    ['--subnet', '10.9.0.0/16', '--aux-address', 'a=10.9.0.5', '--aux-address', 'b=10.10.0.5'],
    ['--subnet', '10.13.0.0/16', '--subnet', '10.13.1.0/24'], ['--subnet', '10.13.0.0/16', '--ip-range', '10.13.1.0/24', '--ip-range', '10.13.2.0/24'],
    ['--subnet', 'notacidr'],
  ]) same(['network', 'create', ...args, 'n1']);
  same(['network', 'create']);
  same(['network', 'create', '--label']);
  same(['network', 'create', '--help']);

  const b = berth('network', 'create', '--subnet', '10.50.0.0/16', '--gateway', '10.50.0.1', '--ip-range', '10.50.1.0/24', '--aux-address', 'r=10.50.0.9',
    '--label', 'a=b', '--label', 'c', '-o', 'x=y', '--internal', '--attachable', '--ipam-opt', 'q=r', 'bnet');
  assert.match(b.stdout, /^[0-9a-f]{64}\n$/);
  assert.deepEqual([b.stderr, b.code], ['', 0]);
  const d = docker('network', 'create', '--subnet', '10.51.0.0/16', '--gateway', '10.51.0.1', '--ip-range', '10.51.1.0/24', '--aux-address', 'r=10.51.0.9',
    '--label', 'a=b', '--label', 'c', '-o', 'x=y', '--internal', '--attachable', '--ipam-opt', 'q=r', 'dnet');
  const f = '{{.Driver}} {{json .IPAM}} {{.Internal}} {{.Attachable}} {{.EnableIPv6}} {{json .Labels}} {{json .Options}}';
  assert.equal(docker('network', 'inspect', '-f', f, 'bnet').stdout.replaceAll('10.50.', '10.51.'), docker('network', 'inspect', '-f', f, 'dnet').stdout);
  assert.equal(docker('network', 'inspect', '-f', '{{.Id}}', 'bnet').stdout, b.stdout);
  assert.match(d.stdout, /^[0-9a-f]{64}\n$/);
  same(['network', 'create', 'bnet']);
  same(['network', 'create', '--subnet', '10.50.0.0/16', 'overlap']);
});

test('network ls / inspect: tables, formats, filters, errors', { skip }, () => {
  berth('network', 'create', 'net10');
  berth('network', 'create', 'net9');
  same(['network', 'ls']);
  same(['network', 'list', '--no-trunc']);
  same(['network', 'ls', '-q', '--format', '{{.Name}}']);
  same(['network', 'ls', '--format', 'raw']);
  same(['network', 'ls', '-f', 'name=dnet', '-f', 'name=bri', '--format', '{{json .}}'], (x) => x.replace(/"Labels":"[^"]*"/g, '"Labels":""'));
  same(['network', 'ls', '--format', 'table {{.ID}}\t{{.Name}}\t{{.Label "a"}}\t{{.CreatedAt}}\t{{.IPv6}}\t{{.Internal}}']);
  // docker joins .Labels in Go's map order (random); berth sorts them
  assert.equal(berth('network', 'ls', '-f', 'name=bnet', '--format', '{{.Labels}}').stdout, 'a=b,c=\n');
  same(['network', 'ls', '--format', '{{.Nope}}']);
  same(['network', 'ls', '-f', 'driver=bridge', '-f', 'name=net']);
  same(['network', 'ls', '-f', 'type=custom', '-f', 'dangling=true']);
  same(['network', 'ls', '-f', 'bogus=1']);
  same(['network', 'inspect', 'bridge', 'bnet']);
  same(['network', 'inspect', '-v', 'bnet', 'nosuch']);
  same(['network', 'inspect', '-f', '{{.Name}} {{.Labels}} {{json .Options}} {{.IPAM.Config}}', 'bnet', 'none']);
  same(['network', 'inspect', '-f', '{{.Nope}}', 'bnet']);
  // docker runs the template on its typed struct first, then on the JSON map
  same(['network', 'inspect', '-f', '{{.ID}} {{.Created}} {{.IPAM}} {{json .IPAM}} {{.ConfigFrom}} {{.Peers}}', 'bridge', 'bnet']);
  same(['network', 'inspect', '-f', '{{.Id}} {{.ID}}', 'bnet', 'nosuch', 'none']);
  same(['network', 'inspect', '-f', '{{.Name}}', 'nosuch']);
  same(['network', 'bogus']);
});

test('connect, disconnect, port, ps PORTS, rm, prune', { skip }, () => {
  docker('run', '-d', '--name', 'web', '-p', '8080:80', '-p', '8443:443/udp', '-p', '127.0.0.1:9004:4', 'busybox:1.35', 'sleep', '1000');
  docker('run', '-d', '--name', 'exp', '--expose', '80', '--expose', '90', '--expose', '85/udp', '--expose', '81', 'busybox:1.35', 'sleep', '1000');
  assert.deepEqual(berth('network', 'connect', '--alias', 'a1', '--alias', 'a2,a3', '--ip', '10.50.1.7', '--driver-opt', ' K = V ', 'bnet', 'web'), { stdout: '', stderr: '', code: 0 });
  assert.equal(docker('inspect', '-f', '{{json .NetworkSettings.Networks.bnet.IPAMConfig}} {{json .NetworkSettings.Networks.bnet.DriverOpts}} {{.NetworkSettings.Networks.bnet.IPAddress}}', 'web').stdout,
    '{"IPv4Address":"10.50.1.7"} {"K":"V"} 10.50.1.7\n');
  assert.match(docker('inspect', '-f', '{{json .NetworkSettings.Networks.bnet.Aliases}}', 'web').stdout, /^\["a1","a2","a3",/);
  same(['network', 'connect', 'bnet', 'web']);
  same(['network', 'connect', 'nosuch', 'web']);
  same(['network', 'connect', 'bnet', 'nosuch']);
  same(['network', 'connect', '--driver-opt', 'bad', 'bnet', 'web']);
  same(['network', 'rm', 'bnet']);
  same(['network', 'rm', 'nosuch', 'bridge']);
  assert.deepEqual(berth('network', 'disconnect', 'bnet', 'web'), { stdout: '', stderr: '', code: 0 });
  same(['network', 'disconnect', 'bnet', 'web']);
  same(['network', 'disconnect', '-f', 'bnet', 'nosuch']);

  // docker walks a Go map for `port CONTAINER`: compare the lines as sets
  same(['port', 'web'], sortLines);
  for (const p of ['80', '443/udp', '443', 'abc', '81-80']) same(['port', 'web', p]);
  same(['port', 'web', ''], sortLines);
  same(['port', 'exp']);
  same(['port', 'nosuch']);
  same(['container', 'port', 'web', '4']);
  same(['ps', '--format', 'table {{.Names}}\t{{.Ports}}']);

  assert.deepEqual(berth('network', 'rm', 'net9', 'nosuch', 'net10'), { stdout: 'net9\nnet10\n', stderr: 'Error: No such network: nosuch\n', code: 1 });
  same(['network', 'prune']);
  same(['network', 'prune', '-f', '--filter', 'bogus=1']);
  assert.deepEqual(berth('network', 'prune', '--filter', 'label=nomatch', '-f'), { stdout: '', stderr: '', code: 0 });
  const n = run(NODE, [CLI, 'network', 'prune'], 'n\n');
  assert.deepEqual(n, { stdout: 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ', stderr: '', code: 0 });
  const y = run(NODE, [CLI, 'network', 'prune'], 'y\n');
  const prompt = 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ';
  assert.ok(y.stdout.startsWith(`${prompt}Deleted Networks:\n`) && y.stdout.endsWith('\n\n'), y.stdout);
  assert.deepEqual(y.stdout.slice(prompt.length).split('\n').slice(1, -2).sort(), ['bnet', 'dnet']);
  same(['network', 'ls']);
});

test('build (DOCKER_BUILDKIT=0): context, .dockerignore, -f inside/outside/stdin, -q, a failing RUN, a parse error', { skip }, () => {
  process.env.DOCKER_BUILDKIT = '0';
  docker('load', '-i', FIXTURE);
  const ctx = join(dir, 'build-ctx');
  mkdirSync(join(ctx, 'docs'), { recursive: true });
  mkdirSync(join(ctx, 'build'), { recursive: true });
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox:1.35\nCOPY . /ctx/\nRUN find /ctx | sort\n');
  writeFileSync(join(ctx, '.dockerignore'), '*.log\ndocs\n!docs/keep.md\nbuild\n');
  for (const f of ['a.txt', 'x.log', 'docs/keep.md', 'docs/other.md']) writeFileSync(join(ctx, f), f);
  writeFileSync(join(ctx, 'build', 'Dockerfile.dev'), 'FROM busybox:1.35\nCOPY a.txt /\n');
  writeFileSync(join(dir, 'Dockerfile.outside'), 'FROM busybox:1.35\nCOPY a.txt /outside\n');
  const ids = (s: string): string => s.replace(/(Running in |container )[0-9a-f]{12}/g, '$1<id>');
  // docker first: berth's run then finds every step in the cache, so the image IDs are the same
  for (const args of [['-t', 'bt:1', ctx], ['-q', ctx], ['-f', join(ctx, 'build', 'Dockerfile.dev'), ctx], ['-f', join(dir, 'Dockerfile.outside'), ctx]]) {
    docker('build', ...args);
    const b = same(['build', ...args], ids);
    assert.equal(b.code, 0, b.stderr);
  }
  const viaStdin = (args: string[], input: string): void => {
    run(DOCKER, ['build', ...args], input);
    const d = run(DOCKER, ['build', ...args], input);
    const b = run(NODE, [CLI, 'build', ...args], input);
    assert.deepEqual({ ...b, stdout: ids(b.stdout) }, { ...d, stdout: ids(d.stdout) });
  };
  viaStdin(['-f', '-', ctx], 'FROM busybox:1.35\nCOPY a.txt /stdin\n');
  viaStdin(['-'], 'FROM busybox:1.35\nLABEL from=stdin\n');
  const fail = join(dir, 'build-fail');
  mkdirSync(fail, { recursive: true });
  writeFileSync(join(fail, 'Dockerfile'), 'FROM busybox:1.35\nRUN exit 3\n');
  same(['build', fail], ids);
  writeFileSync(join(fail, 'Dockerfile'), 'FROM busybox:1.35\nBOGUS x\n');
  same(['build', fail]);
  same(['build', '-t', 'Bad', fail]);
  same(['build', join(dir, 'nosuch')]);
  docker('rmi', 'bt:1');
});
