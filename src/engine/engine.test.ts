/**
 * The engine against in-memory fakes of the image service and the runtime driver: what a user
 * sees through the API (states, Docker's error texts, logs, events), without root.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, appendFile, stat, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NotFoundError, ConflictError, InvalidArgumentError, NotModifiedError } from '../lib/index.ts';
import type { ImageService, ImageRecord } from '../image/index.ts';
import type { RuntimeDriver, ExitInfo, CreateOptions, SpecOptions, AttachSession } from '../runtime/index.ts';
import { createEngine, type Engine, type EngineOptions } from './engine.ts';
import type { EngineEvent, LogEntry } from './backend.ts';

const BUSYBOX = `sha256:${'0dcf'.padEnd(64, 'a')}`;
const NOCMD = `sha256:${'1234'.padEnd(64, 'b')}`;

function fakeImages(): ImageService & { rw: Map<string, { mounted: boolean }> } {
  const images: ImageRecord[] = [
    { id: BUSYBOX, repoTags: ['busybox:1.35'], repoDigests: [], size: 4_860_000, parent: '', config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] } } },
    { id: NOCMD, repoTags: ['imported:v1'], repoDigests: [], size: 100, parent: '', config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } } },
  ];
  const rw = new Map<string, { mounted: boolean }>();
  const get = async (ref: string) => {
    const r = images.find((i) => i.id === ref || i.repoTags.includes(ref) || i.repoTags.includes(`${ref}:latest`) || (ref.length >= 4 && i.id.slice(7).startsWith(ref)));
    if (!r) throw new NotFoundError(`No such image: ${ref}`);
    return r;
  };
  const gd = { MergedDir: '/m', UpperDir: '/u', WorkDir: '/w' };
  return {
    rw, get, list: async () => images,
    tag: async () => {}, remove: async () => [], load: async () => [], save: async () => {}, importRootfs: async () => '', history: async () => [],
    prune: async () => ({ deleted: [], spaceReclaimed: 0 }), diskUsage: async () => ({ layersSize: 1 }),
    createRwLayer: async (id) => { rw.set(id, { mounted: false }); },
    mountRwLayer: async (id) => { rw.get(id)!.mounted = true; return `/fake/${id}/merged`; },
    unmountRwLayer: async (id) => { const l = rw.get(id); if (l) l.mounted = false; },
    removeRwLayer: async (id) => { rw.delete(id); },
    graphDriverData: async () => gd, imageGraphDriverData: async () => gd, rwLayerSize: async () => 12, exportRwLayer: async () => {},
    commit: async () => 'sha256:' + 'c'.repeat(64),
    rwLayerIds: () => [],
    children: async () => [],
  };
}

interface FakeRun { opts: CreateOptions; pid: number; signals: string[]; paused: boolean }

class FakeRuntime implements RuntimeDriver {
  runs = new Map<string, FakeRun>();
  exits = new Map<string, ExitInfo>();
  calls: string[] = [];
  createError: Error | undefined;
  /** What the "process" does when started: write log lines, maybe exit. */
  onStart: (id: string, r: FakeRun) => void = () => {};
  /** Signals that make the process exit, and with which code. */
  exitOn: Record<string, number> = { SIGKILL: 137, SIGTERM: 143 };
  alive = new Set<number>();
  attached: { id: string; data: ((s: 1 | 2, d: Buffer) => void)[]; close: (() => void)[]; stdin: Buffer[] }[] = [];
  #cb: ((id: string, e: ExitInfo) => void) | undefined;
  #pid = 1000;

  async exec(): Promise<never> { throw new Error('FakeRuntime: exec is not faked'); }
  async readSpec() { return undefined; }
  async resizeExec() {}

  async create(o: CreateOptions) {
    this.calls.push(`create ${o.id}`);
    if (this.createError) throw this.createError;
    const r = { opts: o, pid: ++this.#pid, signals: [], paused: false };
    this.runs.set(o.id, r);
    this.alive.add(r.pid + 10000);
    return { pid: r.pid, conmonPid: r.pid + 10000 };
  }
  async start(id: string) { this.calls.push(`start ${id}`); this.onStart(id, this.runs.get(id)!); }
  async kill(id: string, signal: string) {
    this.calls.push(`kill ${id} ${signal}`);
    const r = this.runs.get(id);
    if (!r) throw new Error('container not running');
    r.signals.push(signal);
    const code = this.exitOn[signal];
    if (code !== undefined) setTimeout(() => this.exit(id, code), 5);
  }
  async delete(id: string) { this.calls.push(`delete ${id}`); this.runs.delete(id); this.exits.delete(id); }
  async pause(id: string) { this.runs.get(id)!.paused = true; }
  async resume(id: string) { this.runs.get(id)!.paused = false; }
  async state(id: string) { const r = this.runs.get(id); return r ? { status: r.paused ? 'paused' as const : 'running' as const, pid: r.pid } : undefined; }
  async pids(id: string) { const r = this.runs.get(id); return r ? [r.pid] : []; }
  async attach(id: string): Promise<AttachSession> {
    const a = { id, data: [] as ((s: 1 | 2, d: Buffer) => void)[], close: [] as (() => void)[], stdin: [] as Buffer[] };
    this.attached.push(a);
    return {
      onData: (cb) => { a.data.push(cb); }, onClose: (cb) => { a.close.push(cb); },
      write: (d) => { a.stdin.push(d); }, closeStdin: () => {}, close: () => {},
    };
  }
  async resize() {}
  monitorAlive(_id: string, conmonPid: number) { return this.alive.has(conmonPid); }
  async readExit(id: string) { return this.exits.get(id); }
  watchExits(cb: (id: string, e: ExitInfo) => void) { this.#cb = cb; for (const [id, e] of this.exits) cb(id, e); }
  close() {}

  /** The container's process writes to its k8s-file log. */
  async log(id: string, stream: 'stdout' | 'stderr', text: string, tag: 'F' | 'P' = 'F') {
    const r = this.runs.get(id)!;
    await appendFile(r.opts.logPath, `${new Date().toISOString().replace('Z', '123456+00:00')} ${stream} ${tag} ${text}\n`);
  }
  exit(id: string, exitCode: number, oomKilled = false) {
    const e = { exitCode, oomKilled, finishedAt: new Date() };
    this.exits.set(id, e);
    const r = this.runs.get(id);
    if (r) this.alive.delete(r.pid + 10000);
    this.#cb?.(id, e);
  }
}

interface Harness { engine: Engine; rt: FakeRuntime; images: ReturnType<typeof fakeImages>; root: string; specs: SpecOptions[]; events: EngineEvent[] }

const roots: string[] = [];
after(() => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));

