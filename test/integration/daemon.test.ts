/** berthd's flags and daemon.json (issue 3 §2): refusals with dockerd's messages, one daemon per data root, signals, sd_notify, listeners. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { existsSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { startDaemon, daemonStartFailure, integrationSkip, BERTHD, type Daemon } from '../helpers/daemon.ts';

const docker = process.env.BERTH_TEST_ENGINE === 'docker';
const cfgErr = (rest: string) => new RegExp(`^unable to configure the Docker daemon with file /var/tmp/berth-t-[^/]+/daemon\\.json: ${rest}$`, 'm');

describe('daemon start-up refusals', { skip: integrationSkip() }, () => {
  it('unknown daemon.json key', async () => {
    const r = await daemonStartFailure({ config: { foo: 1, debug: true } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, cfgErr("the following directives don't match any configuration option: foo"));
    assert.equal(r.stdout, '');
  });
  it('bad value names the key', async () => {
    const r = await daemonStartFailure({ config: { debug: 'yes' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, cfgErr('json: cannot unmarshal string into Go struct field Config\\.debug of type bool'));
  });
  it('a key both in the file and on the command line', async () => {
    const r = await daemonStartFailure({ config: { bip: '10.1.0.1/24' }, args: ['--bip', '10.2.0.1/24'] });
    assert.equal(r.code, 1);
    assert.match(r.stderr, cfgErr('the following directives are specified both as a flag and in the configuration file: bip: \\(from flag: 10\\.2\\.0\\.1/24, from file: 10\\.1\\.0\\.1/24\\)'));
  });
  it('"graph" is refused as Docker 24 does; only overlay2', { skip: docker && 'Docker 20.10 still takes graph and vfs' }, async () => {
    const g = await daemonStartFailure({ config: { graph: '/var/tmp/x' } });
    assert.equal(g.code, 1);
    assert.match(g.stderr, cfgErr("the following directives don't match any configuration option: graph"));
    const s = await daemonStartFailure({ args: ['--storage-driver', 'vfs'] });
    assert.equal(s.code, 1);
    assert.match(s.stderr, /driver not supported: vfs/);
    const f = await daemonStartFailure({ args: ['--nosuchflag'] });
    assert.equal(f.code, 1);
    assert.match(f.stderr, /^unknown flag: --nosuchflag$/m);
  });
});

describe('a running daemon', { skip: integrationSkip() }, () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon({ args: ['-H', 'tcp://127.0.0.1:2375', '--add-runtime', 'myrunc=/usr/sbin/runc'], config: { labels: ['stage=one'] } });
  });
  after(() => d?.cleanup());

  it('prints nothing on stdout, logs on stderr, writes its pid file', () => {
    assert.equal(d.stdout(), '');
    assert.match(d.stderr(), /API listen on/);
    assert.equal(readFileSync(d.pidfile, 'utf8').trim(), String(d.pid));
  });

  it('answers on unix and tcp listeners (tcp inside its netns)', async () => {
    const v = await d.docker(['version', '--format', '{{.Server.APIVersion}}']);
    assert.equal(v.code, 0, v.stderr);
    assert.ok(Number(v.stdout.trim()) >= 1.41);
    const tcp = await d.inNetns('curl', ['-sS', 'http://127.0.0.1:2375/_ping']);
    assert.equal(tcp.stdout, 'OK');
  });

  it('docker info shows the data root, overlay2, and the runtimes from the flags', async () => {
    const r = await d.docker(['info', '--format', '{{.DockerRootDir}}|{{.Driver}}|{{.DefaultRuntime}}|{{json .Runtimes}}']);
    assert.equal(r.code, 0, r.stderr);
    const [rootDir, driver, def, runtimes] = r.stdout.trim().split('|');
    assert.equal(rootDir, d.root);
    assert.equal(driver, 'overlay2');
    assert.equal(def, 'runc');
    const rt = JSON.parse(runtimes!) as Record<string, { path: string }>;
    assert.equal(rt.myrunc?.path, '/usr/sbin/runc');
    assert.ok(rt.runc);
  });

  it('docker version lists the helpers\' versions (runc and docker-init as Docker does, conmon for containerd)', async () => {
    const r = await d.docker(['version', '--format', '{{range .Server.Components}}{{.Name}}={{.Version}} {{end}}']);
    assert.equal(r.code, 0, r.stderr);
    const runc = /runc version (\S+)/.exec((await d.exec('runc', ['--version'])).stdout)![1];
    const names = r.stdout.trim().split(' ');
    assert.ok(names.includes(`runc=${runc}`), r.stdout);
    assert.ok(names.some((n) => /^docker-init=0\.19\.\d+$/.test(n)), r.stdout);
    assert.equal(names[0]!.split('=')[0], 'Engine');
  });

  it('one daemon per data root: a second one is refused', async () => {
    const other = join(d.dir, 'other');
    mkdirSync(other, { recursive: true });
    const bin = docker ? '/usr/sbin/dockerd' : BERTHD;
    const c = spawn('nsenter', [`--net=/run/netns/${d.netns}`, bin, '--data-root', d.root, '--exec-root', join(other, 'exec'),
      '-H', `unix://${join(other, 's.sock')}`, '--pidfile', d.pidfile, '--config-file', d.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    c.stderr.on('data', (b: Buffer) => { err += b; });
    const timer = setTimeout(() => c.kill('SIGKILL'), 20_000);
    const [code] = await once(c, 'exit');
    clearTimeout(timer);
    assert.equal(code, 1);
    assert.match(err, new RegExp(`pid file found, ensure (berthd|docker) is not running or delete ${d.pidfile}`));
    assert.equal(readFileSync(d.pidfile, 'utf8').trim(), String(d.pid));
    assert.equal((await d.docker(['version'])).code, 0);
  });

  it('SIGHUP reloads debug and labels from the file', async () => {
    const info0 = await d.docker(['info', '--format', '{{.Debug}} {{json .Labels}}']);
    assert.equal(info0.stdout, 'false ["stage=one"]\n');
    writeFileSync(d.configFile, JSON.stringify({ debug: true, labels: ['stage=two'] }));
    d.signal('SIGHUP');
    let got = '';
    for (let i = 0; i < 50 && got !== 'true ["stage=two"]\n'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      got = (await d.docker(['info', '--format', '{{.Debug}} {{json .Labels}}'])).stdout;
    }
    assert.equal(got, 'true ["stage=two"]\n');
    assert.match(d.stderr(), /Reloaded configuration/);
  });

  it('SIGHUP with a bad daemon.json logs the error and keeps the old settings', async () => {
    writeFileSync(d.configFile, JSON.stringify({ debug: false, nosuchkey: 1 }));
    d.signal('SIGHUP');
    for (let i = 0; i < 50 && !/nosuchkey/.test(d.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(d.stderr(), /unable to configure the Docker daemon with file .*: the following directives don't match any configuration option: nosuchkey/);
    const info = await d.docker(['info', '--format', '{{.Debug}}']);
    assert.equal(info.stdout, 'true\n');
  });
});

describe('systemd notification and SIGTERM', { skip: integrationSkip() }, () => {
  it('sends READY=1 once the API answers, STOPPING=1 on SIGTERM, exits 0 and removes pid file and socket', async (t) => {
    const dir = join('/var/tmp', `berth-notify-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const sock = join(dir, 'notify.sock');
    const py = spawn('python3', ['-u', '-c', `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound")
s.settimeout(60)
while True:
    m = s.recv(4096).decode()
    print(m)
    if "STOPPING=1" in m: break
`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => {
      py.kill();
      rmSync(dir, { recursive: true, force: true });
    });
    let out = '';
    py.stdout.on('data', (b: Buffer) => { out += b; });
    while (!out.includes('bound')) await once(py.stdout, 'data');
    const d = await startDaemon({ env: { NOTIFY_SOCKET: sock } });
    t.after(() => d.cleanup());
    for (let i = 0; i < 50 && !out.includes('READY=1'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /READY=1/);
    assert.ok(existsSync(d.socket));
    assert.ok(existsSync(d.pidfile));
    const r = await d.stop('SIGTERM');
    assert.deepEqual(r, { code: 0, signal: null });
    for (let i = 0; i < 30 && !out.includes('STOPPING=1'); i++) await new Promise((res) => setTimeout(res, 100));
    assert.match(out, /STOPPING=1/);
    assert.equal(existsSync(d.pidfile), false, 'pid file removed');
    if (d.engine === 'berth') assert.equal(existsSync(d.socket), false, 'socket removed');
  });
});
