/**
 * The create body berth sends equals, byte for byte, what the docker 20.10 CLI sent for the same
 * command line (captured with a tiny HTTP server standing in for the daemon: testdata/*.json).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseRunArgs } from './main.ts';
import { buildCreate, parsePortSpec, type RunOpts } from './run-opts.ts';
import { CliError } from './errors.ts';

const fixture = (n: string): string => readFileSync(new URL(`testdata/${n}`, import.meta.url), 'utf8').trim();

function body(argv: string[], forRun = true): { json: string; name: string | undefined } {
  const { args, opts } = parseRunArgs(argv);
  const req = buildCreate(opts as RunOpts, args[0]!, args.slice(1), forRun && opts.detach === true);
  return { json: JSON.stringify(req.body), name: req.name };
}

test('plain run: docker run busybox:1.35 echo hi', () => {
  assert.equal(body(['busybox:1.35', 'echo', 'hi']).json, fixture('create-plain.json'));
});

test('many flags: -d -it --name … -p -P -v --mount --tmpfs --restart --ulimit -m --cpus …', () => {
  const argv = ['-d', '-it', '--name', 'n1', '-e', 'A=1', '-e', 'B', '-w', '/w', '-u', '1000:1000', '--entrypoint', 'sh', '-h', 'hh', '-l', 'x=y', '--init',
    '--network', 'none', '--stop-signal', 'SIGINT', '--stop-timeout', '5', '--privileged', '--cap-add', 'NET_ADMIN', '--cap-drop', 'ALL', '--read-only',
    '--security-opt', 'no-new-privileges', '--ulimit', 'nofile=10:20', '-m', '64m', '--memory-swap', '128m', '--cpus', '1.5', '--cpu-shares', '100',
    '--pids-limit', '50', '-p', '8080:80', '-p', '127.0.0.1:53:53/udp', '-P', '-v', '/tmp:/t:ro', '-v', 'vol:/v', '--mount', 'type=bind,src=/tmp,dst=/m',
    '--tmpfs', '/run:size=1m', '--restart', 'on-failure:3', '--log-driver', 'json-file', '--log-opt', 'max-size=1m', '--add-host', 'h:1.2.3.4',
    '--dns', '8.8.8.8', '--expose', '90', 'busybox:1.35', '-c', 'echo hi'];
  delete process.env.B;
  const r = body(argv);
  assert.equal(r.json, fixture('create-many-flags.json'));
  assert.equal(r.name, 'n1');
});

test('create: anonymous volume, --mount volume/tmpfs, port ranges, empty entrypoint, -a stdout, bare label', () => {
  const argv = ['-v', '/data', '--mount', 'type=volume,source=v2,target=/v2,readonly', '--mount', 'type=tmpfs,dst=/tm,tmpfs-size=1m',
    '-p', '7000-7001:7000-7001', '-p', '9000', '--entrypoint', '', '-a', 'stdout', '-l', 'lonely', 'busybox:1.35'];
  assert.equal(body(argv, false).json, fixture('create-mounts.json'));
});

test('bundled short flags and --flag=value forms', () => {
  const a = parseRunArgs(['-itd', '--rm=true', '--name=x', 'img', 'cmd', '-x', '--rm']);
  assert.deepEqual(a.args, ['img', 'cmd', '-x', '--rm']);
  assert.equal(a.opts.interactive, true);
  assert.equal(a.opts.tty, true);
  assert.equal(a.opts.detach, true);
  assert.equal(a.opts.rm, true);
  assert.equal(a.opts.name, 'x');
  const b = parseRunArgs(['--rm=false', '--privileged=false', 'img']);
  assert.equal(b.opts.rm, undefined);
  assert.equal(b.opts.privileged, undefined);
});

function cliError(fn: () => unknown): CliError {
  try { fn(); } catch (e) { if (e instanceof CliError) return e; throw e; }
  assert.fail('no error');
}

test('flag validation: docker messages, exit code 125', () => {
  const run = (argv: string[]): CliError => cliError(() => body(argv));
  assert.equal(run(['--restart', 'on-failure:x', 'img']).message, 'maximum retry count must be an integer');
  assert.equal(run(['--rm', '--restart', 'always', 'img']).message, 'Conflicting options: --restart and --rm');
  assert.equal(run(['-m', 'lots', 'img']).message, 'invalid argument "lots" for "-m, --memory" flag: invalid size: \'lots\'');
  assert.equal(run(['-m', 'lots', 'img']).kind, 'flag');
  assert.equal(run(['--cpus', 'abc', 'img']).message, 'invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number');
  assert.equal(run(['-p', '99999:80', 'img']).message, 'Invalid hostPort: 99999');
  assert.equal(run(['-p', 'abc', 'img']).message, 'Invalid containerPort: abc');
  assert.equal(run(['-p', '80:80/sctpx', 'img']).message, 'Invalid proto: sctpx');
  assert.equal(run(['-p', '80:80/sctpx', 'img']).code, 125);
});

test('-p forms (NET-11), as go-connections parses them', () => {
  const b = (HostIp: string, HostPort: string) => ({ HostIp, HostPort });
  assert.deepEqual(parsePortSpec('80'), [['80/tcp', b('', '')]]);
  assert.deepEqual(parsePortSpec('81:80'), [['80/tcp', b('', '81')]]);
  assert.deepEqual(parsePortSpec('10.0.0.100:82:80'), [['80/tcp', b('10.0.0.100', '82')]]);
  assert.deepEqual(parsePortSpec('10.0.0.100::80'), [['80/tcp', b('10.0.0.100', '')]]);
  assert.deepEqual(parsePortSpec('10.0.0.100:83:80/udp'), [['80/udp', b('10.0.0.100', '83')]]);
  assert.deepEqual(parsePortSpec('[::1]:8080:80/TCP'), [['80/tcp', b('::1', '8080')]]);
  assert.deepEqual(parsePortSpec('::1:80:80/udp'), [['80/udp', b('::1', '80')]]);
  assert.deepEqual(parsePortSpec('8000-8001:80-81'), [['80/tcp', b('', '8000')], ['81/tcp', b('', '8001')]]);
  // a host range for one container port stays a range: the daemon takes the first free port in it
  assert.deepEqual(parsePortSpec('8000-8010:80'), [['80/tcp', b('', '8000-8010')]]);
});

test('-p errors (go-connections texts, exit 125)', () => {
  const msg = (s: string) => cliError(() => parsePortSpec(s)).message;
  assert.equal(msg('1.2.3:80:80'), 'Invalid ip address: 1.2.3');
  assert.equal(msg('a:b:c:80:80'), 'Invalid ip address: a:b:c');
  assert.equal(msg('8080:'), 'No port specified: 8080:<empty>');
  assert.equal(msg('8080:abc'), 'Invalid containerPort: abc');
  assert.equal(msg('70000:80'), 'Invalid hostPort: 70000');
  assert.equal(msg('80-81:90-92'), 'Invalid ranges specified for container and host Ports: 90-92 and 80-81');
  assert.equal(msg('80/icmp'), 'Invalid proto: icmp');
  assert.equal(cliError(() => parsePortSpec('80/icmp')).code, 125);
});