async function tempRoot(): Promise<string> {
  const r = await mkdtemp(join(tmpdir(), 'berth-engine-'));
  roots.push(r);
  return r;
}

async function harness(root?: string, rt = new FakeRuntime(), images = fakeImages(), extra: Partial<EngineOptions['config']> = {}): Promise<Harness> {
  const r = root ?? await tempRoot();
  const specs: SpecOptions[] = [];
  const engine = createEngine({
    root: r, execRoot: join(r, 'run'), image: images, runtime: rt,
    buildSpec: (o) => { specs.push(o); return { ociVersion: '1.0.2' }; },
    config: {
      liveRestore: true, defaultRuntime: 'runc', runtimes: { runc: { path: '/usr/sbin/runc' } }, logDriver: 'json-file', logOpts: {},
      initPath: '/usr/bin/tini-static', debug: false, dns: [], dnsSearch: [], dnsOptions: [], insecureRegistries: [], registryMirrors: [],
      labels: [], experimental: false, cgroupParent: '/berth', ...extra,
    },
  });
  await engine.restore();
  const events: EngineEvent[] = [];
  engine.subscribeEvents({ filters: {} }, (e) => events.push(e));
  return { engine, rt, images, root: r, specs, events };
}

const run = (cmd: string[], extra: Record<string, unknown> = {}) => ({ config: { Image: 'busybox:1.35', Cmd: cmd, ...extra }, hostConfig: {} });

async function collect(it: AsyncIterable<LogEntry>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of it) out.push(`${e.stream}:${e.line.toString()}`);
  return out;
}

