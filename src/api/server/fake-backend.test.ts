/**
 * An in-memory EngineBackend for the API server's tests (no root, no runc). Containers run a tiny
 * script language: `echo X`, `echo X >&2`, `exit N`, `cat` (stdin → stdout), `sleep N`.
 */
import { randomBytes } from 'node:crypto';
import { Readable, type Writable } from 'node:stream';
import type {
  EngineBackend, ContainerView, Container, CreateContainerRequest, AttachOptions, AttachStreams, LogEntry,
  LogsOptions, EngineEvent, SystemInfo, ListContainersOptions, HostConfig, ContainerConfig, NetworkView, NetworkCreateRequest, EndpointRequest,
} from '../../engine/index.ts';
import type { ImageRecord, DeleteItem, HistoryItem, ImportOptions, GraphDriverData } from '../../image/index.ts';
import { ConflictError, NotFoundError, NotModifiedError, InvalidArgumentError, FailedPreconditionError, ForbiddenError } from '../../lib/index.ts';

const ZERO = '0001-01-01T00:00:00Z';
const nowIso = () => new Date().toISOString().replace('Z', '123456Z');

export const BUSYBOX_ID = 'sha256:0dcfc6fe9a7500e1890a91bb2ebbf9d6ba7ccce571029f6aefcfe633b6a89a09';

export function busyboxImage(): ImageRecord {
  return {
    id: BUSYBOX_ID,
    config: {
      architecture: 'amd64', os: 'linux', created: '2026-11-23T00:00:00Z',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: ['sha256:6d418b0888b2fd1905932342cafe1c4db1e2576b1f14116479eaa786fb394364'] },
    },
    repoTags: ['busybox:1.35', 'busybox:latest'],
    repoDigests: [],
    size: 1985590,
    parent: '',
  };
}

interface Proc {
  stdin: string[];
  stdinClosed: boolean;
  onStdin?: (() => void) | undefined;
  timer?: NodeJS.Timeout;
  finish(code: number): void;
}

interface Attachment { tty: boolean; cbs: ((s: 1 | 2, d: Buffer) => void)[]; resolve: (v: { detached: boolean }) => void; stdin: boolean }

interface Entry {
  c: Container;
  logs: LogEntry[];
  attachments: Set<Attachment>;
  exitWaiters: ((code: number) => void)[];
  removeWaiters: ((code: number) => void)[];
  proc?: Proc | undefined;
  earlyStdin: string[];
  earlyStdinClosed: boolean;
  logFollowers: Set<() => void>;
}

function defaultHostConfig(h: Partial<HostConfig>): HostConfig {
  return {
    Binds: null, ContainerIDFile: '', LogConfig: { Type: 'json-file', Config: {} }, NetworkMode: 'default', PortBindings: {},
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false, VolumeDriver: '', VolumesFrom: null, CapAdd: null, CapDrop: null,
    CgroupnsMode: 'host', Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, GroupAdd: null, IpcMode: 'private', Cgroup: '', Links: null,
    OomScoreAdj: 0, PidMode: '', Privileged: false, PublishAllPorts: false, ReadonlyRootfs: false, SecurityOpt: null, UTSMode: '', UsernsMode: '',
    ShmSize: 67108864, Runtime: 'runc', ConsoleSize: [0, 0], Isolation: '', CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '', BlkioWeight: 0,
    BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [], CpuPeriod: 0,
    CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '', Devices: [], DeviceCgroupRules: null,
    DeviceRequests: null, KernelMemory: 0, KernelMemoryTCP: 0, MemoryReservation: 0, MemorySwap: 0, MemorySwappiness: null, OomKillDisable: false,
    PidsLimit: null, Ulimits: null, CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
    MaskedPaths: ['/proc/asound'], ReadonlyPaths: ['/proc/bus'],
    ...h,
  } as HostConfig;
}

export class FakeBackend implements EngineBackend {
  containers = new Map<string, Entry>();
  images: ImageRecord[] = [busyboxImage()];
  events: EngineEvent[] = [];
  subscribers = new Set<(e: EngineEvent) => void>();
  calls: string[] = [];

