import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseFlags, loadConfigFile, checkConflicts, resolveSettings, parseHost, DaemonConfigError } from './daemon-config.ts';

const none = (): undefined => undefined;

test('flags: long, short, =value, repeatable -H, bools, add-runtime', () => {
  const f = parseFlags(['-H', 'unix:///tmp/a.sock', '--host=tcp://127.0.0.1:2375', '-D', '--data-root', '/d', '--iptables=false',
    '--add-runtime', 'crun=/usr/bin/crun', '-b', 'br0', '--log-opt', 'max-size=10m']);
  assert.deepEqual(f.values.hosts, ['unix:///tmp/a.sock', 'tcp://127.0.0.1:2375']);
  assert.equal(f.values.debug, true);
  assert.equal(f.values.iptables, false);
  assert.equal(f.values.bridge, 'br0');
  const s = resolveSettings(f, {}, none);
  assert.equal(s.dataRoot, '/d');
  assert.equal(s.execRoot, '/run/berth');
  assert.equal(s.pidfile, '/run/berth/berthd.pid');
  assert.equal(s.logLevel, 'debug');
  assert.deepEqual(s.runtimes.crun, { path: '/usr/bin/crun' });
  assert.deepEqual(s.logOpts, { 'max-size': '10m' });
  assert.deepEqual(s.network, { iptables: false, bridge: 'br0' });
});

test('defaults: socket, roots, overlay2, runc', () => {
  const s = resolveSettings(parseFlags([]), {}, (n) => (n === 'runc' ? '/usr/sbin/runc' : undefined));
  assert.deepEqual(s.hosts, ['unix:///run/berth/berth.sock']);
  assert.equal(s.dataRoot, '/var/lib/berth');
  assert.equal(s.storageDriver, 'overlay2');
  assert.equal(s.defaultRuntime, 'runc');
  assert.deepEqual(s.runtimes, { runc: { path: '/usr/sbin/runc' } });
  assert.equal(s.logLevel, 'info');
});

test('bad flags get cobra-style messages', () => {
  assert.throws(() => parseFlags(['--foo']), /^DaemonConfigError: unknown flag: --foo\nSee 'berthd --help'\.$/);
  assert.throws(() => parseFlags(['--data-root']), /flag needs an argument: --data-root/);
  assert.throws(() => parseFlags(['--graph', '/x']), /unknown flag: --graph/);
  assert.throws(() => resolveSettings(parseFlags(['--storage-driver', 'vfs']), {}, none), /driver not supported: vfs/);
  assert.throws(() => resolveSettings(parseFlags(['--log-level', 'blah']), {}, none), /^DaemonConfigError: unable to parse logging level: blah$/);
  assert.throws(() => resolveSettings(parseFlags(['--default-runtime', 'nope']), {}, none), /default runtime 'nope' does not exist/);
});

test('hosts: unix, tcp, fd refused', () => {
  assert.deepEqual(parseHost('unix:///run/x.sock'), { kind: 'unix', path: '/run/x.sock' });
  assert.deepEqual(parseHost('tcp://0.0.0.0:2375'), { kind: 'tcp', host: '0.0.0.0', port: 2375 });
  assert.deepEqual(parseHost('tcp://:2376'), { kind: 'tcp', host: '127.0.0.1', port: 2376 });
  assert.throws(() => parseHost('fd://'), DaemonConfigError);
  assert.throws(() => parseHost('http://x'), /Invalid bind address format/);
});

test('daemon.json: dockerd messages for unknown keys, bad values, graph, conflicts, absent file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = join(dir, 'daemon.json');
  const load = async (text: string) => {
    writeFileSync(p, text);
    return loadConfigFile(p, true);
  };
  const pre = `unable to configure the Docker daemon with file ${p}: `;
  await assert.rejects(load('{"foo": 1, "debug": true}'), { message: pre + "the following directives don't match any configuration option: foo" });
  await assert.rejects(load('{"graph": "/data"}'), { message: pre + "the following directives don't match any configuration option: graph" });
  await assert.rejects(load('{"debug": "yes"}'), { message: pre + 'json: cannot unmarshal string into Go struct field Config.debug of type bool' });
  await assert.rejects(load('{"max-concurrent-downloads": "x"}'), { message: pre + 'json: cannot unmarshal string into Go struct field Config.max-concurrent-downloads of type int' });
  await assert.rejects(load('{not json'), (e: Error) => e.message.startsWith(pre));
  const ok = await load('{"debug": true, "bip": "10.1.0.1/24", "labels": ["a=b"], "runtimes": {"crun": {"path": "/usr/bin/crun"}}, "live-restore": true}');
  assert.ok(ok);
  const s = resolveSettings(parseFlags([]), ok, none);
  assert.equal(s.debug, true);
  assert.equal(s.liveRestore, true);
  assert.deepEqual(s.labels, ['a=b']);
  assert.throws(() => checkConflicts(parseFlags(['--bip', '10.2.0.1/24']), ok, p), {
    message: pre + 'the following directives are specified both as a flag and in the configuration file: bip: (from flag: 10.2.0.1/24, from file: 10.1.0.1/24)',
  });
  assert.equal(await loadConfigFile(join(dir, 'absent.json'), false), undefined);
  await assert.rejects(loadConfigFile(join(dir, 'absent.json'), true), /no such file or directory/);
});

test('exec-opts native.cgroupdriver: cgroupfs by default, systemd when asked; bad values and parents refused', () => {
  assert.equal(resolveSettings(parseFlags([]), {}, none).cgroupDriver, 'cgroupfs');
  assert.equal(resolveSettings(parseFlags(['--exec-opt', 'native.cgroupdriver=systemd']), {}, none).cgroupDriver, 'systemd');
  assert.equal(resolveSettings(parseFlags([]), { 'exec-opts': ['native.cgroupdriver=systemd'], 'cgroup-parent': 'berth.slice' }, none).cgroupDriver, 'systemd');
  assert.throws(() => resolveSettings(parseFlags([]), { 'exec-opts': ['native.cgroupdriver=foo'] }, none), /native.cgroupdriver option foo not supported/);
  assert.throws(() => resolveSettings(parseFlags([]), { 'exec-opts': ['foo=bar'] }, none), /unknown option foo/);
  assert.throws(() => resolveSettings(parseFlags([]), { 'exec-opts': ['native.cgroupdriver=systemd'], 'cgroup-parent': '/berth' }, none),
    /cgroup-parent for systemd cgroup should be a valid slice named as "xxx.slice"/);
});