test('create: Docker defaults, image config merged, found by name, full ID and unique prefix', async () => {
  const { engine, events } = await harness();
  const { id, warnings } = await engine.createContainer({ name: 'created', config: { Image: 'busybox:1.35', Cmd: ['echo', 'hi'], Env: ['A=1'] }, hostConfig: {} });
  assert.deepEqual(warnings, []);
  const v = await engine.inspectContainer('created', false);
  const c = v.container;
  assert.equal(c.ID, id);
  assert.equal(v.status, 'created');
  assert.equal(c.Name, '/created');
  assert.equal(c.Path, 'echo');
  assert.deepEqual(c.Args, ['hi']);
  assert.equal(c.Config.Hostname, id.slice(0, 12));
  assert.deepEqual(c.Config.Env, ['A=1', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  assert.equal(c.Image, BUSYBOX);
  assert.equal(c.State.StartedAt, '0001-01-01T00:00:00Z');
  assert.equal(c.HostConfig.NetworkMode, 'default');
  assert.deepEqual(c.HostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.equal(c.HostConfig.ShmSize, 67108864);
  assert.equal(c.HostConfig.LogConfig.Type, 'json-file');
  assert.equal(c.HostConfig.IpcMode, 'private');
  assert.ok(c.HostConfig.MaskedPaths?.includes('/proc/kcore'));
  assert.ok('bridge' in c.NetworkSettings.Networks);
  assert.equal(v.imageName, 'busybox:1.35');
  assert.equal((await engine.inspectContainer(id, false)).container.ID, id);
  assert.equal((await engine.inspectContainer(id.slice(0, 5), false)).container.ID, id);
  assert.equal((await engine.inspectContainer('/created', false)).container.ID, id);
  await assert.rejects(engine.inspectContainer('nosuch', false), (e: Error) => e instanceof NotFoundError && e.message === 'No such container: nosuch');
  assert.deepEqual(events.map((e) => [e.Action, e.Actor.Attributes.name, e.Actor.Attributes.image]), [['create', 'created', 'busybox:1.35']]);
});

test('create: on-disk config.v2.json and hostconfig.json in the container dir', async () => {
  const { engine, root } = await harness();
  const { id } = await engine.createContainer({ name: 'disk', ...run(['true']) });
  const cfg = JSON.parse(await readFile(join(root, 'containers', id, 'config.v2.json'), 'utf8'));
  const hc = JSON.parse(await readFile(join(root, 'containers', id, 'hostconfig.json'), 'utf8'));
  assert.equal(cfg.Name, '/disk');
  assert.equal(cfg.HostConfig, undefined);
  assert.equal(hc.NetworkMode, 'default');
});

test('create: name conflict, invalid names and random names', async () => {
  const { engine } = await harness();
  const { id } = await engine.createContainer({ name: 'web', ...run(['true']) });
  await assert.rejects(engine.createContainer({ name: 'web', ...run(['true']) }), (e: Error) => e instanceof ConflictError &&
    e.message === `Conflict. The container name "/web" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`);
  await assert.rejects(engine.createContainer({ name: 'bad name!', ...run(['true']) }), (e: Error) => e instanceof InvalidArgumentError &&
    e.message === 'Invalid container name (bad name!), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
  const r = await engine.createContainer(run(['true']));
  assert.match((await engine.inspectContainer(r.id, false)).container.Name, /^\/[a-z]+_[a-z]+\d?$/);
});

test('create: Docker validation messages', async () => {
  const { engine } = await harness();
  const cases: [Record<string, unknown>, string][] = [
    [{ RestartPolicy: { Name: 'sometimes' } }, "invalid restart policy 'sometimes'"],
    [{ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } }, 'maximum retry count cannot be negative'],
    [{ RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } }, "maximum retry count cannot be used with restart policy 'always'"],
    [{ AutoRemove: true, RestartPolicy: { Name: 'always' } }, "can't create 'AutoRemove' container with restart policy"],
    [{ PortBindings: { '80/tcp': [{ HostIp: '', HostPort: 'notaport' }] } }, 'invalid port specification: "notaport"'],
    [{ PortBindings: { 'eighty/tcp': [{ HostIp: '', HostPort: '8081' }] } }, 'invalid port specification: "eighty"'],
    [{ PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '70000' }] } }, 'invalid port specification: "70000"'],
    [{ Memory: 1024 }, 'Minimum memory limit allowed is 6MB'],
    [{ Memory: -5 }, 'Minimum memory limit allowed is 6MB'],
    [{ Memory: 67108864, MemorySwap: 33554432 }, 'Minimum memoryswap limit should be larger than memory limit, see usage'],
    [{ NanoCpus: 500000000, CpuQuota: 50000 }, 'Conflicting options: Nano CPUs and CPU Quota cannot both be set'],
    [{ LogConfig: { Type: 'nosuchdriver', Config: {} } }, 'error looking up logging plugin nosuchdriver: plugin "nosuchdriver" not found'],
  ];
  for (const [hostConfig, msg] of cases) {
    await assert.rejects(engine.createContainer({ config: { Image: 'busybox:1.35' }, hostConfig }), (e: Error) => e instanceof InvalidArgumentError && e.message === msg, msg);
  }
  const n = (await import('node:os')).cpus().length;
  await assert.rejects(engine.createContainer({ config: { Image: 'busybox:1.35' }, hostConfig: { NanoCpus: (n + 2) * 1e9 } }),
    { message: `Range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available` });
  await assert.rejects(engine.createContainer({ config: { Image: 'imported:v1' }, hostConfig: {} }), (e: Error) => e instanceof InvalidArgumentError && e.message === 'No command specified');
  await assert.rejects(engine.createContainer({ config: { Image: 'nosuch:latest' }, hostConfig: {} }), (e: Error) => e instanceof NotFoundError);
  assert.equal((await engine.listContainers({ all: true, limit: 0, size: false, filters: {} })).length, 0, 'failed creates leave nothing behind');
});

