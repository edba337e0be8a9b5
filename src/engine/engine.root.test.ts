/**
 * Real containers (root only): the real image service, conmon + runc driver and the engine, in a
 * child process inside a network namespace of its own, with a temp data root. Skipped without root,
 * runc or conmon.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

const SRC = resolve(import.meta.dirname, '..');
const BUSYBOX = resolve(import.meta.dirname, '../../../shared/images/busybox-1.35.tar');
/** A cgroup parent of this run's own, removed afterwards. */
const CG_PARENT = `berth-test-${randomBytes(3).toString('hex')}`;
const fixture = process.env.BERTH_FIXTURES ? join(process.env.BERTH_FIXTURES, 'busybox-1.35.tar') : BUSYBOX;
const skip = process.getuid?.() !== 0 ? 'needs root'
  : !existsSync('/usr/sbin/runc') || !existsSync('/usr/bin/conmon') ? 'needs runc and conmon'
    : !existsSync(fixture) ? 'needs the busybox fixture' : false;

const child = `
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createImageService } from '${SRC}/image/index.ts';
import { createConmonDriver } from '${SRC}/runtime/index.ts';
import { createEngine } from '${SRC}/engine/index.ts';
const [root, execRoot, archive] = process.argv.slice(2);
const out = {};
const image = await createImageService({ root });
await image.load(createReadStream(archive));
const runtimes = { runc: { path: '/usr/sbin/runc' } };
const runtime = createConmonDriver({ runtimes, defaultRuntime: 'runc', execRoot });
const config = { liveRestore: false, defaultRuntime: 'runc', runtimes, logDriver: 'json-file', logOpts: {}, initPath: '/usr/bin/tini-static',
  debug: false, dns: [], dnsSearch: [], dnsOptions: [], insecureRegistries: [], registryMirrors: [], labels: [], experimental: false, cgroupParent: '/${CG_PARENT}' };
let engine = createEngine({ root, execRoot, image, runtime, config });
await engine.restore();
const collect = (a) => { const chunks = []; a.onOutput((s, d) => chunks.push([s, d.toString()])); return chunks; };
async function run(cmd, hostConfig = {}, extra = {}) {
  const t0 = performance.now();
  const { id } = await engine.createContainer({ config: { Image: 'busybox:1.35', Cmd: cmd, AttachStdout: true, AttachStderr: true, ...extra }, hostConfig });
  const a = await engine.attachContainer(id, { stream: true, logs: false, stdin: false, stdout: true, stderr: true });
  const chunks = collect(a);
  const w = engine.waitContainer(id, hostConfig.AutoRemove ? 'removed' : 'next-exit');
  let startError;
  try { await engine.startContainer(id); } catch (e) { startError = e.message; a.close(); }
  const r = startError ? undefined : await w;
  await a.done;
  return { id, ms: Math.round(performance.now() - t0), output: chunks.map((c) => c[1]).join(''), streams: [...new Set(chunks.map((c) => c[0]))], code: r?.StatusCode, startError };
}
// warm-up, then the timed run --rm --network none
await run(['true'], { AutoRemove: true, NetworkMode: 'none' });
const times = [];
for (let i = 0; i < 5; i++) times.push((await run(['true'], { AutoRemove: true, NetworkMode: 'none' })).ms);
out.rmTrueMs = times.sort((a, b) => a - b)[2];
out.hello = await run(['echo', 'hello'], { AutoRemove: true, NetworkMode: 'none' });
out.demo = await run(['sh', '-c', 'echo out; echo err >&2; exit 3']);
const v = await engine.inspectContainer(out.demo.id, false);
out.demoState = { status: v.status, exit: v.container.State.ExitCode };
const logs = [];
for await (const e of (await engine.logs(out.demo.id, { follow: false, stdout: true, stderr: true, since: 0, until: 0, timestamps: false, tail: 'all' }, new AbortController().signal)).entries) logs.push(e.stream + ':' + e.line.toString());
out.demoLogs = logs;
out.demoJson = await readFile(v.container.LogPath, 'utf8');
out.nosuch = await run(['nosuchcmd']);
out.nosuchState = (await engine.inspectContainer(out.nosuch.id, false)).container.State;
out.hostname = await run(['cat', '/etc/hostname', '/etc/hosts']);
out.init = await run(['sh', '-c', 'kill -9 $$'], { Init: true, AutoRemove: true });
out.badWd = await run(['true'], { AutoRemove: true }, { WorkingDir: '/etc/passwd' });
out.badUser = await run(['true'], { AutoRemove: true }, { User: 'nosuchuser' });
out.env = await run(['env'], { AutoRemove: true }, { Env: ['A=1'], Tty: true });
// a detached sleeper survives the engine going away (live restore), then stop works
const { id: sleeper } = await engine.createContainer({ config: { Image: 'busybox:1.35', Cmd: ['sleep', '1000'] }, hostConfig: { NetworkMode: 'none' } });
await engine.startContainer(sleeper);
out.top = await engine.topContainer(sleeper, '');
engine = createEngine({ root, execRoot, image, runtime: createConmonDriver({ runtimes, defaultRuntime: 'runc', execRoot }), config });
await engine.restore();
out.afterRestore = (await engine.inspectContainer(sleeper, false)).status;
const t1 = performance.now();
await engine.stopContainer(sleeper, { timeout: 1 });
out.stopMs = Math.round(performance.now() - t1);
out.afterStop = (await engine.inspectContainer(sleeper, false)).container.State.ExitCode;
for (const c of await engine.listContainers({ all: true, limit: 0, size: false, filters: {} })) await engine.removeContainer(c.container.ID, { force: true, volumes: false, link: false });
await engine.shutdown();
process.stdout.write(JSON.stringify(out));
process.exit(0);
`;

