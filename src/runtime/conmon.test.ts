/**
 * Root tests of the conmon + runc driver against the busybox fixture. Each container gets a new (empty) network
 * namespace, a cgroup under a per-run parent that is removed at the end, and a bundle under a temp exec root.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { buildSpec, createConmonDriver } from './index.ts';
import type { ExitInfo, RuntimeDriver, SpecOptions, AttachSession } from './index.ts';
import { FailedPreconditionError, SystemError } from '../lib/index.ts';

const IMAGES = resolve(import.meta.dirname, '../../../shared/images');
const RUNC = '/usr/sbin/runc';
const CONMON = '/usr/bin/conmon';
const TINI = '/usr/bin/tini-static';
const skip = process.getuid?.() !== 0 ? 'needs root'
  : !existsSync(RUNC) || !existsSync(CONMON) ? 'needs runc and conmon'
  : !existsSync(join(IMAGES, 'fixtures.json')) ? 'needs the fixture images' : false;

const CG_PARENT = `berth-test-${randomBytes(3).toString('hex')}`;
let tmp = '';
let rootfs = '';
let drv: RuntimeDriver;
const exits = new Map<string, ExitInfo>();
const created: string[] = [];

function specOptions(id: string, over: Partial<SpecOptions>): SpecOptions {
  return {
    id, rootfs, readonlyRootfs: false, args: ['true'], env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    cwd: '/', user: '', groupAdd: [], hostname: id.slice(0, 12), domainname: '', tty: false, netns: undefined, privileged: false,
    capAdd: [], capDrop: [], noNewPrivileges: false, ulimits: [], sysctls: {}, mounts: [], shmSize: 67108864,
    cgroupsPath: `/${CG_PARENT}/${id}`, resources: { oomKillDisable: false }, devices: [], oomScoreAdj: 0, ...over,
  };
}

async function createContainer(over: Partial<SpecOptions>, opts: { tty?: boolean; openStdin?: boolean } = {}) {
  const id = `t${randomBytes(6).toString('hex')}`;
  const spec = await buildSpec(specOptions(id, { tty: opts.tty ?? false, ...over }));
  created.push(id);
  const r = await drv.create({
    id, name: id, spec, runtime: 'runc', tty: opts.tty ?? false, openStdin: opts.openStdin ?? false,
    logPath: join(tmp, 'logs', `${id}.log`), persistDir: join(tmp, 'persist', id),
  });
  return { id, ...r };
}

async function waitExit(id: string, ms = 10_000): Promise<ExitInfo> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const e = exits.get(id);
    if (e) return e;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`no exit seen for ${id}`);
}

function collect(s: AttachSession): { out: () => string; err: () => string; closed: Promise<void> } {
  let out = '';
  let err = '';
  s.onData((stream, data) => { if (stream === 1) out += data.toString(); else err += data.toString(); });
  return { out: () => out, err: () => err, closed: new Promise((r) => s.onClose(r)) };
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

before(() => {
  if (skip) return;
  tmp = mkdtempSync('/tmp/bt-');
  const fx = JSON.parse(readFileSync(join(IMAGES, 'fixtures.json'), 'utf8')) as { images: { file: string; layers: { blob_digest: string }[] }[] };
  const bb = fx.images.find((i) => i.file === 'busybox-1.35.tar')!;
  const blob = `blobs/sha256/${bb.layers[0]!.blob_digest.slice('sha256:'.length)}`;
  execFileSync('tar', ['-xf', join(IMAGES, bb.file), '-C', tmp, blob]);
  rootfs = join(tmp, 'rootfs');
  mkdirSync(rootfs);
  execFileSync('tar', ['-xf', join(tmp, blob), '-C', rootfs]);
  drv = createConmonDriver({ runtimes: { runc: { path: RUNC } }, defaultRuntime: 'runc', execRoot: join(tmp, 'run'), conmonPath: CONMON });
  drv.watchExits((id, e) => exits.set(id, e));
});

after(async () => {
  if (skip) return;
  for (const id of created) await drv.delete(id).catch(() => {});
  drv.close();
  for (const ctl of readdirSync('/sys/fs/cgroup')) {
    const p = join('/sys/fs/cgroup', ctl, CG_PARENT);
    if (existsSync(p)) rmdirSync(p);
  }
  // a container cgroup left behind would have made rmdir fail above
  rmSync(tmp, { recursive: true, force: true });
});

test('exit code 3 from the exit file and stdout/stderr lines in the k8s-file log', { skip }, async () => {
  const c = await createContainer({ args: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
  assert.ok(c.pid > 0 && c.conmonPid > 0);
  assert.equal(drv.monitorAlive(c.id, c.conmonPid), true);
  const t0 = Date.now();
  await drv.start(c.id);
  const e = await waitExit(c.id);
  assert.equal(e.exitCode, 3);
  assert.equal(e.oomKilled, false);
  assert.ok(Math.abs(e.finishedAt.getTime() - t0) < 5000);
  assert.deepEqual(await drv.readExit(c.id), e);
  const lines = readFileSync(join(tmp, 'logs', `${c.id}.log`), 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00 stdout F out$/);
  assert.match(lines[1]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00 stderr F err$/);
  assert.equal((await drv.state(c.id))?.status, 'stopped');
  await assert.rejects(drv.kill(c.id, 'KILL'), (e: unknown) => e instanceof FailedPreconditionError);
  await drv.delete(c.id);
  assert.equal(await drv.readExit(c.id), undefined);
  assert.equal(await drv.state(c.id), undefined);
  assert.equal(existsSync(join(tmp, 'run', 'c', c.id)), false);
  await drv.delete(c.id); // idempotent
});

test('a missing executable fails create with runc\'s words and leaves nothing behind', { skip }, async () => {
  await assert.rejects(createContainer({ args: ['nosuchcmd'] }), (e: unknown) => e instanceof SystemError &&
    e.message === 'runc create failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH');
  const id = created.at(-1)!;
  assert.equal(existsSync(join(tmp, 'run', 'c', id)), false);
  assert.equal(await drv.state(id), undefined);
});

test('sleep: running, pids, pause/resume, SIGTERM → 143 (through --init)', { skip }, async () => {
  const c = await createContainer({ args: ['sleep', '1000'], initPath: TINI });
  assert.equal((await drv.state(c.id))?.status, 'created');
  await drv.start(c.id);
  const st = await drv.state(c.id);
  assert.deepEqual(st, { status: 'running', pid: c.pid });
  await until('sleep to run under tini', () => readFileSync(`/proc/${c.pid}/task/${c.pid}/children`, 'utf8').trim() !== '');
  const pids = await drv.pids(c.id);
  assert.equal(pids.length, 2);
  assert.ok(pids.includes(c.pid));
  await drv.pause(c.id);
  assert.equal((await drv.state(c.id))?.status, 'paused');
  await drv.resume(c.id);
  assert.equal((await drv.state(c.id))?.status, 'running');
  assert.equal(exits.has(c.id), false);
  await drv.kill(c.id, 'SIGTERM');
  const e = await waitExit(c.id);
  assert.equal(e.exitCode, 143);
  await drv.delete(c.id);
});

test('attach to cat: stdin in, stdout back, closing stdin ends it with 0', { skip }, async () => {
  const c = await createContainer({ args: ['cat'] }, { openStdin: true });
  const s = await drv.attach(c.id, { stdin: true });
  const io = collect(s);
  await drv.start(c.id);
  s.write(Buffer.from('hi\n'));
  await until('hi back', () => io.out() === 'hi\n');
  s.closeStdin();
  const e = await waitExit(c.id);
  assert.equal(e.exitCode, 0);
  await io.closed;
  assert.equal(io.err(), '');
  await drv.delete(c.id);
});

test('TTY: resize, then stty size sees it', { skip }, async () => {
  const c = await createContainer({ args: ['sh', '-c', 'read x; stty size'] }, { tty: true, openStdin: true });
  const s = await drv.attach(c.id, { stdin: true });
  const io = collect(s);
  await drv.start(c.id);
  await drv.resize(c.id, 40, 100);
  s.write(Buffer.from('go\r'));
  const e = await waitExit(c.id);
  assert.equal(e.exitCode, 0);
  await io.closed;
  assert.match(io.out(), /40 100\r\n$/);
  await drv.delete(c.id);
});

test('conmon outlives the process that spawned it', { skip }, async () => {
  const id = `t${randomBytes(6).toString('hex')}`;
  created.push(id);
  const spec = await buildSpec(specOptions(id, { args: ['sleep', '1000'], initPath: TINI }));
  const script = `
    import { createConmonDriver } from ${JSON.stringify(join(import.meta.dirname, 'index.ts'))};
    const drv = createConmonDriver(${JSON.stringify({ runtimes: { runc: { path: RUNC } }, defaultRuntime: 'runc', execRoot: join(tmp, 'run'), conmonPath: CONMON })});
    const r = await drv.create(${JSON.stringify({ id, name: id, spec, runtime: 'runc', tty: false, openStdin: false, logPath: join(tmp, 'logs', `${id}.log`), persistDir: join(tmp, 'persist', id) })});
    await drv.start(${JSON.stringify(id)});
    process.stdout.write(JSON.stringify(r));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const { pid, conmonPid } = JSON.parse(r.stdout) as { pid: number; conmonPid: number };
  // the spawner is gone; its conmon and container are not
  assert.equal(drv.monitorAlive(id, conmonPid), true);
  assert.equal(drv.monitorAlive('someone-else', conmonPid), false);
  assert.deepEqual(await drv.state(id), { status: 'running', pid });
  await drv.kill(id, 'KILL');
  const e = await waitExit(id);
  assert.equal(e.exitCode, 137);
  await until('conmon to exit', () => !drv.monitorAlive(id, conmonPid));
  await drv.delete(id);
});

test('kill: KILL ends a paused container once thawed, 9 a created one; a stopped one is not running', { skip }, async () => {
  const a = await createContainer({ args: ['sleep', '1000'] });
  await drv.start(a.id);
  await drv.pause(a.id);
  await drv.kill(a.id, 'KILL');
  await drv.resume(a.id).catch(() => {}); // the engine thaws after KILL, as dockerd does
  assert.equal((await waitExit(a.id)).exitCode, 137);
  await assert.rejects(drv.kill(a.id, 'TERM'), (e: unknown) => e instanceof FailedPreconditionError);
  await drv.delete(a.id);
  const b = await createContainer({ args: ['sleep', '1000'] });
  await drv.kill(b.id, '9');
  assert.equal((await waitExit(b.id)).exitCode, 137);
  await drv.delete(b.id);
});

test('delete of a running container kills it and removes everything', { skip }, async () => {
  const c = await createContainer({ args: ['sleep', '1000'] });
  await drv.start(c.id);
  await drv.delete(c.id);
  assert.equal(await drv.state(c.id), undefined);
  assert.equal(drv.monitorAlive(c.id, c.conmonPid), false);
  assert.equal(existsSync(`/sys/fs/cgroup/pids/${CG_PARENT}/${c.id}`), false);
  assert.equal(await drv.readExit(c.id), undefined);
});

test('OOM: exit 137 and oomKilled from conmon\'s oom file', { skip }, async () => {
  const c = await createContainer({
    args: ['sh', '-c', 'a=xxxxxxxxxxxxxxxx; while :; do a="$a$a"; done'],
    resources: { memory: 16 * 1024 * 1024, memorySwap: 16 * 1024 * 1024, oomKillDisable: false },
  });
  await drv.start(c.id);
  const e = await waitExit(c.id, 20_000);
  assert.deepEqual({ exitCode: e.exitCode, oomKilled: e.oomKilled }, { exitCode: 137, oomKilled: true });
  await drv.delete(c.id);
});

test('deleting a created, never started container leaves no state and no cgroup', { skip }, async () => {
  const c = await createContainer({ args: ['true'] });
  assert.equal((await drv.state(c.id))?.status, 'created');
  await drv.delete(c.id);
  assert.equal(await drv.state(c.id), undefined);
  assert.equal(existsSync(`/sys/fs/cgroup/memory/${CG_PARENT}/${c.id}`), false);
});

test('exec: attached output and exit code, stdin, TTY resize, detached, missing command', { skip }, async () => {
  const c = await createContainer({ args: ['sleep', '1000'], initPath: TINI });
  await drv.start(c.id);
  const spec = await buildSpec(specOptions(c.id, { args: ['sleep', '1000'] }));
  const proc = (args: string[], terminal = false) => ({ ...spec.process!, args, ...(terminal ? { terminal } : {}) });
  const xid = () => `x${randomBytes(6).toString('hex')}`;

  const a = await drv.exec(c.id, { execId: xid(), process: proc(['sh', '-c', 'echo hi; echo err >&2; exit 4']), attach: true, openStdin: false });
  assert.ok(a.pid > 0 && a.io);
  const aio = collect(a.io);
  assert.equal(await a.exited, 4);
  await aio.closed;
  assert.deepEqual([aio.out(), aio.err()], ['hi\n', 'err\n']);

  const b = await drv.exec(c.id, { execId: xid(), process: proc(['cat']), attach: true, openStdin: true });
  const bio = collect(b.io!);
  b.io!.write(Buffer.from('ping\n'));
  await until('ping back', () => bio.out() === 'ping\n');
  b.io!.closeStdin();
  assert.equal(await b.exited, 0);

  // conmon applies a resize asynchronously: ask the shell for its size until the new one shows
  const tid = xid();
  const t = await drv.exec(c.id, { execId: tid, process: proc(['sh'], true), attach: true, openStdin: true });
  const tio = collect(t.io!);
  await drv.resizeExec(c.id, tid, 33, 77);
  for (let i = 0; i < 50 && !/33 77\r\n/.test(tio.out()); i++) {
    t.io!.write(Buffer.from('stty size\r'));
    await new Promise((r) => setTimeout(r, 100));
  }
  t.io!.write(Buffer.from('exit 0\r'));
  assert.equal(await t.exited, 0);
  await tio.closed;
  assert.match(tio.out(), /33 77\r\n/);

  const d = await drv.exec(c.id, { execId: xid(), process: proc(['sh', '-c', 'exit 5']), attach: false, openStdin: false });
  assert.equal(d.io, undefined);
  assert.equal(await d.exited, 5);

  await assert.rejects(drv.exec(c.id, { execId: xid(), process: proc(['nosuchcmd']), attach: true, openStdin: false }),
    (e: unknown) => e instanceof SystemError && e.message === 'exec failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH');
  assert.equal(exits.has(c.id), false, 'execs do not look like container exits');
  await drv.delete(c.id);
});

test('a new watcher (daemon restart) reports exits that happened while nobody watched, once', { skip }, async () => {
  const c = await createContainer({ args: ['sh', '-c', 'exit 7'] });
  await drv.start(c.id);
  await waitExit(c.id);
  const again = createConmonDriver({ runtimes: { runc: { path: RUNC } }, defaultRuntime: 'runc', execRoot: join(tmp, 'run'), conmonPath: CONMON });
  const seen: [string, number][] = [];
  again.watchExits((id, e) => seen.push([id, e.exitCode]));
  await until('the pending exit', () => seen.some(([id]) => id === c.id));
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(seen.filter(([id]) => id === c.id), [[c.id, 7]]);
  again.close();
  await drv.delete(c.id);
});