test('create: Entrypoint and Cmd rules', async () => {
  const { engine } = await harness();
  const a = await engine.createContainer({ config: { Image: 'busybox:1.35' }, hostConfig: {} });
  assert.deepEqual((await engine.inspectContainer(a.id, false)).container.Path, 'sh');
  const b = await engine.createContainer({ config: { Image: 'busybox:1.35', Entrypoint: ['echo'] }, hostConfig: {} });
  const cb = (await engine.inspectContainer(b.id, false)).container;
  assert.equal(cb.Path, 'echo');
  assert.deepEqual(cb.Args, [], 'an entrypoint given at run time drops the image Cmd');
  const c = await engine.createContainer({ config: { Image: 'busybox:1.35', Entrypoint: ['echo'], Cmd: ['x', 'y'] }, hostConfig: {} });
  assert.deepEqual((await engine.inspectContainer(c.id, false)).container.Args, ['x', 'y']);
});

test('run: start, output in the json-file, exit recorded, die event, waiters settled', async () => {
  const { engine, rt, root, specs, events } = await harness();
  rt.onStart = (id) => {
    void (async () => {
      await rt.log(id, 'stdout', 'out');
      await rt.log(id, 'stderr', 'err');
      await rt.log(id, 'stdout', 'no newline', 'P');
      rt.exit(id, 3);
    })();
  };
  const { id } = await engine.createContainer({ name: 'demo', ...run(['sh', '-c', 'echo out; echo err >&2; exit 3']) });
  const waited = engine.waitContainer('demo', 'next-exit');
  await engine.startContainer('demo');
  assert.deepEqual(await waited, { StatusCode: 3 });
  const c = (await engine.inspectContainer('demo', false)).container;
  assert.equal(c.State.Running, false);
  assert.equal(c.State.ExitCode, 3);
  assert.notEqual(c.State.FinishedAt, '0001-01-01T00:00:00Z');
  assert.equal(c.LogPath, join(root, 'containers', id, `${id}-json.log`));
  const lines = (await readFile(c.LogPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.stream, l.log]), [['stdout', 'out\n'], ['stderr', 'err\n'], ['stdout', 'no newline']]);
  assert.deepEqual(await collect((await engine.logs('demo', { follow: false, stdout: true, stderr: false, since: 0, until: 0, timestamps: false, tail: 'all' }, new AbortController().signal)).entries),
    ['stdout:out\n', 'stdout:no newline']);
  assert.deepEqual(await collect((await engine.logs('demo', { follow: false, stdout: true, stderr: true, since: 0, until: 0, timestamps: true, tail: 1 }, new AbortController().signal)).entries),
    ['stdout:no newline']);
  assert.equal(specs[0]!.cgroupsPath, `/berth/${id}`);
  assert.equal(specs[0]!.hostname, id.slice(0, 12));
  assert.ok(specs[0]!.env.includes(`HOSTNAME=${id.slice(0, 12)}`));
  assert.deepEqual(specs[0]!.mounts.map((m) => m.destination), ['/etc/resolv.conf', '/etc/hostname', '/etc/hosts']);
  assert.equal(await readFile(join(root, 'containers', id, 'hostname'), 'utf8'), `${id.slice(0, 12)}\n`);
  assert.match(await readFile(join(root, 'containers', id, 'hosts'), 'utf8'), /^127\.0\.0\.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n/);
  assert.deepEqual(events.filter((e) => e.Actor.ID === id).map((e) => e.Action), ['create', 'start', 'die']);
  assert.equal(events.find((e) => e.Action === 'die')!.Actor.Attributes.exitCode, '3');
  assert.ok(rt.calls.includes(`delete ${id}`));
  assert.deepEqual(await engine.waitContainer('demo', 'not-running'), { StatusCode: 3 });
  await assert.rejects(engine.topContainer('demo', ''), { message: `Container ${id} is not running` });
});

test('run --rm: removed after exit, removed-waiters get the exit code, destroy event', async () => {
  const { engine, rt, root, events, images } = await harness();
  rt.onStart = (id) => setTimeout(() => rt.exit(id, 0), 5);
  const { id } = await engine.createContainer({ config: { Image: 'busybox:1.35', Cmd: ['true'] }, hostConfig: { AutoRemove: true, NetworkMode: 'none' } });
  const waited = engine.waitContainer(id, 'removed');
  await engine.startContainer(id);
  assert.deepEqual(await waited, { StatusCode: 0 });
  await assert.rejects(engine.inspectContainer(id, false), NotFoundError);
  await assert.rejects(stat(join(root, 'containers', id)));
  assert.equal(images.rw.has(id), false);
  assert.deepEqual(events.filter((e) => e.Actor.ID === id).map((e) => e.Action), ['create', 'start', 'die', 'destroy']);
});