test('real containers: run --rm echo hello, exit codes, logs, start errors, live restore + stop', { skip, timeout: 120_000 }, () => {
  const ns = `berth-t-eng${randomBytes(3).toString('hex')}`;
  const root = mkdtempSync(join(tmpdir(), 'berth-eng-root-'));
  const execRoot = `/run/bt-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const script = join(mkdtempSync(join(tmpdir(), 'berth-eng-child-')), 'child.mjs');
    writeFileSync(script, child);
    const r = spawnSync('nsenter', [`--net=/run/netns/${ns}`, process.execPath, script, root, execRoot, fixture], { encoding: 'utf8', timeout: 110_000 });
    rmSync(resolve(script, '..'), { recursive: true, force: true });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, any>;
    process.stderr.write(`run --rm --network none true: ${out.rmTrueMs} ms (median of 5, engine calls only); stop -t 1: ${out.stopMs} ms\n`);
    assert.equal(out.hello.output, 'hello\n');
    assert.deepEqual(out.hello.streams, [1]);
    assert.equal(out.hello.code, 0);
    assert.equal(out.demo.code, 3);
    assert.deepEqual(out.demoState, { status: 'exited', exit: 3 });
    assert.deepEqual(out.demoLogs, ['stdout:out\n', 'stderr:err\n']);
    assert.match(out.demoJson, /^\{"log":"out\\n","stream":"stdout","time":"[0-9T:.-]+Z"\}\n\{"log":"err\\n","stream":"stderr","time":"[0-9T:.-]+Z"\}\n$/);
    assert.match(out.nosuch.startError, /^failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "nosuchcmd": executable file not found in \$PATH: unknown$/);
    assert.equal(out.nosuchState.ExitCode, 127);
    assert.equal(out.nosuchState.StartedAt, '0001-01-01T00:00:00Z');
    assert.match(out.hostname.output, /^[0-9a-f]{12}\n127\.0\.0\.1\tlocalhost\n/);
    assert.equal(out.init.code, 137);
    assert.equal(out.badWd.startError, 'Cannot mkdir: /etc/passwd is not a directory');
    assert.equal(out.badUser.startError, 'unable to find user nosuchuser: no matching entries in passwd file');
    assert.match(out.env.output, /^PATH=\/usr\/local\/sbin:\/usr\/local\/bin:\/usr\/sbin:\/usr\/bin:\/sbin:\/bin\r\nHOSTNAME=[0-9a-f]{12}\r\nTERM=xterm\r\nA=1\r\nHOME=\/root\r\n$/);
    assert.deepEqual(out.top.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    assert.equal(out.top.Processes.length, 1);
    assert.equal(out.top.Processes[0].at(-1), 'sleep 1000');
    assert.equal(out.afterRestore, 'running');
    assert.equal(out.afterStop, 137);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
    spawnSync('sh', ['-c', `grep -o ' ${root}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
    rmSync(root, { recursive: true, force: true });
    rmSync(execRoot, { recursive: true, force: true });
    for (const ctl of readdirSync('/sys/fs/cgroup')) {
      const p = join('/sys/fs/cgroup', ctl, CG_PARENT);
      if (existsSync(p)) rmdirSync(p);
    }
  }
});