  emit(type: EngineEvent['Type'], action: string, id: string, attrs: Record<string, string> = {}): void {
    const ms = Date.now();
    const e: EngineEvent = { Type: type, Action: action, Actor: { ID: id, Attributes: attrs }, scope: 'local', time: Math.floor(ms / 1000), timeNano: ms * 1e6 };
    this.events.push(e);
    for (const s of this.subscribers) s(e);
  }

  #find(ref: string): Entry {
    const r = ref.replace(/^\//, '');
    for (const e of this.containers.values()) if (e.c.Name === `/${r}` || e.c.ID === r) return e;
    const pre = [...this.containers.values()].filter((e) => e.c.ID.startsWith(r));
    if (pre.length === 1) return pre[0]!;
    throw new NotFoundError(`No such container: ${ref}`);
  }

  #image(ref: string): ImageRecord {
    const r = ref.includes(':') || ref.startsWith('sha256') ? ref : `${ref}:latest`;
    const img = this.images.find((i) => i.repoTags.includes(r) || i.id === ref || i.id.startsWith(`sha256:${ref}`) || i.id.startsWith(ref));
    if (!img) throw new NotFoundError(`No such image: ${r}`);
    return img;
  }

  #view(e: Entry): ContainerView {
    const s = e.c.State;
    const status = s.Running ? (s.Paused ? 'paused' : 'running') : s.StartedAt === ZERO ? 'created' : 'exited';
    return { container: e.c, status, imageName: e.c.Config.Image, graphDriver: { MergedDir: '/x/merged', UpperDir: '/x/diff', WorkDir: '/x/work', LowerDir: '/x/l' } };
  }

  async info(): Promise<SystemInfo> {
    const all = [...this.containers.values()];
    const running = all.filter((e) => e.c.State.Running).length;
    return {
      id: 'ABCD:EFGH', containers: all.length, running, paused: 0, stopped: all.length - running, images: this.images.length,
      dataRoot: '/tmp', execRoot: '/run/berth', cgroupDriver: 'cgroupfs', cgroupVersion: '1', runtimes: { runc: { path: 'runc' } },
      defaultRuntime: 'runc', debug: false, liveRestore: false, kernelVersion: '6.1.0-test', operatingSystem: 'Debian GNU/Linux 12 (bookworm)',
      ncpu: 2, memTotal: 25276063744, name: 'vm', insecureRegistries: ['myreg:5000'], registryMirrors: [], loggingDriver: 'json-file',
      initPath: '/usr/bin/tini-static', serverVersion: '0.1.0', labels: [], experimental: false,
    };
  }

  async diskUsage() {
    return { layersSize: 1985590, images: this.images, containers: [...this.containers.values()].map((e) => this.#view(e)), imageContainers: await this.imagesInUse(), volumes: [] };
  }

  subscribeEvents(opts: { since?: number; until?: number; filters: Record<string, string[]> }, cb: (e: EngineEvent) => void): () => void {
    const match = (e: EngineEvent) => (!opts.filters.type || opts.filters.type.includes(e.Type)) && (!opts.filters.event || opts.filters.event.includes(e.Action));
    if (opts.since !== undefined) for (const e of this.events) if (e.time >= opts.since && match(e)) cb(e);
    const live = (e: EngineEvent) => { if (match(e)) cb(e); };
    this.subscribers.add(live);
    return () => this.subscribers.delete(live);
  }

  async createContainer(req: CreateContainerRequest): Promise<{ id: string; warnings: string[] }> {
    const img = this.#image(req.config.Image ?? '');
    const name = req.name ?? `fake_${this.containers.size}`;
    for (const e of this.containers.values()) {
      if (e.c.Name === `/${name}`) throw new ConflictError(`Conflict. The container name "/${name}" is already in use by container "${e.c.ID}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    const id = randomBytes(32).toString('hex');
    const cmd = req.config.Cmd?.length ? req.config.Cmd : img.config.config?.Cmd ?? [];
    const config = {
      Hostname: id.slice(0, 12), Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false,
      OpenStdin: false, StdinOnce: false, Env: img.config.config?.Env ?? null, Cmd: cmd, Image: req.config.Image ?? '', Volumes: null,
      WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: {}, ...req.config,
    } as ContainerConfig;
    config.Cmd = cmd;
    const c = {
      ID: id, Created: nowIso(), Path: cmd[0] ?? '', Args: cmd.slice(1), Config: config, Image: img.id,
      NetworkSettings: { Bridge: '', SandboxID: '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, Ports: {}, SandboxKey: '', Networks: {} },
      LogPath: `/var/lib/berth/containers/${id}/${id}-json.log`, Name: `/${name}`, Driver: 'overlay2', OS: 'linux', RestartCount: 0,
      HasBeenStartedBefore: false, HasBeenManuallyStopped: false, MountPoints: {}, HostnamePath: '', HostsPath: '', ResolvConfPath: '', ShmPath: '',
      AppArmorProfile: '', NoNewPrivileges: false,
      State: { Running: false, Paused: false, Restarting: false, OOMKilled: false, RemovalInProgress: false, Dead: false, Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO, FinishedAt: ZERO, Health: null },
      HostConfig: defaultHostConfig(req.hostConfig),
      Berth: { ConmonPid: 0, Runtime: 'runc', LogOffset: 0, BootId: '' },
    } as Container;
    this.containers.set(id, { c, logs: [], attachments: new Set(), exitWaiters: [], removeWaiters: [], logFollowers: new Set(), earlyStdin: [], earlyStdinClosed: false });
    this.emit('container', 'create', id, { image: config.Image, name });
    return { id, warnings: [] };
  }

  async listContainers(opts: ListContainersOptions): Promise<ContainerView[]> {
    let list = [...this.containers.values()].filter((e) => opts.all || e.c.State.Running).map((e) => this.#view(e));
    if (opts.filters.name) list = list.filter((v) => opts.filters.name!.some((n) => v.container.Name.includes(n)));
    list.reverse();
    return opts.limit > 0 ? list.slice(0, opts.limit) : list;
  }

  async inspectContainer(ref: string, size: boolean): Promise<ContainerView> {
    const v = this.#view(this.#find(ref));
    if (size) { v.sizeRw = 12; v.sizeRootFs = 1985602; }
    return v;
  }

  #output(e: Entry, stream: 1 | 2, text: string): void {
    const line = Buffer.from(text);
    e.logs.push({ stream: stream === 1 ? 'stdout' : 'stderr', time: new Date().toISOString().replace('Z', '5Z'), line });
    for (const a of e.attachments) for (const cb of a.cbs) cb(stream, line);
    for (const f of e.logFollowers) f();
  }

  #exit(e: Entry, code: number): void {
    const s = e.c.State;
    if (!s.Running) return;
    s.Running = false; s.Paused = false; s.Pid = 0; s.ExitCode = code; s.FinishedAt = nowIso();
    e.proc = undefined;
    this.emit('container', 'die', e.c.ID, { exitCode: String(code), image: e.c.Config.Image, name: e.c.Name.slice(1) });
    for (const a of e.attachments) a.resolve({ detached: false });
    e.attachments.clear();
    for (const f of e.logFollowers) f();
    const ws = e.exitWaiters.splice(0);
    for (const w of ws) w(code);
    if (e.c.HostConfig.AutoRemove) setTimeout(() => this.#remove(e), 5);
  }

  #remove(e: Entry): void {
    this.containers.delete(e.c.ID);
    this.emit('container', 'destroy', e.c.ID, { image: e.c.Config.Image, name: e.c.Name.slice(1) });
    for (const w of e.removeWaiters.splice(0)) w(e.c.State.ExitCode);
  }

  async startContainer(ref: string): Promise<void> {
    const e = this.#find(ref);
    const s = e.c.State;
    if (s.Running) throw new NotModifiedError('container already started');
    s.Running = true; s.Pid = 4242; s.StartedAt = nowIso(); s.FinishedAt = ZERO; s.ExitCode = 0;
    this.emit('container', 'start', e.c.ID, { image: e.c.Config.Image, name: e.c.Name.slice(1) });
    const argv = [e.c.Path, ...e.c.Args];
    const script = argv[0] === 'sh' && argv[1] === '-c' ? argv[2] ?? '' : argv.join(' ');
    const proc: Proc = { stdin: e.earlyStdin.splice(0), stdinClosed: e.earlyStdinClosed, finish: (code) => this.#exit(e, code) };
    e.proc = proc;
    const steps = script.split(';').map((x) => x.trim()).filter(Boolean);
    const run = (i: number): void => {
      if (e.proc !== proc) return;
      if (i >= steps.length) return proc.finish(0);
      const st = steps[i]!;
      let m;
      if ((m = /^echo (.*?)( >&2)?$/.exec(st))) { this.#output(e, m[2] ? 2 : 1, `${m[1]}\n`); return run(i + 1); }
      if ((m = /^exit (\d+)$/.exec(st))) return proc.finish(Number(m[1]));
      if ((m = /^sleep (\d+)$/.exec(st))) { proc.timer = setTimeout(() => run(i + 1), Number(m[1]) * 1000); proc.timer.unref(); return; }
      if (st === 'cat') {
        const pump = () => {
          for (const d of proc.stdin.splice(0)) this.#output(e, 1, d);
          if (proc.stdinClosed || !e.c.Config.OpenStdin) { proc.onStdin = undefined; run(i + 1); }
        };
        proc.onStdin = pump;
        pump();
        return;
      }
      this.#output(e, 2, `unknown: ${st}\n`);
      proc.finish(127);
    };
    setTimeout(() => run(0), 20);
  }

  async stopContainer(ref: string): Promise<void> {
    const e = this.#find(ref);
    if (!e.c.State.Running) throw new NotModifiedError('container already stopped');
    if (e.proc?.timer) clearTimeout(e.proc.timer);
    this.#exit(e, 143);
  }

  async restartContainer(ref: string): Promise<void> {
    const e = this.#find(ref);
    if (e.c.State.Running) this.#exit(e, 143);
    await this.startContainer(ref);
  }

  async killContainer(ref: string, signal?: string): Promise<void> {
    const e = this.#find(ref);
    if (signal === 'SIGNOPE') throw new InvalidArgumentError('Invalid signal: SIGNOPE');
    if (!e.c.State.Running) throw new ConflictError(`Cannot kill container: ${ref}: Container ${e.c.ID} is not running`);
    if (e.proc?.timer) clearTimeout(e.proc.timer);
    this.#exit(e, 137);
  }

  async pauseContainer(ref: string): Promise<void> {
    const e = this.#find(ref);
    if (!e.c.State.Running) throw new ConflictError(`Container ${e.c.ID} is not running`);
    if (e.c.State.Paused) throw new ConflictError(`Container ${e.c.ID} is already paused`);
    e.c.State.Paused = true;
  }

  async unpauseContainer(ref: string): Promise<void> {
    const e = this.#find(ref);
    if (!e.c.State.Paused) throw new FailedPreconditionError(`Container ${e.c.ID} is not paused`);
    e.c.State.Paused = false;
  }

  waitContainer(ref: string, condition: string, signal?: AbortSignal): Promise<{ StatusCode: number }> {
    let e: Entry;
    try { e = this.#find(ref); } catch (err) { return Promise.reject(err); }
    return new Promise((resolve, reject) => {
      const done = (code: number) => resolve({ StatusCode: code });
      if (condition === 'removed') e.removeWaiters.push(done);
      else if (condition === 'next-exit' || e.c.State.Running) e.exitWaiters.push(done);
      else done(e.c.State.ExitCode);
      signal?.addEventListener('abort', () => reject(new Error('aborted')));
    });
  }

  async removeContainer(ref: string, opts: { force: boolean }): Promise<void> {
    const e = this.#find(ref);
    if (e.c.State.Running && !opts.force) {
      throw new ConflictError(`You cannot remove a running container ${e.c.ID}. Stop the container before attempting removal or force remove`);
    }
    if (e.c.State.Running) this.#exit(e, 137);
    this.#remove(e);
  }

  async renameContainer(ref: string, newName: string): Promise<void> {
    this.#find(ref).c.Name = `/${newName}`;
  }

  async topContainer(ref: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    const e = this.#find(ref);
    if (!e.c.State.Running) throw new ConflictError(`Container ${e.c.ID} is not running`);
    return { Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], Processes: [['root', '4242', '4200', '0', '14:14', '?', '00:00:00', 'sleep 100']] };
  }

  async logs(ref: string, opts: LogsOptions, signal: AbortSignal): Promise<{ tty: boolean; entries: AsyncIterable<LogEntry> }> {
    const e = this.#find(ref);
    const pick = (l: LogEntry) => (l.stream === 'stdout' ? opts.stdout : opts.stderr);
    async function* gen(): AsyncGenerator<LogEntry> {
      let list = e.logs.filter(pick);
      if (opts.tail !== 'all') list = opts.tail === 0 ? [] : list.slice(-opts.tail);
      let seen = e.logs.length;
      yield* list;
      while (opts.follow && e.c.State.Running && !signal.aborted) {
        await new Promise<void>((r) => { const f = () => { e.logFollowers.delete(f); r(); }; e.logFollowers.add(f); signal.addEventListener('abort', f); });
        const fresh = e.logs.slice(seen).filter(pick);
        seen = e.logs.length;
        yield* fresh;
      }
    }
    return { tty: e.c.Config.Tty, entries: gen() };
  }

  async attachContainer(ref: string, opts: AttachOptions): Promise<AttachStreams> {
    const e = this.#find(ref);
    if (e.c.State.Paused) throw new ConflictError(`container ${ref} is paused, unpause the container before attach`);
    let resolve!: (v: { detached: boolean }) => void;
    const done = new Promise<{ detached: boolean }>((r) => { resolve = r; });
    const a: Attachment = { tty: e.c.Config.Tty, cbs: [], resolve, stdin: opts.stdin };
    const streamsOut = (s: 1 | 2) => (s === 1 ? opts.stdout : opts.stderr);
    if (opts.stream) e.attachments.add(a);
    else queueMicrotask(() => resolve({ detached: false }));
    return {
      tty: a.tty,
      onOutput: (cb) => {
        a.cbs.push((s, d) => { if (streamsOut(s)) cb(s, d); });
        if (opts.logs) for (const l of e.logs) { const s = l.stream === 'stdout' ? 1 : 2; if (streamsOut(s)) cb(s, l.line); }
      },
      done,
      writeStdin: (d) => { if (e.proc) { e.proc.stdin.push(d.toString()); e.proc.onStdin?.(); } else e.earlyStdin.push(d.toString()); },
      closeStdin: () => {
        this.calls.push('closeStdin');
        const p = e.proc;
        if (p) { p.stdinClosed = true; p.onStdin?.(); } else e.earlyStdinClosed = true;
      },
      close: () => { e.attachments.delete(a); resolve({ detached: false }); },
    };
  }


  async resizeContainer(): Promise<void> {}
  async pruneContainers(): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    const del = [...this.containers.values()].filter((e) => !e.c.State.Running);
    for (const e of del) this.#remove(e);
    return { ContainersDeleted: del.map((e) => e.c.ID), SpaceReclaimed: 0 };
  }
  async exportContainer(ref: string, out: Writable): Promise<void> {
    this.#find(ref);
    out.write(Buffer.alloc(1024));
  }

  async listImages(): Promise<ImageRecord[]> { return this.images; }
  async inspectImage(ref: string): Promise<{ image: ImageRecord; graphDriver: GraphDriverData }> {
    return { image: this.#image(ref), graphDriver: { MergedDir: '/o/merged', UpperDir: '/o/diff', WorkDir: '/o/work' } };
  }
  async imageHistory(ref: string): Promise<HistoryItem[]> {
    const img = this.#image(ref);
    return [
      { Id: img.id, Created: 1795392000, CreatedBy: 'CMD ["sh"]', Tags: img.repoTags, Size: 0, Comment: '' },
      { Id: '<missing>', Created: 1795392000, CreatedBy: 'ADD file:abc in / ', Tags: null, Size: 1985590, Comment: '' },
    ];
  }
  async tagImage(source: string, repo: string, tag: string): Promise<void> {
    const img = this.#image(source);
    if (repo !== repo.toLowerCase()) throw new InvalidArgumentError('invalid reference format: repository name must be lowercase');
    img.repoTags.push(`${repo.replace(/^docker\.io\/(library\/)?/, '')}:${tag || 'latest'}`);
  }
  async removeImage(ref: string, opts: { force: boolean }): Promise<DeleteItem[]> {
    const img = this.#image(ref);
    const user = [...this.containers.values()].find((e) => e.c.Image === img.id);
    const tag0 = img.repoTags.find((t) => t === ref || t === `${ref}:latest`);
    if (user && !opts.force && !(tag0 && img.repoTags.length > 1)) throw new ConflictError(`conflict: unable to remove repository reference "${ref}" (must force) - container ${user.c.ID.slice(0, 12)} is using its referenced image ${img.id.slice(7, 19)}`);
    const tag = img.repoTags.find((t) => t === ref || t === `${ref}:latest`);
    if (tag && img.repoTags.length > 1) { img.repoTags = img.repoTags.filter((t) => t !== tag); return [{ Untagged: tag }]; }
    this.images = this.images.filter((i) => i !== img);
    return [...img.repoTags.map((t) => ({ Untagged: t })), { Deleted: img.id }];
  }
  async loadImages(input: Readable, onProgress: (line: string) => void): Promise<string[]> {
    let n = 0;
    for await (const c of input) n += (c as Buffer).length;
    if (n < 10) throw new InvalidArgumentError('unexpected EOF');
    onProgress('Loaded image: busybox:1.35');
    return ['Loaded image: busybox:1.35', 'Loaded image: busybox:latest'];
  }
  async saveImages(refs: string[], out: Writable): Promise<void> {
    for (const r of refs) if (!this.images.some((i) => i.repoTags.includes(r))) throw new NotFoundError('reference does not exist');
    await new Promise<void>((res) => out.write(Buffer.alloc(2048, 1), () => res()));
  }
  lastImport?: ImportOptions;
  async importImage(input: Readable, opts: ImportOptions): Promise<string> {
    for await (const _ of input) { /* drain */ }
    this.lastImport = opts;
    return 'sha256:88be4a125cca6fefae1cb8a348989b4b6f009de867b4ca0d70534c7e60d7ff75';
  }
  async pruneImages(): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }> { return { deleted: [], spaceReclaimed: 0 }; }
  async imagesInUse(): Promise<Map<string, number>> {
    const m = new Map<string, number>();
    for (const e of this.containers.values()) m.set(e.c.Image, (m.get(e.c.Image) ?? 0) + 1);
    return m;
  }

  // the builder's needs: no builds in memory
  async buildImage(ref: string): ReturnType<EngineBackend['buildImage']> { throw new NotFoundError(`No such image: ${ref}`); }
  async buildChildren(): ReturnType<EngineBackend['buildChildren']> { return []; }
  async buildCommit(): Promise<string> { throw new Error('no builds in the fake backend'); }
  async buildLayer(): ReturnType<EngineBackend['buildLayer']> { throw new Error('no builds in the fake backend'); }
  async dropBuildLayer(): Promise<void> {}
  buildScratchDir(): string { return '/nonexistent/berth-fake-builder'; }

  // volumes (in memory; no container uses them)
  volumes = new Map<string, Awaited<ReturnType<EngineBackend['inspectVolume']>>>();
  async listVolumes(): ReturnType<EngineBackend['listVolumes']> { return [...this.volumes.values()]; }
  async inspectVolume(name: string): ReturnType<EngineBackend['inspectVolume']> {
    const v = this.volumes.get(name);
    if (!v) throw new NotFoundError(`get ${name}: no such volume`);
    return v;
  }
  async createVolume(o: Parameters<EngineBackend['createVolume']>[0]): ReturnType<EngineBackend['createVolume']> {
    const name = o.name || randomBytes(32).toString('hex');
    const v = this.volumes.get(name) ?? {
      Name: name, Driver: o.driver || 'local', Mountpoint: `/var/lib/berth/volumes/${name}/_data`, CreatedAt: '2026-11-23T14:18:04Z',
      Labels: o.labels ?? null, Options: o.driverOpts ?? null, Scope: 'local' as const,
    };
    this.volumes.set(name, v);
    return v;
  }
  async removeVolume(name: string, force: boolean): Promise<void> {
    if (!this.volumes.delete(name) && !force) throw new NotFoundError(`get ${name}: no such volume`);
  }
  async pruneVolumes(): ReturnType<EngineBackend['pruneVolumes']> {
    const names = [...this.volumes.keys()];
    this.volumes.clear();
    return { VolumesDeleted: names, SpaceReclaimed: 0 };
  }

  // networks (in memory: records and endpoints, no plumbing)
  networks: NetworkView[] = [
    ['none', 'null', null, []], ['host', 'host', null, []], ['bridge', 'bridge', null, [{ Subnet: '172.17.0.0/16' }]],
  ].map(([name, driver, opts, config], i) => ({
    network: {
      Name: name as string, Id: (String(i + 1).repeat(64)), Created: '2026-11-23T14:12:27.23680528Z', Driver: driver as string, EnableIPv6: false,
      IPAM: { Driver: 'default', Options: opts as null, Config: config as { Subnet: string }[] }, Internal: false, Attachable: false, Ingress: false,
      Options: name === 'bridge' ? { 'com.docker.network.bridge.name': 'berth0', 'com.docker.network.bridge.default_bridge': 'true' } : {}, Labels: {},
    },
    containers: {},
  }));
  #network(ref: string): NetworkView {
    const n = this.networks.find((v) => v.network.Name === ref) ?? this.networks.find((v) => v.network.Id === ref);
    if (n) return n;
    const byPrefix = this.networks.filter((v) => v.network.Id.startsWith(ref));
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw new InvalidArgumentError(`network ${ref} is ambiguous (${byPrefix.length} matches found based on ID prefix)`);
    throw new NotFoundError(`network ${ref} not found`);
  }
  async listNetworks(filters: Record<string, string[]>): ReturnType<EngineBackend['listNetworks']> {
    return this.networks.filter((v) => !filters.name || filters.name.some((n) => v.network.Name.includes(n)));
  }
  async inspectNetwork(ref: string): ReturnType<EngineBackend['inspectNetwork']> { return this.#network(ref); }
  async createNetwork(req: NetworkCreateRequest): ReturnType<EngineBackend['createNetwork']> {
    this.calls.push(`createNetwork ${JSON.stringify(req)}`);
    const dup = this.networks.find((v) => v.network.Name === req.Name);
    if (dup && req.CheckDuplicate) throw new ConflictError(`network with name ${req.Name} already exists`);
    const id = randomBytes(32).toString('hex');
    const n = 18 + this.networks.length - 3;
    this.networks.push({
      network: {
        Name: req.Name, Id: id, Created: nowIso(), Driver: req.Driver || 'bridge', EnableIPv6: req.EnableIPv6 ?? false,
        IPAM: { Driver: req.IPAM?.Driver || 'default', Options: req.IPAM?.Options ?? null, Config: req.IPAM?.Config?.length ? req.IPAM.Config : [{ Subnet: `172.${n}.0.0/16`, Gateway: `172.${n}.0.1` }] },
        Internal: req.Internal ?? false, Attachable: req.Attachable ?? false, Ingress: false, Options: req.Options ?? {}, Labels: req.Labels ?? {},
      },
      containers: {},
    });
    return { id, warning: dup ? `Network with name ${req.Name} (id : ${dup.network.Id}) already exists` : '' };
  }
  async removeNetwork(ref: string): Promise<void> {
    const v = this.#network(ref);
    if (['bridge', 'host', 'none'].includes(v.network.Name)) throw new ForbiddenError(`${v.network.Name} is a pre-defined network and cannot be removed`);
    if (Object.keys(v.containers).length) throw new ForbiddenError(`error while removing network: network ${v.network.Name} id ${v.network.Id} has active endpoints`);
    this.networks.splice(this.networks.indexOf(v), 1);
  }
  async pruneNetworks(): ReturnType<EngineBackend['pruneNetworks']> {
    const gone = this.networks.filter((v) => !['bridge', 'host', 'none'].includes(v.network.Name) && !Object.keys(v.containers).length);
    this.networks = this.networks.filter((v) => !gone.includes(v));
    return gone.map((v) => v.network.Name);
  }
  async connectNetwork(ref: string, container: string, endpoint: EndpointRequest): Promise<void> {
    this.calls.push(`connectNetwork ${ref} ${container} ${JSON.stringify(endpoint)}`);
    const e = this.#find(container);
    const v = this.#network(ref);
    if (v.containers[e.c.ID]) throw new ForbiddenError(`endpoint with name ${e.c.Name.slice(1)} already exists in network ${v.network.Name}`);
    const k = Object.keys(v.containers).length + 2;
    v.containers[e.c.ID] = { Name: e.c.Name.slice(1), EndpointID: 'e'.repeat(64), MacAddress: `02:42:ac:12:00:0${k}`, IPv4Address: `172.18.0.${k}/16`, IPv6Address: '' };
  }
  async disconnectNetwork(ref: string, container: string, force: boolean): Promise<void> {
    this.calls.push(`disconnectNetwork ${ref} ${container} ${force}`);
    const e = this.#find(container);
    const v = this.#network(ref);
    if (!v.containers[e.c.ID]) throw new InvalidArgumentError(`container ${e.c.ID} is not connected to network ${v.network.Name}`);
    delete v.containers[e.c.ID];
  }

  // Not faked: the routes that call these are tested against the real engine (test/integration).
  #notFaked(name: string): never { throw new Error(`FakeBackend: ${name} is not faked`); }
  async containerStatPath(): ReturnType<EngineBackend['containerStatPath']> { return this.#notFaked('containerStatPath'); }
  async containerArchivePath(): ReturnType<EngineBackend['containerArchivePath']> { return this.#notFaked('containerArchivePath'); }
  async containerExtractToDir(): ReturnType<EngineBackend['containerExtractToDir']> { return this.#notFaked('containerExtractToDir'); }
  async containerChanges(): ReturnType<EngineBackend['containerChanges']> { return this.#notFaked('containerChanges'); }
  async containerStats(): ReturnType<EngineBackend['containerStats']> { return this.#notFaked('containerStats'); }
  async updateContainer(): ReturnType<EngineBackend['updateContainer']> { return this.#notFaked('updateContainer'); }
  async commitContainer(): ReturnType<EngineBackend['commitContainer']> { return this.#notFaked('commitContainer'); }
  async createExec(): ReturnType<EngineBackend['createExec']> { return this.#notFaked('createExec'); }
  async inspectExec(): ReturnType<EngineBackend['inspectExec']> { return this.#notFaked('inspectExec'); }
  async startExec(): ReturnType<EngineBackend['startExec']> { return this.#notFaked('startExec'); }
  async resizeExec(): ReturnType<EngineBackend['resizeExec']> { return this.#notFaked('resizeExec'); }
}

export { Readable };