test('start failure: Docker message and exit code, container stays created with its layer unmounted', async () => {
  const { engine, rt, images } = await harness();
  rt.createError = new Error('runc create failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH');
  const { id } = await engine.createContainer({ name: 'bad', ...run(['nosuchcmd']) });
  await assert.rejects(engine.startContainer('bad'), (e: Error) => e instanceof InvalidArgumentError &&
    e.message === 'failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH: unknown');
  const v = await engine.inspectContainer('bad', false);
  assert.equal(v.status, 'created');
  assert.equal(v.container.State.ExitCode, 127);
  assert.equal(images.rw.get(id)!.mounted, false);
  rt.createError = new Error('runc create failed: unable to start container process: exec: "/etc": permission denied');
  await assert.rejects(engine.startContainer('bad'), /permission denied: unknown$/);
  assert.equal((await engine.inspectContainer('bad', false)).container.State.ExitCode, 126);
  // --rm: a failed start removes the container, as dockerd does
  const { id: rmId } = await engine.createContainer({ config: { Image: 'busybox:1.35', Cmd: ['/etc'] }, hostConfig: { AutoRemove: true } });
  const removed = engine.waitContainer(rmId, 'removed');
  await assert.rejects(engine.startContainer(rmId), /permission denied/);
  assert.deepEqual(await removed, { StatusCode: 126 });
  await assert.rejects(engine.inspectContainer(rmId, false), NotFoundError);
});

test('stop: stop signal, then SIGKILL after the timeout; stop of a stopped container is NotModified', async () => {
  const { engine, rt, events } = await harness();
  rt.exitOn = { SIGKILL: 137 }; // PID 1 ignores SIGTERM
  const { id } = await engine.createContainer({ name: 'sleeper', ...run(['sleep', '1000']) });
  await engine.startContainer('sleeper');
  await assert.rejects(engine.startContainer('sleeper'), NotModifiedError);
  const t0 = Date.now();
  await engine.stopContainer('sleeper', { timeout: 1 });
  assert.ok(Date.now() - t0 >= 900);
  assert.deepEqual(rt.calls.filter((c) => c.startsWith('kill')), [`kill ${id} SIGTERM`, `kill ${id} SIGKILL`]);
  const c = (await engine.inspectContainer('sleeper', false)).container;
  assert.equal(c.State.ExitCode, 137);
  assert.deepEqual(events.filter((e) => e.Actor.ID === id).map((e) => `${e.Action}${e.Actor.Attributes.signal ? ` ${e.Actor.Attributes.signal}` : ''}`),
    ['create', 'start', 'kill 15', 'kill 9', 'die', 'stop']);
  await assert.rejects(engine.stopContainer('sleeper', {}), NotModifiedError);
  // StopSignal from the config, exits at once
  rt.exitOn = { SIGQUIT: 0, SIGKILL: 137 };
  await engine.createContainer({ name: 'nginx', ...run(['nginx'], { StopSignal: 'SIGQUIT' }) });
  await engine.startContainer('nginx');
  const t1 = Date.now();
  await engine.stopContainer('nginx', {});
  assert.ok(Date.now() - t1 < 500);
  assert.equal((await engine.inspectContainer('nginx', false)).container.State.ExitCode, 0);
});

test('kill, pause, unpause, rm, rename: Docker messages', async () => {
  const { engine, rt, events } = await harness();
  const { id } = await engine.createContainer({ name: 'created', ...run(['sleep', '1']) });
  await assert.rejects(engine.killContainer('created'), (e: Error) => e instanceof ConflictError && e.message === `Cannot kill container: created: Container ${id} is not running`);
  await assert.rejects(engine.killContainer('created', 'SIGNOPE'), { message: 'Invalid signal: SIGNOPE' });
  await assert.rejects(engine.pauseContainer('created'), { message: `Container ${id} is not running` });
  await engine.startContainer('created');
  await assert.rejects(engine.unpauseContainer('created'), (e: Error) => e instanceof InvalidArgumentError && e.message === `Container ${id} is not paused`);
  await engine.pauseContainer('created');
  assert.equal((await engine.inspectContainer('created', false)).status, 'paused');
  await assert.rejects(engine.pauseContainer('created'), { message: `Container ${id} is already paused` });
  await assert.rejects(engine.removeContainer('created', { force: false, volumes: false, link: false }),
    { message: `You cannot remove a paused container ${id}. Unpause and then stop the container before attempting removal or force remove` });
  await engine.unpauseContainer('created');
  await assert.rejects(engine.removeContainer('created', { force: false, volumes: false, link: false }),
    (e: Error) => e instanceof ConflictError && e.message === `You cannot remove a running container ${id}. Stop the container before attempting removal or force remove`);
  const { id: other } = await engine.createContainer({ name: 'other', ...run(['true']) });
  await assert.rejects(engine.renameContainer('created', 'other'), (e: Error) => e instanceof ConflictError &&
    e.message === `Error when allocating new name: Conflict. The container name "/other" is already in use by container "${other}". You have to remove (or rename) that container to be able to reuse that name.`);
  await engine.renameContainer('created', 'renamed');
  assert.equal(events.at(-1)!.Action, 'rename');
  assert.equal(events.at(-1)!.Actor.Attributes.oldName, '/created');
  assert.equal(events.at(-1)!.Actor.Attributes.name, 'renamed');
  await assert.rejects(engine.inspectContainer('created', false), NotFoundError);
  const top = await engine.topContainer('renamed', '-ef').catch((e: Error) => e);
  if (!(top instanceof Error)) assert.deepEqual(top.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  const removed = engine.waitContainer('renamed', 'removed');
  await engine.removeContainer('renamed', { force: true, volumes: false, link: false });
  assert.deepEqual(await removed, { StatusCode: 137 });
  assert.ok(rt.calls.includes(`kill ${id} SIGKILL`));
  assert.deepEqual(events.filter((e) => e.Actor.ID === id).map((e) => e.Action).slice(-3), ['kill', 'die', 'destroy']);
  await engine.removeContainer('other', { force: false, volumes: false, link: false });
  assert.equal((await engine.listContainers({ all: true, limit: 0, size: false, filters: {} })).length, 0);
});

test('wait: not-running on a created container returns at once; abort rejects', async () => {
  const { engine } = await harness();
  await engine.createContainer({ name: 'cc', ...run(['true']) });
  assert.deepEqual(await engine.waitContainer('cc', 'not-running'), { StatusCode: 0 });
  assert.deepEqual(await engine.waitContainer('cc', 'bogus'), { StatusCode: 0 });
  const ac = new AbortController();
  const w = engine.waitContainer('cc', 'next-exit', ac.signal);
  ac.abort();
  await assert.rejects(w);
});

test('list: running only by default, filters, limit, and bad filters', async () => {
  const { engine, rt } = await harness();
  rt.onStart = (id) => { if (rt.runs.get(id)!.opts.name.startsWith('ex')) setTimeout(() => rt.exit(id, rt.runs.get(id)!.opts.name === 'ex137' ? 137 : 3), 1); };
  const mk = async (name: string, labels: Record<string, string> = {}, start = true) => {
    const { id } = await engine.createContainer({ name, config: { Image: 'busybox:1.35', Cmd: ['x'], Labels: labels }, hostConfig: {} });
    const w = engine.waitContainer(id, 'next-exit');
    if (start) await engine.startContainer(id);
    if (start && name.startsWith('ex')) await w;
    await sleep(2);
    return id;
  };
  await mk('app1', { tier: 'web' });
  await mk('ex3');
  await mk('ex137', { tier: 'db' });
  await mk('fresh', {}, false);
  const names = async (o: Partial<{ all: boolean; limit: number; filters: Record<string, string[]> }>) =>
    (await engine.listContainers({ all: false, limit: 0, size: false, filters: {}, ...o })).map((v) => v.container.Name.slice(1));
  assert.deepEqual(await names({}), ['app1']);
  assert.deepEqual(await names({ all: true }), ['fresh', 'ex137', 'ex3', 'app1']);
  assert.deepEqual(await names({ filters: { status: ['exited'] } }), ['ex137', 'ex3']);
  assert.deepEqual(await names({ filters: { status: ['created'] } }), ['fresh']);
  assert.deepEqual(await names({ all: true, filters: { name: ['ex'] } }), ['ex137', 'ex3']);
  assert.deepEqual(await names({ all: true, filters: { exited: ['137'] } }), ['ex137']);
  assert.deepEqual(await names({ all: true, filters: { label: ['tier'] } }), ['ex137', 'app1']);
  assert.deepEqual(await names({ all: true, filters: { label: ['tier=db'] } }), ['ex137']);
  assert.deepEqual(await names({ all: true, filters: { ancestor: ['busybox:1.35'] } }), ['fresh', 'ex137', 'ex3', 'app1']);
  assert.deepEqual(await names({ all: true, filters: { before: ['ex137'] } }), ['ex3', 'app1']);
  assert.deepEqual(await names({ all: true, filters: { since: ['ex3'] } }), ['fresh', 'ex137']);
  assert.deepEqual(await names({ limit: 2 }), ['fresh', 'ex137']);
  await assert.rejects(names({ filters: { status: ['bogus'] } }), { message: "Invalid filter 'status=bogus'" });
  await assert.rejects(names({ filters: { nosuchkey: ['x'] } }), { message: "Invalid filter 'nosuchkey'" });
  const pruned = await engine.pruneContainers({});
  assert.equal(pruned.ContainersDeleted.length, 3);
  assert.deepEqual(await names({ all: true }), ['app1']);
});

test('logs follow: new output arrives until the container exits', async () => {
  const { engine, rt } = await harness();
  const { id } = await engine.createContainer({ name: 'ticker', ...run(['sh']) });
  await engine.startContainer(id);
  await rt.log(id, 'stdout', 'tick 1');
  const { entries } = await engine.logs('ticker', { follow: true, stdout: true, stderr: true, since: 0, until: 0, timestamps: false, tail: 'all' }, new AbortController().signal);
  const got = collect(entries);
  await sleep(30);
  await rt.log(id, 'stdout', 'tick 2');
  await sleep(60);
  await rt.log(id, 'stderr', 'bye');
  rt.exit(id, 0);
  assert.deepEqual(await got, ['stdout:tick 1\n', 'stdout:tick 2\n', 'stderr:bye\n']);
});

test('attach before start gets all output; stdin passes, detach keys detach', async () => {
  const { engine, rt } = await harness();
  const { id } = await engine.createContainer({ name: 'att', config: { Image: 'busybox:1.35', Cmd: ['cat'], OpenStdin: true, AttachStdin: true }, hostConfig: {} });
  const a = await engine.attachContainer('att', { stream: true, logs: false, stdin: true, stdout: true, stderr: true });
  const out: string[] = [];
  a.onOutput((s, d) => out.push(`${s}:${d}`));
  a.writeStdin(Buffer.from('early'));
  rt.onStart = (cid) => { for (const x of rt.attached.filter((y) => y.id === cid)) for (const cb of x.data) cb(1, Buffer.from('hello')); };
  await engine.startContainer(id);
  assert.deepEqual(out, ['1:hello']);
  assert.deepEqual(rt.attached[0]!.stdin.map(String), ['early']);
  a.writeStdin(Buffer.from([0x61, 0x10, 0x62, 0x10, 0x11, 0x63]));
  assert.deepEqual(await a.done, { detached: true });
  assert.deepEqual(rt.attached[0]!.stdin.map((b) => [...b]), [[...Buffer.from('early')], [0x61, 0x10, 0x62]]);
  assert.equal((await engine.inspectContainer('att', false)).status, 'running');
});

test('restore: a running container keeps running (live restore), stop works; a pending exit and output written while down are picked up', async () => {
  const h1 = await harness();
  const { id: live } = await h1.engine.createContainer({ name: 'live', ...run(['sleep', '1000']) });
  await h1.engine.startContainer('live');
  await h1.rt.log(live, 'stdout', 'before');
  const { id: gone } = await h1.engine.createContainer({ name: 'gone', ...run(['sh']) });
  await h1.engine.startContainer('gone');
  await h1.rt.log(gone, 'stdout', 'first');
  await h1.engine.logs('gone', { follow: false, stdout: true, stderr: true, since: 0, until: 0, timestamps: false, tail: 'all' }, new AbortController().signal);
  // berthd goes away (live-restore: containers keep running); meanwhile 'gone' writes more and exits
  await h1.engine.shutdown();
  await h1.rt.log(gone, 'stderr', 'while down');
  h1.rt.exits.set(gone, { exitCode: 7, oomKilled: false, finishedAt: new Date() });
  const h2 = await harness(h1.root, h1.rt, h1.images);
  const g = (await h2.engine.inspectContainer('gone', false)).container;
  assert.equal(g.State.Running, false);
  assert.equal(g.State.ExitCode, 7);
  assert.deepEqual(await collect((await h2.engine.logs('gone', { follow: false, stdout: true, stderr: true, since: 0, until: 0, timestamps: false, tail: 'all' }, new AbortController().signal)).entries),
    ['stdout:first\n', 'stderr:while down\n']);
  assert.equal((await h2.engine.inspectContainer('live', false)).status, 'running');
  await h2.rt.log(live, 'stdout', 'after');
  await h2.engine.stopContainer('live', { timeout: 5 });
  const l = (await h2.engine.inspectContainer('live', false)).container;
  assert.equal(l.State.ExitCode, 143);
  assert.deepEqual(await collect((await h2.engine.logs('live', { follow: false, stdout: true, stderr: true, since: 0, until: 0, timestamps: false, tail: 'all' }, new AbortController().signal)).entries),
    ['stdout:before\n', 'stdout:after\n']);
});

test('restore: a container whose monitor died without an exit file is marked exited', async () => {
  const h1 = await harness();
  const { id } = await h1.engine.createContainer({ name: 'xx', ...run(['sleep', '1000']) });
  await h1.engine.startContainer('xx');
  await h1.engine.shutdown();
  h1.rt.alive.clear();
  const h2 = await harness(h1.root, h1.rt, h1.images);
  const c = (await h2.engine.inspectContainer(id, false)).container;
  assert.equal(c.State.Running, false);
  assert.equal(c.State.ExitCode, 255);
});

test('shutdown without live-restore stops running containers', async () => {
  const root = await tempRoot();
  const rt = new FakeRuntime();
  const images = fakeImages();
  const engine = createEngine({
    root, execRoot: join(root, 'run'), image: images, runtime: rt, buildSpec: () => ({ ociVersion: '1.0.2' }),
    config: { liveRestore: false, defaultRuntime: 'runc', runtimes: { runc: { path: 'runc' } }, logDriver: 'json-file', logOpts: {}, initPath: '', debug: false, dns: [], dnsSearch: [], dnsOptions: [], insecureRegistries: [], registryMirrors: [], labels: [], experimental: false, cgroupParent: '/berth' },
  });
  await engine.restore();
  const { id } = await engine.createContainer(run(['sleep', '1000']));
  await engine.startContainer(id);
  await engine.shutdown();
  const saved = JSON.parse(await readFile(join(root, 'containers', id, 'config.v2.json'), 'utf8'));
  assert.equal(saved.State.Running, false);
  assert.equal(saved.State.ExitCode, 143);
});

test('events: since replay and filters', async () => {
  const { engine, rt } = await harness();
  rt.onStart = (id) => setTimeout(() => rt.exit(id, 1), 1);
  const t0 = Date.now() / 1000 - 1;
  const { id } = await engine.createContainer({ name: 'ev', ...run(['false'], { Labels: { app: 'x' } }) });
  const w = engine.waitContainer(id, 'next-exit');
  await engine.startContainer(id);
  await w;
  const got: string[] = [];
  const unsub = engine.subscribeEvents({ since: t0, until: Date.now() / 1000 + 0.001, filters: { type: ['container'], event: ['die'], label: ['app=x'] } }, (e) => got.push(`${e.Action} ${e.Actor.Attributes.exitCode}`));
  unsub();
  assert.deepEqual(got, ['die 1']);
  const none: string[] = [];
  engine.subscribeEvents({ since: t0, filters: { container: ['other'] } }, (e) => none.push(e.Action))();
  assert.deepEqual(none, []);
});

test('restart: stop then start, events as dockerd, and a --rm container survives it', async () => {
  const { engine, events } = await harness();
  const { id } = await engine.createContainer({ config: { Image: 'busybox:1.35', Cmd: ['sleep', '1000'] }, hostConfig: { AutoRemove: true } });
  await engine.startContainer(id);
  const pid1 = (await engine.inspectContainer(id, false)).container.State.Pid;
  await engine.restartContainer(id, { timeout: 1 });
  const c = (await engine.inspectContainer(id, false)).container;
  assert.equal(c.State.Running, true);
  assert.notEqual(c.State.Pid, pid1);
  assert.deepEqual(events.filter((e) => e.Actor.ID === id).map((e) => e.Action), ['create', 'start', 'kill', 'die', 'stop', 'start', 'restart']);
  await engine.killContainer(id);
  await sleep(20);
  await assert.rejects(engine.inspectContainer(id, false), NotFoundError);
});

test('systemd cgroup driver: cgroupsPath slice:berth:<id>, info says systemd, a parent must be a slice', async () => {
  const { engine, specs } = await harness(undefined, undefined, undefined, { cgroupDriver: 'systemd', cgroupParent: '' });
  const { id } = await engine.createContainer(run(['true']));
  await engine.startContainer(id);
  assert.equal(specs[0]!.cgroupsPath, `system.slice:berth:${id}`);
  assert.equal((await engine.info()).cgroupDriver, 'systemd');
  await assert.rejects(engine.createContainer({ ...run(['true']), hostConfig: { CgroupParent: '/mine' } }),
    { name: 'InvalidArgumentError', message: 'cgroup-parent for systemd cgroup should be a valid slice named as "xxx.slice"' });
  const other = await engine.createContainer({ ...run(['true']), hostConfig: { CgroupParent: 'mine.slice' } });
  await engine.startContainer(other.id);
  assert.equal(specs[1]!.cgroupsPath, `mine.slice:berth:${other.id}`);
});
