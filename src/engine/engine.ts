/**
 * The engine: containers' store, lifecycle, exits, logs, attach and events, on top of the image
 * service and the runtime driver it is given (cmd/daemon.ts wires the real ones; tests use fakes).
 */
import { mkdir, readdir, readFile, writeFile, rm, lstat, rename } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { constants as osConstants, cpus, totalmem, release, hostname as osHostname } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import {
  ConflictError, InvalidArgumentError, NotFoundError, NotModifiedError, NotImplementedError, SystemError, CanceledError, EngineError,
  atomicWriteJson, readJson, removeAll, lexicalJoin, newId, randomName, shortId, log, run as runTool, KeyedMutex, errno,
} from '../lib/index.ts';
import type { ImageService, ImageRecord, DeleteItem, HistoryItem, GraphDriverData, ImportOptions, CommitOptions } from '../image/index.ts';
import type { RuntimeDriver, SpecOptions, ExitInfo, Spec } from '../runtime/index.ts';
import { buildExecProcess } from '../runtime/index.ts';
import type {
  EngineBackend, CreateContainerRequest, ListContainersOptions, ContainerView, LogsOptions, LogEntry, AttachOptions,
  AttachStreams, EngineEvent, SystemInfo, ExecCreateRequest, ExecState, CommitRequest,
  NetworkView, NetworkCreateRequest, EndpointRequest,
} from './backend.ts';
import { ExecManager } from './exec.ts';
import { nextBackoff, restartOnBoot, shouldRestart, type RestartState } from './restart.ts';
import { HealthMonitor, goDuration, probeArgs, type Prober } from './health.ts';
import { mergeCommitConfig } from './commit.ts';
import type { Container, ContainerConfig, HostConfig } from './model.ts';
import { Volumes, type VolumePruneReport } from './volumes.ts';
import { VolumeStore, type Volume, type CreateVolumeOptions } from '../volume/index.ts';
import { statusOf, ZERO_TIME } from './model.ts';
import { EventBus } from './events.ts';
import { completeHostConfig, defaultHostConfig, mergeImageConfig, pathAndArgs, validateName, initialNetworkSettings, replaceOrAppendEnv, DEFAULT_PATH_ENV } from './create.ts';
import { readHostSources } from './hostfiles.ts';
import { Networks, type NetworkConfig, type Attachment } from './networks.ts';
import { hostsFile, resolvConf, linkEnv, type LinkEntry } from '../network/index.ts';
import { containerStats, updateContainer, hostSupport, type StatsHost, type StatsJSON } from './stats.ts';
import { specResources } from './resources.ts';
import { LogConverter, readJsonLog, jsonLogFiles, lastJsonLogTime, type JsonLogEntry } from './logs.ts';
import { Attach, parseDetachKeys } from './attach.ts';
import { includeContainer, validateListFilters, type ListContext } from './list-filters.ts';
import { nowNanos, rfc3339Nano, rfc3339NanoFixed, secondsToNanos, parseRfc3339 } from './time.ts';
import { containerView, statPath, writeArchive, extractToDir, diffContainer, type PathStat, type Change } from './archive.ts';

export interface EngineConfig {
  liveRestore: boolean;
  defaultRuntime: string;
  runtimes: Record<string, { path: string; runtimeArgs?: string[] }>;
  logDriver: string;
  logOpts: Record<string, string>;
  initPath: string;
  debug: boolean;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  insecureRegistries: string[];
  registryMirrors: string[];
  labels: string[];
  experimental: boolean;
  cgroupParent: string;
  /** cgroupfs (default) or systemd (cgroupsPath `slice:berth:<id>`). */
  cgroupDriver?: 'cgroupfs' | 'systemd';
  /** Default for `--init` when the container does not say (daemon.json "init"). */
  init?: boolean;
  /** Bound of conmon's staging log per container (bytes): what survives while the daemon is down. Default 8 MiB. */
  stagingLogMax?: number;
  serverVersion?: string;
  detachKeys?: string;
}

export type BuildSpecFn = (o: SpecOptions) => Spec | Promise<Spec>;

export interface EngineOptions {
  root: string;
  execRoot: string;
  image: ImageService;
  runtime: RuntimeDriver;
  buildSpec?: BuildSpecFn;
  config: EngineConfig;
  /** The local volume store (default: `<root>/volumes`). */
  volumeStore?: VolumeStore;
  /** Networking (bridges, netns, iptables): off when absent (unit tests), containers then get an empty netns. */
  network?: NetworkConfig;
}

export type Engine = EngineBackend & { restore(): Promise<void>; shutdown(): Promise<void> };

export function createEngine(o: EngineOptions): Engine {
  return new ContainerEngine(o);
}

const STAGING_DIR = 'conmon';
const STAGING_LOG = 'ctr.log';
const DEFAULT_STAGING_MAX = 8 * 1024 * 1024;

/** A run of a container: from start until its exit is handled. */
interface RunState {
  converter: LogConverter;
  watcher?: FSWatcher;
  /** Resolves when start() has finished (either way). */
  started: Promise<void>;
  /** Resolves when the exit has been handled and cleaned up. */
  exited: Promise<void>;
  resolveExited: () => void;
  handling: boolean;
  /** The final log conversion, once the exit is being handled: readers wait for it. */
  converted?: Promise<void>;
  live: boolean;
  attaches: Set<Attach>;
}

interface Entry {
  c: Container;
  dir: string;
  /** The network teardown of the last exit, until done: a new start waits for it. */
  netDown?: Promise<void> | undefined;
  /** Set while an exit is being handled (until its restart, if any, is scheduled): a stop waits for it. */
  exitHandled?: Promise<void> | undefined;
  run?: RunState | undefined;
  /** The runtime still holds state for it (bundle, conmon) that delete must clear. */
  runtimeHeld: boolean;
  exitWaiters: Set<(code: number) => void>;
  removeWaiters: Set<(code: number) => void>;
  pendingAttaches: Set<Attach>;
  /** The overlay mount started right after create, so that `run` finds it (nearly) ready at start. */
  mounting?: Promise<string | undefined> | undefined;
  /** Restart policy state (back-off, a pending restart). */
  restart: RestartState;
  /** The HEALTHCHECK monitor while the container runs. */
  health?: HealthMonitor | undefined;
}

function signalTable(): Record<string, number> {
  return osConstants.signals as unknown as Record<string, number>;
}

/** Docker's signal.ParseSignal: `KILL`, `SIGKILL`, `9`. */
export function parseSignal(s: string): { name: string; num: number } {
  const table = signalTable();
  if (/^\d+$/.test(s)) {
    const num = Number(s);
    if (num < 1 || num > 64) throw new InvalidArgumentError(`Invalid signal: ${s}`);
    const name = Object.keys(table).find((k) => table[k] === num) ?? String(num);
    return { name, num };
  }
  const up = s.toUpperCase();
  const name = up.startsWith('SIG') ? up : `SIG${up}`;
  const num = table[name];
  if (num === undefined) throw new InvalidArgumentError(`Invalid signal: ${s}`);
  return { name, num };
}

function nameConflict(name: string, id: string): string {
  return `Conflict. The container name "${name}" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`;
}

function delay<T>(p: Promise<T>, ms: number): Promise<boolean> {
  if (ms < 0) return p.then(() => true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.then(() => { clearTimeout(t); resolve(true); }, () => { clearTimeout(t); resolve(true); });
  });
}

/** runc's create error → Docker's text and the exit code the CLI derives from it. */
export function mapStartError(msg: string): { message: string; exitCode: number; invalid: boolean } {
  let text = msg.trim().replace(/: unknown$/, '');
  const i = text.indexOf('runc create failed:');
  if (i >= 0) text = text.slice(i);
  else {
    const j = text.indexOf('unable to start container process:');
    if (j >= 0) text = `runc create failed: ${text.slice(j)}`;
  }
  const message = `failed to create shim task: OCI runtime create failed: ${text}: unknown`;
  if (/executable file not found|no such file or directory/.test(text)) return { message, exitCode: 127, invalid: true };
  if (/permission denied/.test(text)) return { message, exitCode: 126, invalid: true };
  if (/not a directory/.test(text)) return { message, exitCode: 127, invalid: true };
  return { message, exitCode: 128, invalid: false };
}

class ContainerEngine implements Engine {
  readonly #o: EngineOptions;
  readonly #cfg: EngineConfig;
  readonly #image: ImageService;
  readonly #rt: RuntimeDriver;
  readonly #bus = new EventBus();
  readonly #byId = new Map<string, Entry>();
  readonly #names = new Map<string, string>();
  readonly #mutex = new KeyedMutex();
  readonly #ncpu = cpus().length || 1;
  #bootId: Promise<string> | undefined;
  #buildSpec: Promise<BuildSpecFn> | undefined;
  #watching = false;
  #closing = false;
  #execManager: ExecManager | undefined;

  constructor(o: EngineOptions) {
    this.#o = o;
    this.#cfg = o.config;
    this.#image = o.image;
    this.#rt = o.runtime;
  }

  // ───────────────────────── store ─────────────────────────

  get #containersDir(): string { return join(this.#o.root, 'containers'); }
  /** Where a container's directory goes while it is being removed. */
  #trashDir(id: string): string { return join(this.#containersDir, `.removing-${id}`); }

  #resolve(ref: string): Entry {
    const byId = this.#byId.get(ref);
    if (byId) return byId;
    const name = ref.startsWith('/') ? ref : `/${ref}`;
    const id = this.#names.get(name);
    const named = id !== undefined ? this.#byId.get(id) : undefined;
    if (named) return named;
    if (ref.length > 0 && /^[0-9a-f]+$/.test(ref)) {
      let found: Entry | undefined;
      for (const [k, e] of this.#byId) {
        if (k.startsWith(ref)) {
          if (found) throw new InvalidArgumentError(`Multiple IDs found with provided prefix: ${ref}`);
          found = e;
        }
      }
      if (found) return found;
    }
    throw new NotFoundError(`No such container: ${ref}`);
  }

  /**
   * Write config.v2.json (and hostconfig.json) atomically. `durable` adds an fsync: needed when the
   * record must survive a host crash (create, rename, pause…). Run-state changes (start, exit) skip
   * it: after a host crash the boot-id check settles those states anyway, and a rename is atomic
   * against a daemon crash without it.
   */
  async #persist(e: Entry, hostConfig = false, durable = true): Promise<void> {
    const { HostConfig, ...rest } = e.c;
    const path = join(e.dir, 'config.v2.json');
    const writes = [durable ? atomicWriteJson(path, rest, 0o600) : writeRenamed(path, JSON.stringify(rest), 0o600)];
    if (hostConfig) writes.push(atomicWriteJson(join(e.dir, 'hostconfig.json'), HostConfig, 0o644));
    await Promise.all(writes);
  }

  #attrs(c: Container, extra: Record<string, string> = {}): Record<string, string> {
    return { ...(c.Config.Labels ?? {}), image: c.Config.Image, name: c.Name.slice(1), ...extra };
  }

  #event(c: Container, action: string, extra?: Record<string, string>): void {
    this.#bus.emit('container', action, c.ID, this.#attrs(c, extra));
  }

  #lock<T>(e: Entry, fn: () => Promise<T>): Promise<T> {
    return this.#mutex.run(e.c.ID, fn);
  }

  #bootIdNow(): Promise<string> {
    this.#bootId ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then((s) => s.trim(), () => '');
    return this.#bootId;
  }

  #specBuilder(): Promise<BuildSpecFn> {
    if (this.#o.buildSpec) return Promise.resolve(this.#o.buildSpec);
    this.#buildSpec ??= import('../runtime/index.ts').then((m) => m.buildSpec as BuildSpecFn);
    return this.#buildSpec;
  }

  #newEntry(c: Container): Entry {
    return {
      c, dir: join(this.#containersDir, c.ID), runtimeHeld: false, exitWaiters: new Set(), removeWaiters: new Set(), pendingAttaches: new Set(),
      restart: { backoffMs: 0, canceled: false },
    };
  }

  // ───────────────────────── system ─────────────────────────

  async info(): Promise<SystemInfo> {
    let running = 0, paused = 0, stopped = 0;
    for (const e of this.#byId.values()) {
      if (e.c.State.Running) { if (e.c.State.Paused) paused++; else running++; } else stopped++;
    }
    const [images, os, mountinfo, id, components] = await Promise.all([
      this.#image.list(),
      readFile('/etc/os-release', 'utf8').catch(() => ''),
      readFile('/proc/self/mountinfo', 'utf8').catch(() => ''),
      this.#engineId(),
      this.#components(),
    ]);
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(os)?.[1] ?? 'Linux';
    const v2 = mountinfo.split('\n').some((l) => / \/sys\/fs\/cgroup .* - cgroup2 /.test(l));
    return {
      id, containers: this.#byId.size, running, paused, stopped, images: images.length,
      dataRoot: this.#o.root, execRoot: this.#o.execRoot, cgroupDriver: this.#cfg.cgroupDriver ?? 'cgroupfs', cgroupVersion: v2 ? '2' : '1',
      runtimes: Object.fromEntries(Object.entries(this.#cfg.runtimes).map(([k, v]) => [k, { path: v.path }])),
      defaultRuntime: this.#cfg.defaultRuntime, debug: this.#cfg.debug, liveRestore: this.#cfg.liveRestore,
      kernelVersion: release(), operatingSystem: pretty, ncpu: this.#ncpu, memTotal: totalmem(), name: osHostname(),
      insecureRegistries: this.#cfg.insecureRegistries, registryMirrors: this.#cfg.registryMirrors,
      loggingDriver: this.#cfg.logDriver || 'json-file', initPath: this.#cfg.initPath,
      serverVersion: this.#cfg.serverVersion ?? (await this.#packageVersion()), labels: this.#cfg.labels, experimental: this.#cfg.experimental,
      components,
    };
  }

  /** The helpers' versions (`<tool> --version`), asked once, on the first /info or /version. */
  #componentVersions: Promise<NonNullable<SystemInfo['components']>> | undefined;
  #components(): Promise<NonNullable<SystemInfo['components']>> {
    const ask = async (name: string, path: string): Promise<{ name: string; version: string; commit: string } | undefined> => {
      const r = await runTool(path, ['--version'], { allowFailure: true, timeoutMs: 5000 }).catch(() => undefined);
      const version = r ? /version (\S+)/.exec(r.stdout)?.[1] : undefined;
      if (!version) return undefined;
      const commit = /^commit: (\S+)/m.exec(r!.stdout)?.[1] ?? '';
      return { name, version, commit: commit === 'unknown' ? '' : commit };
    };
    this.#componentVersions ??= Promise.all([
      ask('conmon', '/usr/bin/conmon'),
      ask('runc', this.#cfg.runtimes[this.#cfg.defaultRuntime]?.path ?? 'runc'),
      ask('docker-init', this.#cfg.initPath),
    ]).then((xs) => xs.filter((x) => x !== undefined));
    return this.#componentVersions;
  }

  #version: Promise<string> | undefined;
  #packageVersion(): Promise<string> {
    this.#version ??= readFile(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')
      .then((t) => (JSON.parse(t) as { version?: string }).version ?? '0.0.0', () => '0.0.0');
    return this.#version;
  }

  #id: Promise<string> | undefined;
  #engineId(): Promise<string> {
    this.#id ??= (async () => {
      const p = join(this.#o.root, 'engine-id');
      try { return (await readFile(p, 'utf8')).trim(); } catch { /* first start */ }
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
      const hex = newId();
      const chars = Array.from({ length: 48 }, (_, i) => alphabet[parseInt(hex.slice(i, i + 1), 16) * 2 % 32]);
      const id = Array.from({ length: 12 }, (_, i) => chars.slice(i * 4, i * 4 + 4).join('')).join(':');
      await mkdir(this.#o.root, { recursive: true });
      await writeFile(p, `${id}\n`).catch(() => {});
      return id;
    })();
    return this.#id;
  }

  async diskUsage(): Promise<{ layersSize: number; images: ImageRecord[]; containers: ContainerView[]; imageContainers: Map<string, number>; volumes: { volume: Volume; size: number; refCount: number }[] }> {
    const [{ layersSize }, images, containers, imageContainers, volumes] = await Promise.all([
      this.#image.diskUsage(), this.#image.list(),
      Promise.all([...this.#byId.values()].map((e) => this.#view(e, true, false))),
      this.imagesInUse(),
      this.#vols.list({}).then((vs) => Promise.all(vs.map(async (v) => ({
        volume: v, size: await this.#vols.store.size(v.Name).catch(() => -1), refCount: this.#vols.users(v.Name).length,
      })))),
    ]);
    return { layersSize, images, containers, imageContainers, volumes };
  }

  subscribeEvents(opts: { since?: number; until?: number; filters: Record<string, string[]> }, cb: (e: EngineEvent) => void): () => void {
    return this.#bus.subscribe(opts, cb);
  }

  // ───────────────────────── create ─────────────────────────

  async createContainer(req: CreateContainerRequest): Promise<{ id: string; warnings: string[] }> {
    const wanted = req.name ? validateName(req.name) : undefined;
    const warnings: string[] = [];
    const hc = completeHostConfig(req.hostConfig ?? {}, {
      ncpu: this.#ncpu, defaultRuntime: this.#cfg.defaultRuntime, runtimes: this.#cfg.runtimes,
      logDriver: this.#cfg.logDriver || 'json-file', logOpts: this.#cfg.logOpts ?? {}, swapAccounting: true, sys: await hostSupport(),
      ...(this.#cfg.cgroupDriver ? { cgroupDriver: this.#cfg.cgroupDriver } : {}),
    }, warnings);
    if (hc.Init === undefined || hc.Init === null) { if (this.#cfg.init) hc.Init = true; }
    const imageRef = req.config.Image ?? '';
    if (!imageRef) throw new InvalidArgumentError('No command specified');
    const t0 = performance.now();
    const phases: Record<string, number> = {};
    const mark = (k: string) => { phases[k] = Math.round((performance.now() - t0) * 10) / 10; };
    const img = await this.#image.get(imageRef);
    mark('image');
    const config = mergeImageConfig(req.config, img.config.config);
    const { path, args } = pathAndArgs(config);

    const id = newId();
    let name = wanted;
    if (name) {
      const holder = this.#names.get(name);
      if (holder) throw new ConflictError(nameConflict(name, holder));
    } else {
      for (let i = 0; ; i++) {
        name = `/${randomName(i > 5 ? 1 : 0)}`;
        if (!this.#names.has(name)) break;
      }
    }
    const n = name!;
    if (!config.Hostname) config.Hostname = hc.NetworkMode === 'host' ? osHostname() : id.slice(0, 12);
    const c: Container = {
      ID: id, Created: rfc3339Nano(nowNanos()), Path: path, Args: args, Config: config, Image: img.id,
      NetworkSettings: initialNetworkSettings(hc.NetworkMode), LogPath: '', Name: n, Driver: 'overlay2', OS: 'linux',
      RestartCount: 0, HasBeenStartedBefore: false, HasBeenManuallyStopped: false, MountPoints: {},
      HostnamePath: '', HostsPath: '', ResolvConfPath: '', ShmPath: '', AppArmorProfile: '', NoNewPrivileges: false,
      State: {
        Running: false, Paused: false, Restarting: false, OOMKilled: false, RemovalInProgress: false, Dead: false, Pid: 0,
        ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME, Health: null,
      },
      HostConfig: hc,
      Berth: { ConmonPid: 0, Runtime: hc.Runtime, LogOffset: 0, BootId: '' },
    };
    c.NetworkSettings.Networks = Networks.endpointsAtCreate(hc.NetworkMode, req.networkingConfig?.EndpointsConfig, c.NetworkSettings.Networks);
    const publishes = Object.keys(hc.PortBindings ?? {}).length > 0 || hc.PublishAllPorts;
    Networks.checkCreate(hc.NetworkMode || 'default', {
      hostname: !!req.config.Hostname, links: !!hc.Links?.length, dns: !!(hc.Dns.length || hc.DnsSearch.length || hc.DnsOptions.length),
      extraHosts: !!hc.ExtraHosts?.length, ports: publishes, exposed: Object.keys(req.config.ExposedPorts ?? {}).length > 0, mac: !!req.config.MacAddress,
    }, c.NetworkSettings.Networks);
    if (hc.NetworkMode === 'host' && publishes) warnings.push('Published ports are discarded when using host network mode');
    c.NoNewPrivileges = (hc.SecurityOpt ?? []).some((s) => /^no-new-privileges(?:[:=]true)?$/.test(s));
    await this.#vols.register(c);
    const e = this.#newEntry(c);
    // reserve the name before the first await so concurrent creates conflict properly
    this.#names.set(n, id);
    try {
      await mkdir(e.dir, { recursive: true, mode: 0o710 });
      await Promise.all([
        this.#image.createRwLayer(id, img.id).then(() => mark('layer')),
        this.#persist(e, true).then(() => mark('persisted')),
      ]);
    } catch (err) {
      this.#names.delete(n);
      await Promise.all([this.#image.removeRwLayer(id).catch(() => {}), removeAll(e.dir).catch(() => {})]);
      throw err;
    }
    this.#byId.set(id, e);
    this.#event(c, 'create');
    // `docker run` sends start a few ms after create: mount meanwhile (start mounts again if this failed),
    // once the response is out (spawning `mount` forks the daemon, which blocks it for a few ms)
    e.mounting = new Promise<void>((r) => setImmediate(r)).then(() => this.#image.mountRwLayer(id)).catch(() => undefined);
    log().debug({ id, phases }, 'container created');
    return { id, warnings };
  }

  // ───────────────────────── views ─────────────────────────

  #imageNameCache = new Map<string, Promise<string | undefined>>();

  async #imageName(c: Container, cache?: Map<string, Promise<string | undefined>>): Promise<string> {
    const memo = cache ?? this.#imageNameCache;
    let p = memo.get(c.Config.Image);
    if (!p) {
      p = this.#image.get(c.Config.Image).then((r) => r.id, () => undefined);
      memo.set(c.Config.Image, p);
    }
    return (await p) === c.Image ? c.Config.Image : c.Image;
  }

  async #view(e: Entry, size: boolean, withGraph: boolean, cache?: Map<string, Promise<string | undefined>>): Promise<ContainerView> {
    const c = e.c;
    const [imageName, graphDriver, sizes] = await Promise.all([
      this.#imageName(c, cache ?? new Map()),
      withGraph ? this.#image.graphDriverData(c.ID).catch((): GraphDriverData => ({ MergedDir: '', UpperDir: '', WorkDir: '' })) : Promise.resolve<GraphDriverData>({ MergedDir: '', UpperDir: '', WorkDir: '' }),
      size ? Promise.all([this.#image.rwLayerSize(c.ID).catch(() => 0), this.#image.get(c.Image).then((r) => r.size, () => 0)]) : undefined,
    ]);
    const v: ContainerView = { container: c, status: statusOf(c.State), imageName, graphDriver };
    const execIds = this.#execManager?.running(c.ID);
    if (execIds?.length) v.execIds = execIds;
    if (sizes) { v.sizeRw = sizes[0]; v.sizeRootFs = sizes[0] + sizes[1]; }
    return v;
  }

  async inspectContainer(ref: string, size: boolean): Promise<ContainerView> {
    return this.#view(this.#resolve(ref), size, true);
  }

  async listContainers(opts: ListContainersOptions): Promise<ContainerView[]> {
    const f = opts.filters ?? {};
    validateListFilters(f);
    const ancestorIds = new Set<string>();
    for (const a of f.ancestor ?? []) {
      try { ancestorIds.add((await this.#image.get(a)).id); } catch { /* no such image: matches nothing by ID */ }
    }
    const ctx: ListContext = { all: opts.all, limit: opts.limit, filters: f, ancestorIds };
    const created = (ref: string) => parseRfc3339(this.#resolve(ref).c.Created) ?? 0n;
    if (f.before?.length) ctx.beforeCreated = created(f.before[0]!);
    if (f.since?.length) ctx.sinceCreated = created(f.since[0]!);
    const sorted = [...this.#byId.values()]
      .map((e) => ({ e, t: parseRfc3339(e.c.Created) ?? 0n }))
      .sort((a, b) => (a.t === b.t ? 0 : a.t > b.t ? -1 : 1))
      .map((x) => x.e)
      .filter((e) => includeContainer(e.c, ctx));
    const picked = opts.limit > 0 ? sorted.slice(0, opts.limit) : sorted;
    const cache = new Map<string, Promise<string | undefined>>();
    return Promise.all(picked.map((e) => this.#view(e, opts.size, false, cache)));
  }

  // ───────────────────────── start ─────────────────────────

  async startContainer(ref: string, _detachKeys?: string): Promise<void> {
    const e = this.#resolve(ref);
    await this.#lock(e, async () => {
      if (e.c.State.Paused) throw new ConflictError('cannot start a paused container, try unpause instead');
      if (e.run) throw new NotModifiedError('Container already started');
      if (e.c.State.RemovalInProgress || e.c.State.Dead) throw new ConflictError('container is marked for removal and cannot be started');
      this.#cancelRestart(e);
      e.restart = { backoffMs: 0, canceled: false };
      e.c.RestartCount = 0;
      try {
        await this.#start(e);
      } catch (err) {
        // as dockerd: a failed start of a --rm container removes it
        if (e.c.HostConfig.AutoRemove) await this.#remove(e).catch((err2: unknown) => log().warn({ err: err2 }, 'auto-remove after a failed start'));
        throw err;
      }
    });
  }

  async #start(e: Entry): Promise<void> {
    const c = e.c;
    const id = c.ID;
    const hc = c.HostConfig;
    c.State.Error = '';
    const t0 = performance.now();
    const phases: Record<string, number> = {};
    const mark = (k: string) => { phases[k] = Math.round((performance.now() - t0) * 10) / 10; };
    let resolveStarted!: () => void;
    let resolveExited!: () => void;
    const staging = join(e.dir, STAGING_DIR, STAGING_LOG);
    const jsonLog = join(e.dir, `${id}-json.log`);
    const run: RunState = {
      converter: new LogConverter(staging, jsonLog, { offset: 0, ino: 0 }, this.#converterOpts(hc)),
      started: new Promise((r) => (resolveStarted = r)),
      exited: new Promise((r) => (resolveExited = r)),
      resolveExited: () => resolveExited(),
      handling: false, live: false, attaches: new Set(),
    };
    e.run = run;
    let created = false;
    let attached = false;
    try {
      const hostsPath = join(e.dir, 'hosts');
      const resolvPath = join(e.dir, 'resolv.conf');
      const hostnamePath = join(e.dir, 'hostname');
      const links = this.#links(c);
      // everything that does not need the rootfs runs alongside the overlay mount
      const early = e.mounting;
      e.mounting = undefined;
      const [rootfs, buildSpec, bootId, att] = await Promise.all([
        early ? early.then((r) => r ?? this.#image.mountRwLayer(id)) : this.#image.mountRwLayer(id),
        this.#specBuilder(),
        this.#bootIdNow(),
        (e.netDown ?? Promise.resolve()).then(() => this.#attachNet(c)).then(async (att) => {
          attached = true;
          const [hosts, resolv] = await this.#etcFiles(c, att, links);
          await Promise.all([writeFile(hostnamePath, `${c.Config.Hostname}\n`), writeFile(hostsPath, hosts), writeFile(resolvPath, resolv)]);
          return att;
        }),
        rm(join(e.dir, STAGING_DIR), { recursive: true, force: true }).then(() => mkdir(join(e.dir, STAGING_DIR), { mode: 0o700 })),
      ]);
      const netns = att.netns;
      mark('mounted');
      await this.#ensureWorkdir(rootfs, c.Config.WorkingDir);
      const bind = (destination: string, source: string) => ({ destination, source, type: 'bind' as const, options: ['rbind', 'rprivate'] });
      const mounts: SpecOptions['mounts'] = [bind('/etc/resolv.conf', resolvPath), bind('/etc/hostname', hostnamePath), bind('/etc/hosts', hostsPath)];
      mounts.push(...await this.#vols.mount(c, rootfs));
      const linkVars = links.flatMap((l) => linkEnv({ parent: c.Name.slice(1), alias: l.alias, childIp: l.ip, ports: Object.keys(l.child.Config.ExposedPorts ?? {}), childEnv: l.child.Config.Env ?? [] }));
      const env = replaceOrAppendEnv([DEFAULT_PATH_ENV, `HOSTNAME=${c.Config.Hostname}`, ...(c.Config.Tty ? ['TERM=xterm'] : []), ...linkVars], c.Config.Env ?? []);
      const specOpts: SpecOptions = {
        id, rootfs, readonlyRootfs: hc.ReadonlyRootfs, args: [c.Path, ...c.Args], env, cwd: c.Config.WorkingDir || '/',
        user: c.Config.User, groupAdd: hc.GroupAdd ?? [], hostname: c.Config.Hostname, domainname: c.Config.Domainname,
        tty: c.Config.Tty, netns, privileged: hc.Privileged, capAdd: hc.CapAdd ?? [], capDrop: hc.CapDrop ?? [],
        noNewPrivileges: c.NoNewPrivileges, ulimits: hc.Ulimits ?? [], sysctls: hc.Sysctls ?? {}, mounts, shmSize: hc.ShmSize,
        cgroupsPath: this.#cgroupsPath(c),
        resources: this.#resources(hc), devices: hc.Devices ?? [], oomScoreAdj: hc.OomScoreAdj,
      };
      if (hc.ConsoleSize && (hc.ConsoleSize[0] || hc.ConsoleSize[1])) specOpts.consoleSize = { height: hc.ConsoleSize[0], width: hc.ConsoleSize[1] };
      if (hc.Init) specOpts.initPath = this.#cfg.initPath || '/usr/bin/tini-static';
      if (hc.MaskedPaths) specOpts.maskedPaths = hc.MaskedPaths;
      if (hc.ReadonlyPaths) specOpts.readonlyPaths = hc.ReadonlyPaths;
      const spec = await buildSpec(specOpts);
      mark('spec');
      let pid: number, conmonPid: number;
      try {
        e.runtimeHeld = true;
        ({ pid, conmonPid } = await this.#rt.create({
          id, name: c.Name.slice(1), spec, runtime: hc.Runtime || this.#cfg.defaultRuntime, tty: c.Config.Tty,
          openStdin: c.Config.OpenStdin, logPath: staging, logSizeMax: this.#cfg.stagingLogMax ?? DEFAULT_STAGING_MAX,
          // Docker closes a container's stdin when an attached client's input ends only for StdinOnce without a TTY;
          // a detach (or a TTY client going away) leaves it open for the next attach.
          stdinOnce: c.Config.StdinOnce && !c.Config.Tty,
          persistDir: join(e.dir, STAGING_DIR),
        }));
        created = true;
        mark('created');
        // attach before the process runs, so an attached client misses nothing
        await Promise.all([...e.pendingAttaches].map((a) => this.#connect(e, run, a)));
        mark('attached');
        await this.#rt.start(id);
        mark('started');
      } catch (err) {
        if (err instanceof EngineError && !(err instanceof SystemError)) throw err;
        const m = mapStartError(err instanceof Error ? err.message : String(err));
        c.State.Error = m.message;
        c.State.ExitCode = m.exitCode;
        throw m.invalid ? new InvalidArgumentError(m.message) : new SystemError(m.message);
      }
      const s = c.State;
      Object.assign(s, { Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: pid, ExitCode: 0, Error: '' });
      s.StartedAt = rfc3339Nano(nowNanos());
      c.HasBeenStartedBefore = true;
      c.HasBeenManuallyStopped = false;
      c.HostnamePath = hostnamePath;
      c.HostsPath = hostsPath;
      c.ResolvConfPath = resolvPath;
      c.LogPath = jsonLog;
      c.Berth = { ConmonPid: conmonPid, Runtime: hc.Runtime || this.#cfg.defaultRuntime, LogOffset: 0, LogIno: 0, BootId: bootId };
      run.live = true;
      this.#watchLog(e, run);
      this.#startHealth(e, true);
      await this.#persist(e, false, false);
      this.#event(c, 'start');
      mark('persisted');
      log().debug({ id, phases }, 'container started');
    } catch (err) {
      e.run = undefined;
      if (!c.State.Error) c.State.Error = err instanceof Error ? err.message : String(err);
      if (c.State.ExitCode === 0) c.State.ExitCode = 128;
      for (const a of run.attaches) { run.attaches.delete(a); e.pendingAttaches.add(a); }
      run.watcher?.close();
      await Promise.all([
        created || e.runtimeHeld ? this.#rt.delete(id).catch(() => {}) : undefined,
        this.#image.unmountRwLayer(id).catch(() => {}),
        this.#vols.unmount(c),
      ]);
      if (attached) await this.#nets?.detach(c).catch((err2: unknown) => log().warn({ err: err2, id }, 'network teardown after a failed start'));
      e.runtimeHeld = false;
      await this.#persist(e).catch(() => {});
      throw err;
    } finally {
      resolveStarted();
    }
  }

  async #ensureWorkdir(rootfs: string, wd: string): Promise<void> {
    if (!wd || wd === '/') return;
    let p = rootfs;
    for (const part of wd.split('/').filter(Boolean)) {
      p = join(p, part);
      let st;
      try { st = await lstat(p); } catch (err) {
        if (errno(err) !== 'ENOENT') return;
        await mkdir(lexicalJoin(rootfs, wd), { recursive: true, mode: 0o755 }).catch(() => {});
        return;
      }
      if (st.isSymbolicLink()) return; // let the runtime resolve it inside the container
      if (!st.isDirectory()) throw new InvalidArgumentError(`Cannot mkdir: ${wd} is not a directory`);
    }
  }

  #resources(hc: HostConfig): SpecOptions['resources'] {
    return specResources(hc);
  }

  #rotation(hc: HostConfig): { maxSize: number; maxFiles: number } | undefined {
    const ms = hc.LogConfig?.Config?.['max-size'];
    if (!ms) return undefined;
    const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(ms.trim());
    if (!m) return undefined;
    const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
    return { maxSize: Math.trunc(Number(m[1]) * mult), maxFiles: Math.max(1, Number(hc.LogConfig.Config['max-file'] ?? 1) || 1) };
  }

  /** runc's cgroupsPath: `/berth/<id>` under cgroupfs, `system.slice:berth:<id>` under systemd (as Docker's `docker`). */
  #cgroupsPath(c: Container): string {
    const parent = c.HostConfig.CgroupParent || this.#cfg.cgroupParent;
    if (this.#cfg.cgroupDriver === 'systemd') return `${parent || 'system.slice'}:berth:${c.ID}`;
    return `${parent || '/berth'}/${c.ID}`;
  }

  /** How conmon's staging log becomes the json-file log: rotated, or (`--log-driver none`) dropped. */
  #converterOpts(hc: HostConfig): { rotation?: { maxSize: number; maxFiles: number }; discard?: boolean } {
    if (hc.LogConfig?.Type === 'none') return { discard: true };
    const rotation = this.#rotation(hc);
    return rotation ? { rotation } : {};
  }

  #maxFiles(hc: HostConfig): number {
    return this.#rotation(hc)?.maxFiles ?? 1;
  }

  #watchLog(e: Entry, run: RunState): void {
    let queued = false;
    const kick = () => {
      if (queued || !run.live) return;
      queued = true;
      setTimeout(() => {
        queued = false;
        if (run.live) run.converter.pump().catch((err: unknown) => log().warn({ err, id: e.c.ID }, 'log conversion failed'));
      }, 15).unref();
    };
    try {
      run.watcher = watch(join(e.dir, STAGING_DIR), (_ev, file) => { if (!file || String(file).startsWith(STAGING_LOG)) kick(); });
      run.watcher.on('error', () => {});
      run.watcher.unref();
    } catch (err) {
      log().warn({ err, id: e.c.ID }, 'cannot watch the container log');
    }
  }

  async #connect(e: Entry, run: RunState, a: Attach): Promise<void> {
    e.pendingAttaches.delete(a);
    if (a.finished) return;
    try {
      const s = await this.#rt.attach(e.c.ID, { stdin: a.want.stdin });
      run.attaches.add(a);
      a.onEnd = () => { run.attaches.delete(a); e.pendingAttaches.delete(a); };
      a.connect(s);
    } catch (err) {
      log().warn({ err, id: e.c.ID }, 'attach failed');
      a.close();
    }
  }

  // ───────────────────────── exits ─────────────────────────

  #armExits(): void {
    if (this.#watching) return;
    this.#watching = true;
    this.#rt.watchExits((id, exit) => {
      this.#handleExit(id, exit).catch((err: unknown) => log().error({ err, id }, 'exit handling failed'));
    });
  }

  async #handleExit(id: string, exit: ExitInfo): Promise<void> {
    const e = this.#byId.get(id);
    if (!e) {
      // a container removed while the daemon was down: clear what the runtime kept of it
      if (/^[0-9a-f]{64}$/.test(id)) await this.#rt.delete(id).catch(() => {});
      return;
    }
    let run = e.run;
    if (run) {
      await run.started; // an exit can be seen before start() has recorded the run
      run = e.run;
    }
    if (!run || run.handling) {
      if (!run && e.runtimeHeld && !e.c.State.Running) {
        // a start that failed after the runtime created it: clear what is left
        e.runtimeHeld = false;
        await this.#rt.delete(id).catch(() => {});
      }
      return;
    }
    run.handling = true;
    let handled!: () => void;
    e.exitHandled = new Promise((r) => { handled = r; });
    try {
      await this.#handleRunExit(e, run, id, exit);
    } finally {
      e.exitHandled = undefined;
      handled();
    }
  }

  async #handleRunExit(e: Entry, run: RunState, id: string, exit: ExitInfo): Promise<void> {
    // phases count from the exit as conmon recorded it (its exit file's mtime): `seen` is the notice latency
    const t0 = performance.now() - Math.max(0, Date.now() - exit.finishedAt.getTime());
    const phases: Record<string, number> = {};
    const mark = (k: string) => { phases[k] = Math.round((performance.now() - t0) * 10) / 10; };
    mark('seen');
    run.live = false;
    run.watcher?.close();
    const c = e.c;
    run.converted = run.converter.finish().catch((err: unknown) => log().warn({ err, id }, 'final log conversion failed'));
    // --rm: the runtime's state and the rw layer need not wait for the last log lines (the directory does)
    // the network goes alongside: its addresses stay taken until its namespace is gone
    const netDown = this.#nets?.detach(c).then(() => mark('network'), (err: unknown) => log().warn({ err, id }, 'network teardown failed')) ?? Promise.resolve();
    e.netDown = netDown;
    void netDown.then(() => { if (e.netDown === netDown) e.netDown = undefined; });
    const released = c.HostConfig.AutoRemove && !c.State.RemovalInProgress ? Promise.all([this.#release(e, mark, run.converted), netDown]).then(() => {}) : undefined;
    await run.converted;
    mark('logs');
    Object.assign(c.State, { Running: false, Paused: false, Restarting: false, Pid: 0, ExitCode: exit.exitCode, OOMKilled: exit.oomKilled });
    c.State.FinishedAt = rfc3339Nano(BigInt(exit.finishedAt.getTime()) * 1_000_000n);
    c.Berth.ConmonPid = 0;
    c.Berth.LogOffset = 0;
    c.Berth.LogIno = 0;
    e.run = undefined;
    e.health?.stop();
    e.health = undefined;
    if (exit.oomKilled) this.#event(c, 'oom');
    this.#event(c, 'die', { exitCode: String(exit.exitCode) });
    for (const w of e.exitWaiters) w(exit.exitCode);
    e.exitWaiters.clear();
    for (const a of run.attaches) {
      // conmon closes attach sockets once output is drained; do not hang on one that lingers
      setTimeout(() => a.close(), 2000).unref();
    }
    await this.#vols.unmount(c);
    if (released) {
      // --rm: the directory now that the log is complete (and, after #release, whatever it could not do)
      try {
        await this.#remove(e, (k) => { if (!(k in phases)) mark(k); }, released);
      } catch (err) {
        log().error({ err, id }, 'auto-remove failed');
      } finally {
        run.resolveExited();
      }
      mark('removed');
      log().debug({ id, phases }, 'container exited and auto-removed');
      return;
    }
    if (c.State.RemovalInProgress) {
      // rm -f is waiting: it deletes, unmounts and removes everything in one go
      await netDown;
      run.resolveExited();
      return;
    }
    try {
      await Promise.all([
        this.#rt.delete(id).then(() => { e.runtimeHeld = false; mark('runtime'); }, (err: unknown) => log().warn({ err, id }, 'runtime delete failed')),
        this.#image.unmountRwLayer(id).then(() => mark('unmounted'), (err: unknown) => log().warn({ err, id }, 'unmount failed')),
        netDown.then(() => this.#persist(e, false, false)).then(() => mark('persisted')),
      ]);
    } finally {
      run.resolveExited();
    }
    log().debug({ id, phases }, 'container exit handled');
    this.#afterExit(e, exit);
  }

  /**
   * First part of an auto-removal, run while the last log lines are converted: runtime delete, and unmount + rw
   * layer removal, in parallel. A failure is only logged: #remove tries again and reports it.
   */
  async #release(e: Entry, mark: (phase: string) => void, converted: Promise<void>): Promise<void> {
    const id = e.c.ID;
    if (e.mounting) { await e.mounting; e.mounting = undefined; }
    await Promise.all([
      // its synchronous cgroup and state-file work would hold up the conversion's I/O: after it
      converted.then(() => this.#rt.delete(id)).then(() => { e.runtimeHeld = false; mark('runtime'); }, (err: unknown) => log().warn({ err, id }, 'runtime delete failed')),
      this.#image.removeRwLayer(id).then(() => mark('layer'), (err: unknown) => log().warn({ err, id }, 'rw layer removal failed')),
    ]);
  }

  /** HEALTHCHECK: a monitor while the container runs (fresh: status back to starting, as on every start). */
  #startHealth(e: Entry, fresh: boolean): void {
    e.health?.stop();
    e.health = undefined;
    const c = e.c;
    const hc = c.Config.Healthcheck;
    const args = probeArgs(hc?.Test, c.Config.Shell ?? undefined);
    if (!hc || !args) return;
    if (fresh || !c.State.Health) c.State.Health = { Status: 'starting', FailingStreak: 0, Log: c.State.Health?.Log ?? [] };
    const m = new HealthMonitor(c.State.Health, hc, args, Date.parse(c.State.StartedAt), this.#prober(e), (status) => {
      this.#event(c, `health_status: ${status}`);
      void this.#persist(e, false, false).catch(() => {});
    });
    e.health = m;
    m.start();
  }

  /** Run a health probe as an exec of the container (its user, env and working dir), output collected. */
  #prober(e: Entry): Prober {
    return async (args, timeoutMs) => {
      const c = e.c;
      const start = new Date();
      const spec = await this.#rt.readSpec(c.ID);
      if (!spec?.process) throw new ConflictError(`Container ${c.ID} is not running`);
      const proc = await buildExecProcess(spec, {
        args, env: [], cwd: '', user: '', containerUser: c.Config.User ?? '', groupAdd: c.HostConfig.GroupAdd ?? [], tty: false, privileged: false,
      });
      // as dockerd, a probe is an exec and says so in the events
      const execId = newId();
      const what = args.join(' ');
      this.#event(c, `exec_create: ${what}`, { execID: execId });
      this.#event(c, `exec_start: ${what}`, { execID: execId });
      const s = await this.#rt.exec(c.ID, { execId, process: proc, attach: true, openStdin: false });
      let out = '';
      const closed = new Promise<void>((r) => { if (s.io) s.io.onClose(r); else r(); });
      s.io?.onData((_stream, d) => { if (out.length < 8192) out += d.toString('utf8'); });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); });
      const code = await Promise.race([s.exited, timeout]);
      clearTimeout(timer);
      if (code === 'timeout') {
        try { process.kill(s.pid, 'SIGKILL'); } catch { /* gone */ }
        s.io?.close();
        return { exitCode: -1, output: `Health check exceeded timeout (${goDuration(timeoutMs)})`, start, end: new Date() };
      }
      this.#event(c, 'exec_die', { execID: execId, exitCode: String(code) });
      await Promise.race([closed, new Promise((r) => setTimeout(r, 200))]); // the last output trails the exit
      return { exitCode: code, output: out, start, end: new Date() };
    };
  }

  /** Restart policies: start the container again after the back-off, or leave it exited. */
  #afterExit(e: Entry, exit: ExitInfo): void {
    const c = e.c;
    const rs = e.restart;
    if (this.#closing || rs.canceled || c.State.RemovalInProgress || !this.#byId.has(c.ID)) return;
    if (!shouldRestart(c.HostConfig.RestartPolicy, exit.exitCode, c.HasBeenManuallyStopped, c.RestartCount)) return;
    rs.backoffMs = nextBackoff(rs.backoffMs, exit.finishedAt.getTime() - Date.parse(c.State.StartedAt));
    c.RestartCount++;
    // dockerd's SetRestarting: Running stays true while the restart is pending
    Object.assign(c.State, { Running: true, Restarting: true, Paused: false, Pid: 0 });
    void this.#persist(e, false, false).catch(() => {});
    rs.timer = setTimeout(() => {
      rs.timer = undefined;
      void this.#lock(e, async () => {
        if (!c.State.Restarting || !this.#byId.has(c.ID) || this.#closing) return;
        try {
          await this.#start(e);
        } catch (err) {
          log().warn({ err, id: c.ID }, 'restart failed');
          Object.assign(c.State, { Running: false, Restarting: false });
          await this.#persist(e, false, false).catch(() => {});
        }
      });
    }, rs.backoffMs);
  }

  /** A pending restart is called off (stop, rm -f, a manual start, shutdown); true if there was one. */
  #cancelRestart(e: Entry): boolean {
    const rs = e.restart;
    if (!rs.timer && !e.c.State.Restarting) return false;
    if (rs.timer) clearTimeout(rs.timer);
    rs.timer = undefined;
    Object.assign(e.c.State, { Running: false, Restarting: false });
    return true;
  }

  // ───────────────────────── stop / kill / restart / pause ─────────────────────────

  async #signal(e: Entry, sig: { name: string; num: number }): Promise<void> {
    // moby's ExitOnNext: the exit a SIGKILL or the stop signal brings is not restarted
    if (sig.num === 9 || sig.num === parseSignal(e.c.Config.StopSignal || 'SIGTERM').num) e.restart.canceled = true;
    this.#event(e.c, 'kill', { signal: String(sig.num) });
    await this.#rt.kill(e.c.ID, sig.name);
    if (e.c.State.Paused && (sig.num === 9 || sig.num === parseSignal(e.c.Config.StopSignal || 'SIGTERM').num)) {
      // a frozen process cannot act on the signal: thaw it (Docker does the same on stop/kill)
      await this.#rt.resume(e.c.ID).catch(() => {});
      e.c.State.Paused = false;
    }
  }

  async #stop(e: Entry, signal: string | undefined, timeout: number | undefined): Promise<void> {
    const run = e.run;
    if (!run) return;
    const sig = parseSignal(signal || e.c.Config.StopSignal || 'SIGTERM');
    const t = timeout ?? e.c.Config.StopTimeout ?? 10;
    if (sig.num !== 9) {
      try { await this.#signal(e, sig); } catch (err) { if (!e.run) return; log().warn({ err }, 'stop signal failed'); }
      if (await delay(run.exited, t < 0 ? -1 : t * 1000)) return;
      log().info({ container: e.c.ID }, `Container failed to exit within ${t}s of signal ${sig.num} - using the force`);
    }
    try { await this.#signal(e, { name: 'SIGKILL', num: 9 }); } catch (err) { if (!e.run) return; throw err; }
    if (!(await delay(run.exited, 30_000))) throw new SystemError(`container ${e.c.ID} did not exit after SIGKILL`);
  }

  async stopContainer(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const e = this.#resolve(ref);
    if (opts.signal) parseSignal(opts.signal);
    await this.#lock(e, async () => {
      // an exit being handled may be about to schedule a restart: decide once it has
      if (!e.run && e.exitHandled) await e.exitHandled;
      if (!e.run && this.#cancelRestart(e)) {
        e.c.HasBeenManuallyStopped = true;
        await this.#persist(e, false, false);
        this.#event(e.c, 'stop');
        return;
      }
      if (!e.run) throw new NotModifiedError('Container already stopped');
      e.c.HasBeenManuallyStopped = true;
      // no restart for this exit, even one that comes before our signal (the process may be exiting on its own)
      e.restart.canceled = true;
      await this.#stop(e, opts.signal, opts.timeout);
      if (this.#cancelRestart(e)) await this.#persist(e, false, false);
      this.#event(e.c, 'stop');
    });
  }

  async restartContainer(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const e = this.#resolve(ref);
    if (opts.signal) parseSignal(opts.signal);
    await this.#lock(e, async () => {
      if (e.run) {
        // as dockerd: a --rm container is not removed by the stop half of a restart
        const autoRemove = e.c.HostConfig.AutoRemove;
        e.c.HostConfig.AutoRemove = false;
        try {
          await this.#stop(e, opts.signal, opts.timeout);
        } finally {
          e.c.HostConfig.AutoRemove = autoRemove;
        }
        this.#event(e.c, 'stop');
      }
      this.#cancelRestart(e);
      e.restart = { backoffMs: 0, canceled: false };
      e.c.RestartCount = 0;
      await this.#start(e);
      this.#event(e.c, 'restart');
    });
  }

  async killContainer(ref: string, signal?: string): Promise<void> {
    const e = this.#resolve(ref);
    const sig = parseSignal(signal || 'SIGKILL');
    const run = e.run;
    if (!run || !run.live) throw new ConflictError(`Cannot kill container: ${ref}: Container ${e.c.ID} is not running`);
    await this.#signal(e, sig);
    if (sig.num === 9) await delay(run.exited, 10_000);
  }

  async pauseContainer(ref: string): Promise<void> {
    const e = this.#resolve(ref);
    await this.#lock(e, async () => {
      if (!e.run) throw new ConflictError(`Container ${e.c.ID} is not running`);
      if (e.c.State.Paused) throw new ConflictError(`Container ${e.c.ID} is already paused`);
      await this.#rt.pause(e.c.ID);
      e.c.State.Paused = true;
      await this.#persist(e);
      this.#event(e.c, 'pause');
    });
  }

  async unpauseContainer(ref: string): Promise<void> {
    const e = this.#resolve(ref);
    await this.#lock(e, async () => {
      // Docker answers 500 here; a client's mistake is a 400 in berth (issue 3 §2)
      if (!e.c.State.Paused) throw new InvalidArgumentError(`Container ${e.c.ID} is not paused`);
      await this.#rt.resume(e.c.ID);
      e.c.State.Paused = false;
      await this.#persist(e);
      this.#event(e.c, 'unpause');
    });
  }

  async waitContainer(ref: string, condition: string, signal?: AbortSignal): Promise<{ StatusCode: number; Error?: { Message: string } }> {
    const e = this.#resolve(ref);
    const cond = condition === 'next-exit' || condition === 'removed' ? condition : 'not-running';
    if (cond === 'not-running' && !e.run) return { StatusCode: e.c.State.ExitCode };
    return new Promise((resolve, reject) => {
      const set = cond === 'removed' ? e.removeWaiters : e.exitWaiters;
      const w = (code: number) => { signal?.removeEventListener('abort', onAbort); resolve({ StatusCode: code }); };
      const onAbort = () => { set.delete(w); reject(new CanceledError('wait canceled')); };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(w);
    });
  }

  // ───────────────────────── remove / rename ─────────────────────────

  async removeContainer(ref: string, opts: { force: boolean; volumes: boolean; link: boolean }): Promise<void> {
    const e = this.#resolve(ref);
    if (opts.link) throw new InvalidArgumentError(`Conflict, cannot remove the default link name of the container`);
    if (e.c.State.RemovalInProgress) throw new ConflictError(`removal of container ${e.c.ID} is already in progress`);
    const t0 = performance.now();
    const phases: Record<string, number> = {};
    const mark = (k: string) => { phases[k] = Math.round((performance.now() - t0) * 10) / 10; };
    await this.#lock(e, async () => {
      mark('locked');
      if (!e.run && e.c.State.Restarting) {
        if (!opts.force) throw new ConflictError(`You cannot remove a restarting container ${e.c.ID}. Stop the container before attempting removal or force remove`);
        this.#cancelRestart(e);
      }
      if (e.run) {
        if (!opts.force) {
          if (e.c.State.Paused) throw new ConflictError(`You cannot remove a paused container ${e.c.ID}. Unpause and then stop the container before attempting removal or force remove`);
          throw new ConflictError(`You cannot remove a running container ${e.c.ID}. Stop the container before attempting removal or force remove`);
        }
        const run = e.run;
        e.c.State.RemovalInProgress = true;
        try {
          await this.#signal(e, { name: 'SIGKILL', num: 9 }).catch((err: unknown) => { if (e.run) throw err; });
          mark('killed');
          if (!(await delay(run.exited, 30_000))) throw new SystemError(`Could not kill running container ${e.c.ID}, cannot remove`);
          mark('exited');
        } catch (err) {
          e.c.State.RemovalInProgress = false;
          throw err;
        }
      }
      if (!this.#byId.has(e.c.ID)) return; // auto-removed meanwhile
      await this.#remove(e, mark, undefined, opts.volumes);
      mark('removed');
      log().debug({ id: e.c.ID, phases }, 'container removed');
    });
  }

  /**
   * Remove a stopped container: runtime state, rw layer and the content of its (renamed) directory in parallel,
   * then the directory.
   * `mark` times each part.
   * `released` (#release under way): runtime and layer wait for it, and only retry what it could not do.
   */
  async #remove(e: Entry, mark: (phase: string) => void = () => {}, released: Promise<void> = Promise.resolve(), volumes = e.c.HostConfig.AutoRemove): Promise<void> {
    const c = e.c;
    if (!this.#byId.has(c.ID)) { await released; return; }
    c.State.RemovalInProgress = true;
    if (e.mounting) { await e.mounting; e.mounting = undefined; }
    // the directory is renamed at once and removed last: a daemon killed meanwhile leaves either the whole
    // container (restore removes it again) or the trash directory (restore removes runtime state, layer and it)
    const dir = rename(e.dir, this.#trashDir(c.ID)).then(() => this.#trashDir(c.ID), () => e.dir);
    try {
      await Promise.all([
        released.then(() => e.runtimeHeld ? this.#rt.delete(c.ID).catch(() => {}).then(() => mark('runtime')) : undefined),
        released.then(() => this.#image.removeRwLayer(c.ID)).then(() => mark('layer')),
        dir.then(async (d) => { await Promise.all((await readdir(d).catch(() => [])).map((n) => removeAll(join(d, n)))); }),
      ]);
      await removeAll(await dir);
      mark('dir');
    } catch (err) {
      c.State.RemovalInProgress = false;
      c.State.Dead = true;
      const at = await dir;
      if (at !== e.dir) await rename(at, e.dir).catch(() => {});
      await mkdir(e.dir, { recursive: true }).then(() => this.#persist(e, true)).catch(() => {});
      throw new SystemError(`unable to remove filesystem for ${c.ID}: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.#byId.delete(c.ID);
    if (this.#names.get(c.Name) === c.ID) this.#names.delete(c.Name);
    for (const a of e.pendingAttaches) a.close();
    this.#event(c, 'destroy');
    this.#execManager?.containerGone(c.ID);
    await this.#vols.release(c, volumes);
    for (const w of e.removeWaiters) w(c.State.ExitCode);
    e.removeWaiters.clear();
    for (const w of e.exitWaiters) w(c.State.ExitCode);
    e.exitWaiters.clear();
  }

  async renameContainer(ref: string, newName: string): Promise<void> {
    const e = this.#resolve(ref);
    if (!newName) throw new InvalidArgumentError('Neither old nor new names may be empty');
    const n = validateName(newName);
    const old = e.c.Name;
    if (n === old) throw new InvalidArgumentError('Renaming a container with the same name as its current name');
    const holder = this.#names.get(n);
    if (holder) throw new ConflictError(`Error when allocating new name: ${nameConflict(n, holder)}`);
    this.#names.set(n, e.c.ID);
    this.#names.delete(old);
    e.c.Name = n;
    try {
      await this.#persist(e);
    } catch (err) {
      e.c.Name = old;
      this.#names.delete(n);
      this.#names.set(old, e.c.ID);
      throw err;
    }
    this.#event(e.c, 'rename', { oldName: old });
  }

  // ───────────────────────── top / logs / attach / resize / export ─────────────────────────

  async topContainer(ref: string, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    const e = this.#resolve(ref);
    if (!e.run) throw new ConflictError(`Container ${e.c.ID} is not running`);
    const pids = new Set((await this.#rt.pids(e.c.ID)).map(String));
    const args = (psArgs || '-ef').split(/\s+/).filter(Boolean);
    const r = await runTool('ps', args, { allowFailure: true });
    if (r.code !== 0) throw new SystemError(`Error running ps: ${r.stderr.trim() || `exit status ${r.code}`}`);
    return parsePs(r.stdout, pids);
  }

  async logs(ref: string, opts: LogsOptions, signal: AbortSignal): Promise<{ tty: boolean; entries: AsyncIterable<LogEntry> }> {
    const e = this.#resolve(ref);
    if (e.c.HostConfig.LogConfig?.Type === 'none') throw new NotImplementedError('configured logging driver does not support reading');
    if (!opts.stdout && !opts.stderr) throw new InvalidArgumentError('Bad parameters: you must choose at least one stream');
    const run = e.run;
    if (run?.live) await run.converter.pump().catch(() => {});
    else if (run?.converted) await run.converted; // the container just exited: its last lines are being written
    const path = join(e.dir, `${e.c.ID}-json.log`);
    const files = await jsonLogFiles(path, this.#maxFiles(e.c.HostConfig));
    const since = opts.since > 0 ? secondsToNanos(opts.since) : undefined;
    const until = opts.until > 0 ? secondsToNanos(opts.until) : undefined;
    const keep = (x: JsonLogEntry) =>
      (x.stream === 'stdout' ? opts.stdout : opts.stderr) && (since === undefined || x.time >= since) && (until === undefined || x.time <= until);
    const toEntry = (x: JsonLogEntry): LogEntry => ({ stream: x.stream, time: rfc3339NanoFixed(x.time), line: Buffer.from(x.log) });
    const follow = opts.follow && run?.live === true && (until === undefined || until > nowNanos());
    // subscribe before reading, so nothing written in between is missed
    let wake: (() => void) | undefined;
    let closed = false;
    const onData = () => wake?.();
    const onClosed = () => { closed = true; wake?.(); };
    if (follow) { run!.converter.on('data', onData); run!.converter.once('closed', onClosed); }
    const unsubscribe = () => { run?.converter.off('data', onData); run?.converter.off('closed', onClosed); };
    async function* entries(): AsyncGenerator<LogEntry> {
      try {
        let all: JsonLogEntry[] = [];
        let end = 0;
        for (const f of files) {
          const r = await readJsonLog(f);
          all = all.concat(r.entries);
          if (f === path) end = r.end;
        }
        if (opts.tail !== 'all') all = opts.tail <= 0 ? [] : all.slice(-opts.tail);
        for (const x of all) if (keep(x)) yield toEntry(x);
        if (!follow) return;
        while (!signal.aborted) {
          if (!closed) {
            await new Promise<void>((r) => {
              wake = r;
              signal.addEventListener('abort', () => r(), { once: true });
            });
            wake = undefined;
          }
          if (signal.aborted) return;
          const r = await readJsonLog(path, end);
          end = r.end;
          for (const x of r.entries) {
            if (until !== undefined && x.time > until) return;
            if (keep(x)) yield toEntry(x);
          }
          if (closed) return;
        }
      } finally {
        unsubscribe();
      }
    }
    return { tty: e.c.Config.Tty, entries: entries() };
  }

  async attachContainer(ref: string, opts: AttachOptions): Promise<AttachStreams> {
    const e = this.#resolve(ref);
    if (e.c.State.Paused) throw new ConflictError(`container ${ref} is paused, unpause the container before attach`);
    const keys = parseDetachKeys(opts.detachKeys || this.#cfg.detachKeys || 'ctrl-p,ctrl-q');
    const c = e.c;
    const a = new Attach(c.Config.Tty, keys, { stdin: opts.stdin && c.Config.OpenStdin, stdout: opts.stdout, stderr: opts.stderr }, c.Config.StdinOnce && !c.Config.Tty);
    this.#event(c, 'attach');
    void a.done.then((r) => { if (r.detached) this.#event(c, 'detach'); });
    if (opts.logs) {
      const files = await jsonLogFiles(join(e.dir, `${c.ID}-json.log`), this.#maxFiles(c.HostConfig));
      for (const f of files) for (const x of (await readJsonLog(f)).entries) a.output(x.stream === 'stderr' ? 2 : 1, Buffer.from(x.log));
    }
    if (!opts.stream) {
      a.release();
      a.finish(false);
      return a;
    }
    a.onEnd = () => e.pendingAttaches.delete(a);
    const run = e.run;
    if (run?.live) await this.#connect(e, run, a);
    else e.pendingAttaches.add(a);
    a.release();
    return a;
  }

  async resizeContainer(ref: string, height: number, width: number): Promise<void> {
    const e = this.#resolve(ref);
    if (!e.run) throw new ConflictError(`Container ${e.c.ID} is not running`);
    await this.#rt.resize(e.c.ID, height, width);
    this.#event(e.c, 'resize', { height: String(height), width: String(width) });
  }

  async pruneContainers(filters: Record<string, string[]>): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    for (const k of Object.keys(filters)) if (!['until', 'label', 'label!'].includes(k)) throw new InvalidArgumentError(`Invalid filter '${k}'`);
    const until = filters.until?.length ? untilToNanos(filters.until[0]!) : undefined;
    const victims = [...this.#byId.values()].filter((e) => {
      const c = e.c;
      if (c.State.Running || c.State.RemovalInProgress) return false;
      if (until !== undefined && !((parseRfc3339(c.Created) ?? 0n) < until)) return false;
      const labels = c.Config.Labels ?? {};
      const has = (l: string) => { const i = l.indexOf('='); return i < 0 ? l in labels : labels[l.slice(0, i)] === l.slice(i + 1); };
      if (filters.label?.length && !filters.label.every(has)) return false;
      if (filters['label!']?.length && filters['label!'].some(has)) return false;
      return true;
    });
    const deleted: string[] = [];
    let space = 0;
    await Promise.all(victims.map(async (e) => {
      const size = await this.#image.rwLayerSize(e.c.ID).catch(() => 0);
      await this.#lock(e, () => this.#remove(e)).then(() => { deleted.push(e.c.ID); space += size; }, (err: unknown) => log().warn({ err }, 'prune: remove failed'));
    }));
    this.#bus.emit('container', 'prune', '', { reclaimed: String(space) });
    return { ContainersDeleted: deleted, SpaceReclaimed: space };
  }

  async exportContainer(ref: string, out: Writable): Promise<void> {
    const e = this.#resolve(ref);
    await this.#image.exportRwLayer(e.c.ID, out);
    this.#event(e.c, 'export');
  }

  // ───────────────────────── images ─────────────────────────

  listImages(): Promise<ImageRecord[]> { return this.#image.list(); }

  async inspectImage(ref: string): Promise<{ image: ImageRecord; graphDriver: GraphDriverData }> {
    const image = await this.#image.get(ref);
    return { image, graphDriver: await this.#image.imageGraphDriverData(image.id) };
  }

  imageHistory(ref: string): Promise<HistoryItem[]> { return this.#image.history(ref); }

  async tagImage(source: string, repo: string, tag: string): Promise<void> {
    const target = `${repo}:${tag || 'latest'}`;
    await this.#image.tag(source, target);
    const img = await this.#image.get(target);
    this.#tagEvent(img.id, target);
  }

  /** Docker's event names the tag in its familiar form (`evtag:1`, not `docker.io/library/evtag:1`). */
  #tagEvent(id: string, ref: string): void {
    this.#bus.emit('image', 'tag', id, { name: ref.replace(/^docker\.io\/(library\/)?/, '') });
  }

  #usedBy = (imageId: string): { id: string; running: boolean } | undefined => {
    let found: { id: string; running: boolean } | undefined;
    for (const e of this.#byId.values()) {
      if (e.c.Image !== imageId) continue;
      if (e.c.State.Running) return { id: shortId(e.c.ID), running: true };
      found ??= { id: shortId(e.c.ID), running: false };
    }
    return found;
  };

  async removeImage(ref: string, opts: { force: boolean; noPrune: boolean }): Promise<DeleteItem[]> {
    const img = await this.#image.get(ref);
    const items = await this.#image.remove(ref, opts, this.#usedBy);
    this.#imageNameCache.clear();
    this.#imageEvents(items, img.id);
    return items;
  }

  #imageEvents(items: DeleteItem[], id?: string): void {
    for (const it of items) {
      if (it.Untagged && id) this.#bus.emit('image', 'untag', id, { name: id });
      if (it.Deleted) this.#bus.emit('image', 'delete', it.Deleted, { name: it.Deleted });
    }
  }

  async loadImages(input: Readable, onProgress: (line: string) => void): Promise<string[]> {
    const lines = await this.#image.load(input, onProgress);
    this.#imageNameCache.clear();
    for (const l of lines) {
      const m = /^Loaded image(?: ID)?: (.+)$/.exec(l.trim());
      if (!m) continue;
      const id = await this.#image.get(m[1]!).then((r) => r.id, () => m[1]!);
      this.#bus.emit('image', 'load', id, { name: id });
    }
    return lines;
  }

  async saveImages(refs: string[], out: Writable): Promise<void> {
    await this.#image.save(refs, out);
    for (const r of refs) {
      const id = await this.#image.get(r).then((x) => x.id, () => undefined);
      if (id) this.#bus.emit('image', 'save', id, { name: r });
    }
  }

  async importImage(input: Readable, opts: ImportOptions): Promise<string> {
    const id = await this.#image.importRootfs(input, opts);
    this.#imageNameCache.clear();
    // as dockerd: the tag, then the import
    if (opts.repo) this.#tagEvent(id, `${opts.repo}:${opts.tag || 'latest'}`);
    this.#bus.emit('image', 'import', id, { name: id });
    return id;
  }

  async pruneImages(opts: { all: boolean; filters: Record<string, string[]> }): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }> {
    const inUse = new Set((await this.imagesInUse()).keys());
    const r = await this.#image.prune(opts, inUse);
    this.#imageNameCache.clear();
    for (const it of r.deleted) if (it.Deleted) this.#bus.emit('image', 'delete', it.Deleted, { name: it.Deleted });
    this.#bus.emit('image', 'prune', '', { reclaimed: String(r.spaceReclaimed) });
    return r;
  }

  async imagesInUse(): Promise<Map<string, number>> {
    const m = new Map<string, number>();
    for (const e of this.#byId.values()) m.set(e.c.Image, (m.get(e.c.Image) ?? 0) + 1);
    return m;
  }

  // ───────────────────────── boot / shutdown ─────────────────────────

  async restore(): Promise<void> {
    await mkdir(this.#containersDir, { recursive: true, mode: 0o710 });
    const names = await readdir(this.#containersDir);
    const ids = names.filter((n) => /^[0-9a-f]{64}$/.test(n));
    // removals a crash interrupted: the container was already gone, finish with its runtime state and layer
    await Promise.all(names.map((n) => /^\.removing-([0-9a-f]{64})$/.exec(n)?.[1]).filter((id) => id !== undefined).map(async (id) => {
      await Promise.all([this.#rt.delete(id).catch(() => {}), this.#image.removeRwLayer(id).catch(() => {})]);
      await removeAll(this.#trashDir(id)).catch((err: unknown) => log().warn({ err, id }, 'cannot remove a container directory'));
    }));
    const bootId = await this.#bootIdNow();
    const loaded = await Promise.all(ids.map(async (id) => {
      const dir = join(this.#containersDir, id);
      try {
        const [c, hc] = await Promise.all([readJson<Container>(join(dir, 'config.v2.json')), readJson<HostConfig>(join(dir, 'hostconfig.json'))]);
        if (!c || !hc) return undefined;
        c.HostConfig = { ...defaultHostConfig(), ...hc }; // a hand-edited hostconfig.json may lack fields
        c.Berth ??= { ConmonPid: 0, Runtime: hc.Runtime || this.#cfg.defaultRuntime, LogOffset: 0, BootId: '' };
        return c;
      } catch (err) {
        log().warn({ err, id }, 'skipping a container whose state cannot be read');
        return undefined;
      }
    }));
    for (const c of loaded) {
      if (!c) continue;
      const e = this.#newEntry(c);
      this.#byId.set(c.ID, e);
      this.#names.set(c.Name, c.ID);
    }
    this.#vols.adoptRunning();
    // what a build that a crash cut short left: its context, and (below) its scratch layers
    await rm(this.buildScratchDir(), { recursive: true, force: true });
    // read-write layers nobody owns: a build step's or a create's that a crash cut short
    for (const id of this.#image.rwLayerIds()) {
      if (!this.#byId.has(id) && !(await lstat(join(this.#containersDir, id)).catch(() => undefined))) await this.#image.removeRwLayer(id).catch((err: unknown) => log().warn({ err, id }, 'removing an orphaned read-write layer'));
    }
    await this.#nets?.init();
    await Promise.all([...this.#byId.values()].map((e) => this.#restoreOne(e, bootId).catch((err: unknown) => log().error({ err, id: e.c.ID }, 'restore failed'))));
    this.#armExits();
    // restart policies at boot: `always` comes back whatever stopped it, the others as their policy says
    await Promise.all([...this.#byId.values()].map((e) => {
      const c = e.c;
      if (e.run || c.State.Running || c.HostConfig.AutoRemove || c.State.RemovalInProgress || !c.HasBeenStartedBefore) return undefined;
      if (!restartOnBoot(c.HostConfig.RestartPolicy, c.State.ExitCode, c.HasBeenManuallyStopped, c.RestartCount)) return undefined;
      return this.#lock(e, () => this.#start(e)).catch((err: unknown) => log().error({ err, id: c.ID }, 'restart at boot failed'));
    }));
  }

  async #restoreOne(e: Entry, bootId: string): Promise<void> {
    const c = e.c;
    if (c.State.RemovalInProgress) { await this.#remove(e); return; }
    if (c.State.Restarting) Object.assign(c.State, { Running: false, Restarting: false }); // its restart died with the daemon
    if (!c.State.Running) {
      if (c.HostConfig.AutoRemove && c.HasBeenStartedBefore) await this.#remove(e);
      return;
    }
    const staging = join(e.dir, STAGING_DIR, STAGING_LOG);
    const jsonLog = join(e.dir, `${c.ID}-json.log`);
    const skipUntil = await lastJsonLogTime(jsonLog);
    const converter = new LogConverter(staging, jsonLog, { offset: c.Berth.LogOffset ?? 0, ino: c.Berth.LogIno ?? 0 }, {
      ...(skipUntil !== undefined ? { skipUntil } : {}), ...this.#converterOpts(c.HostConfig),
    });
    let resolveExited!: () => void;
    const run: RunState = {
      converter, started: Promise.resolve(), exited: new Promise((r) => (resolveExited = r)), resolveExited: () => resolveExited(),
      handling: false, live: true, attaches: new Set(),
    };
    e.run = run;
    e.runtimeHeld = true;
    const sameBoot = !c.Berth.BootId || c.Berth.BootId === bootId;
    const exit = sameBoot ? await this.#rt.readExit(c.ID).catch(() => undefined) : undefined;
    if (exit) { await this.#handleExit(c.ID, exit); return; }
    const alive = sameBoot && c.Berth.ConmonPid > 0 && this.#rt.monitorAlive(c.ID, c.Berth.ConmonPid);
    if (alive) {
      const st = await this.#rt.state(c.ID).catch(() => undefined);
      if (st && st.status !== 'stopped') {
        c.State.Paused = st.status === 'paused';
        this.#watchLog(e, run);
        this.#startHealth(e, false);
        await converter.pump().catch(() => {});
        return;
      }
    }
    // the monitor is gone (or the host rebooted) and left no exit status
    if (sameBoot) await this.#rt.kill(c.ID, 'SIGKILL').catch(() => {});
    await this.#handleExit(c.ID, { exitCode: 255, oomKilled: false, finishedAt: new Date() });
  }

  async shutdown(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    for (const e of this.#byId.values()) if (e.restart.timer) { clearTimeout(e.restart.timer); e.restart.timer = undefined; }
    const running = [...this.#byId.values()].filter((e) => e.run);
    if (!this.#cfg.liveRestore) {
      await Promise.all(running.map((e) => this.#lock(e, async () => {
        await this.#stop(e, undefined, undefined).catch((err: unknown) => log().warn({ err, id: e.c.ID }, 'stop at shutdown failed'));
        if (!e.run) this.#event(e.c, 'stop');
      })));
    }
    await Promise.all([...this.#byId.values()].filter((e) => e.run).map(async (e) => {
      const run = e.run!;
      run.live = false;
      run.watcher?.close();
      await run.converter.pump().catch(() => {});
      await run.converter.close();
      const st = run.converter.state;
      e.c.Berth.LogOffset = st.offset;
      e.c.Berth.LogIno = st.ino;
      await this.#persist(e).catch(() => {});
      for (const a of [...run.attaches, ...e.pendingAttaches]) a.close();
    }));
    await this.#nets?.close();
  }

  // ---- commit
  async commitContainer(ref: string, o: CommitRequest): Promise<string> {
    const e = this.#resolve(ref);
    const c = e.c;
    let paused = false;
    if (o.pause && e.run?.live && !c.State.Paused) {
      await this.#rt.pause(c.ID);
      paused = true;
    }
    try {
      let cfg: Partial<ContainerConfig> = structuredClone(o.config ?? c.Config);
      if (o.changes) cfg = o.changes(cfg);
      const config = mergeCommitConfig(cfg, c.Config);
      const id = await this.#image.commit(c.ID, {
        parentImage: c.Image || undefined, config, containerConfig: c.Config, container: c.ID, author: o.author, comment: o.comment,
        createdBy: (c.Config.Cmd ?? []).join(' '), ...(o.repo ? { repo: o.repo } : {}), ...(o.tag ? { tag: o.tag } : {}),
      });
      // as dockerd: the tag, then the commit
      if (o.repo) this.#tagEvent(id, `${o.repo}:${o.tag || 'latest'}`);
      this.#event(c, 'commit', { comment: o.comment, imageID: id, ...(o.repo ? { imageRef: o.tag ? `${o.repo}:${o.tag}` : o.repo } : {}) });
      return id;
    } finally {
      if (paused) await this.#rt.resume(c.ID).catch((err: unknown) => log().warn({ err, id: c.ID }, 'unpause after commit failed'));
    }
  }

  // ---- the builder's steps (builder.BuildBackend)
  buildImage(ref: string): Promise<ImageRecord> { return this.#image.get(ref); }
  buildChildren(parent: string): Promise<ImageRecord[]> { return this.#image.children(parent); }
  buildCommit(from: string | null, o: CommitOptions): Promise<string> { return this.#image.commit(from, o); }
  buildScratchDir(): string { return join(this.#o.root, 'builder'); }

  /** A read-write layer on `image` for COPY/ADD/WORKDIR (or to read a stage's files), mounted. */
  async buildLayer(image: string | null): Promise<{ id: string; rootfs: string }> {
    const id = newId();
    await this.#image.createRwLayer(id, image);
    try {
      return { id, rootfs: await this.#image.mountRwLayer(id) };
    } catch (err) {
      await this.#image.removeRwLayer(id).catch(() => {});
      throw err;
    }
  }

  async dropBuildLayer(id: string): Promise<void> { await this.#image.removeRwLayer(id); }

  // ---- exec
  get #execs(): ExecManager {
    return this.#execManager ??= new ExecManager({
      runtime: this.#rt,
      container: (ref) => {
        const c = this.#resolve(ref).c;
        if (c.State.Restarting) throw new ConflictError(`Container ${c.ID} is restarting, wait until the container is running`);
        return { id: c.ID, running: c.State.Running, paused: c.State.Paused, user: c.Config.User ?? '', groupAdd: c.HostConfig.GroupAdd ?? [] };
      },
      event: (id, action, extra) => {
        const e = this.#byId.get(id);
        if (e) this.#event(e.c, action, extra);
      },
      defaultDetachKeys: () => this.#cfg.detachKeys ?? '',
    });
  }

  async createExec(ref: string, req: ExecCreateRequest): Promise<string> { return this.#execs.create(ref, req); }
  async inspectExec(id: string): Promise<ExecState> { return this.#execs.inspect(id); }
  startExec(id: string, opts: { detach: boolean; consoleSize?: { height: number; width: number } }): Promise<AttachStreams | undefined> { return this.#execs.start(id, opts); }
  resizeExec(id: string, height: number, width: number): Promise<void> { return this.#execs.resize(id, height, width); }

  // ---- volumes
  #volumes: Volumes | undefined;
  get #vols(): Volumes {
    return this.#volumes ??= new Volumes({
      store: this.#o.volumeStore ?? new VolumeStore(join(this.#o.root, 'volumes')),
      containers: () => [...this.#byId.values()].map((e) => e.c),
      container: (ref) => this.#resolve(ref).c,
      emit: (action, id, attributes) => { this.#bus.emit('volume', action, id, attributes); },
    });
  }

  listVolumes(filters: Record<string, string[]>): Promise<Volume[]> { return this.#vols.list(filters); }
  inspectVolume(name: string): Promise<Volume> { return this.#vols.inspect(name); }
  createVolume(opts: CreateVolumeOptions): Promise<Volume> { return this.#vols.create(opts); }
  removeVolume(name: string, force: boolean): Promise<void> { return this.#vols.remove(name, force); }
  pruneVolumes(filters: Record<string, string[]>): Promise<VolumePruneReport> { return this.#vols.prune(filters); }

  // ---- networks: networks.ts
  #networks: Networks | undefined;
  get #nets(): Networks | undefined {
    const cfg = this.#o.network;
    if (!cfg) return undefined;
    return this.#networks ??= new Networks({
      root: this.#o.root, execRoot: this.#o.execRoot, config: cfg,
      containers: () => [...this.#byId.values()].map((e) => e.c),
      resolve: (ref) => this.#resolve(ref).c,
      running: (c) => c.State.Running || this.#byId.get(c.ID)?.run !== undefined,
      persist: async (c) => { const e = this.#byId.get(c.ID); if (e) await this.#persist(e); },
      emit: (action, id, attributes) => { this.#bus.emit('network', action, id, attributes); },
      hostResolv: async () => (await readHostSources()).resolv,
    });
  }

  get #netsOn(): Networks {
    const n = this.#nets;
    if (!n) throw new NotImplementedError('networking is off in this engine');
    return n;
  }

  async #attachNet(c: Container): Promise<Attachment> {
    const n = this.#nets;
    if (n) return n.attach(c);
    // networking off (unit tests): the modes that need no bridge
    const mode = c.HostConfig.NetworkMode || 'default';
    if (mode === 'host') return { netns: 'host', kind: 'host' };
    if (mode.startsWith('container:')) {
      const peer = this.#resolve(mode.slice('container:'.length)).c;
      if (!peer.State.Running) throw new ConflictError(`cannot join network of a non running container: ${peer.ID}`);
      return { netns: `/proc/${peer.State.Pid}/ns/net`, kind: 'container', peer };
    }
    if (mode !== 'default' && mode !== 'bridge' && mode !== 'none') throw new NotFoundError(`network ${mode} not found`);
    return { netns: undefined, kind: mode === 'none' ? 'none' : 'bridge' };
  }

  /** --link targets: running containers, with their address on the default bridge. */
  #links(c: Container): (LinkEntry & { child: Container })[] {
    const out: (LinkEntry & { child: Container })[] = [];
    for (const l of c.HostConfig.Links ?? []) {
      const [rawName, rawAlias] = l.split(':');
      const name = rawName!.replace(/^\//, '');
      const alias = (rawAlias ?? name).split('/').pop()!;
      let child: Container;
      try { child = this.#resolve(name).c; } catch { throw new NotFoundError(`could not get container for ${name}`); }
      if (!child.State.Running) throw new InvalidArgumentError(`Cannot link to a non running container: /${child.Name.slice(1)} AS /${c.Name.slice(1)}/${alias}`);
      const ip = child.NetworkSettings.Networks.bridge?.IPAddress ?? '';
      out.push({ alias, name: child.Name.slice(1), hostname: child.Config.Hostname, ip, child });
    }
    return out;
  }

  /** /etc/hosts and /etc/resolv.conf as Docker writes them for the container's network. */
  async #etcFiles(c: Container, att: Attachment, links: LinkEntry[]): Promise<[string, string]> {
    const hc = c.HostConfig;
    if (att.kind === 'container' && att.peer) {
      const read = (p: string) => (p ? readFile(p, 'utf8').catch(() => '') : Promise.resolve(''));
      const [h, r] = await Promise.all([read(att.peer.HostsPath), read(att.peer.ResolvConfPath)]);
      if (h || r) return [h, r];
    }
    const src = await readHostSources();
    const kind = att.kind === 'container' ? 'bridge' : att.kind;
    const hosts = hostsFile({
      kind, hostname: c.Config.Hostname, domainname: c.Config.Domainname, ...(att.ip ? { ip: att.ip } : {}),
      extraHosts: hc.ExtraHosts ?? [], ...(att.hostGateway ? { hostGatewayIP: att.hostGateway } : {}), links: kind === 'bridge' ? links : [],
    }, src.hosts ?? '');
    const { text } = resolvConf({
      kind, dns: hc.Dns.length ? hc.Dns : this.#cfg.dns ?? [], dnsSearch: hc.DnsSearch.length ? hc.DnsSearch : this.#cfg.dnsSearch ?? [],
      dnsOptions: hc.DnsOptions.length ? hc.DnsOptions : this.#cfg.dnsOptions ?? [], ...(att.dns ? { embeddedDns: att.dns } : {}),
    }, src.resolv);
    return [hosts, text];
  }

  async listNetworks(filters: Record<string, string[]>): Promise<NetworkView[]> { return this.#netsOn.list(filters); }
  async inspectNetwork(ref: string): Promise<NetworkView> { return this.#netsOn.inspect(ref); }
  createNetwork(req: NetworkCreateRequest): Promise<{ id: string; warning: string }> { return this.#netsOn.create(req); }
  removeNetwork(ref: string): Promise<void> { return this.#netsOn.remove(ref); }
  pruneNetworks(filters: Record<string, string[]>): Promise<string[]> { return this.#netsOn.prune(filters); }
  async connectNetwork(ref: string, container: string, endpoint: EndpointRequest): Promise<void> {
    const nets = this.#netsOn;
    const e = this.#resolve(container);
    await this.#lock(e, async () => {
      const { dns } = await nets.connect(ref, e.c, endpoint);
      // a default-bridge container now on a user network resolves through that network's DNS, as with dockerd;
      // written in place: the container sees the file through a bind mount of this inode
      if (dns && e.c.ResolvConfPath && e.run) {
        const [, resolv] = await this.#etcFiles(e.c, { netns: e.c.NetworkSettings.SandboxKey, kind: 'user', dns }, []);
        await writeFile(e.c.ResolvConfPath, resolv);
      }
    });
  }
  async disconnectNetwork(ref: string, container: string, force: boolean): Promise<void> {
    const nets = this.#netsOn;
    const e = this.#resolve(container);
    await this.#lock(e, () => nets.disconnect(ref, e.c, force));
  }

  // ---- stats and update
  #statsHost: StatsHost | undefined;
  get #stats(): StatsHost {
    return this.#statsHost ??= {
      resolve: (ref) => this.#resolve(ref).c,
      exists: (id) => this.#byId.has(id),
      cgroupsPath: (c) => this.#cgroupsPath(c),
      ncpu: this.#ncpu,
      locked: (c, fn) => this.#mutex.run(c.ID, fn),
      persist: (c) => { const e = this.#byId.get(c.ID); return e ? this.#persist(e, true) : Promise.resolve(); },
      event: (c, action) => this.#event(c, action),
    };
  }

  async containerStats(ref: string, opts: { stream: boolean; oneShot: boolean }, signal: AbortSignal): Promise<AsyncIterable<StatsJSON>> {
    return containerStats(this.#stats, ref, opts, signal);
  }
  updateContainer(ref: string, update: Partial<HostConfig>): Promise<{ warnings: string[] }> { return updateContainer(this.#stats, ref, update); }

  // ---- archive (docker cp, docker diff): archive.ts
  /** Run fn on the container's filesystem, under its lock, mounting the rootfs for the call when it is not (as Docker does). */
  async #withRootfs<T>(e: Entry, fn: (v: ReturnType<typeof containerView>) => Promise<T>): Promise<T> {
    if (e.mounting) await e.mounting;
    const rootfs = await this.#image.mountRwLayer(e.c.ID);
    try {
      return await fn(containerView(rootfs, e.c));
    } finally {
      if (!e.run && !e.mounting) await this.#image.unmountRwLayer(e.c.ID).catch((err: unknown) => log().warn({ err, id: e.c.ID }, 'archive: unmount failed'));
    }
  }

  #archiveError(err: unknown, path: string, ref: string): unknown {
    if (errno(err) === 'ENOENT') return new NotFoundError(`Could not find the file ${path} in container ${ref}`);
    if (err instanceof EngineError) return err;
    return new SystemError(err instanceof Error ? err.message : String(err));
  }

  async containerStatPath(ref: string, path: string): Promise<PathStat> {
    const e = this.#resolve(ref);
    return this.#lock(e, () => this.#withRootfs(e, async ({ fs }) => {
      try { return statPath(fs, path).stat; } catch (err) { throw this.#archiveError(err, path, ref); }
    }));
  }

  async containerArchivePath(ref: string, path: string): Promise<{ stat: PathStat; write(out: Writable): Promise<void> }> {
    const e = this.#resolve(ref);
    return new Promise((resolve, reject) => {
      this.#lock(e, () => this.#withRootfs(e, async ({ fs }) => {
        let s: ReturnType<typeof statPath>;
        try { s = statPath(fs, path); } catch (err) { reject(this.#archiveError(err, path, ref)); return; }
        this.#event(e.c, 'archive-path');
        // the lock and the mount stay until the route has written the tar
        await new Promise<void>((done) => resolve({
          stat: s.stat,
          write: async (out) => { try { await writeArchive(fs, s.found, s.abs, out); } finally { done(); } },
        }));
      })).catch(reject);
    });
  }

  async containerExtractToDir(ref: string, path: string, opts: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }, input: Readable): Promise<void> {
    const e = this.#resolve(ref);
    await this.#lock(e, () => this.#withRootfs(e, async ({ fs, mounts }) => {
      try { await extractToDir(fs, e.c, mounts, path, input, opts); } catch (err) { throw this.#archiveError(err, path, ref); }
    }));
    this.#event(e.c, 'extract-to-dir');
  }

  async containerChanges(ref: string): Promise<Change[]> {
    const e = this.#resolve(ref);
    const g = await this.#image.graphDriverData(e.c.ID);
    return diffContainer(g.UpperDir, join(this.#o.execRoot, 'changes'));
  }
}

/** tmp + rename without fsync: atomic for readers and against a daemon crash. */
async function writeRenamed(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  await writeFile(tmp, data, { mode });
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Parse `ps` output, keeping the rows of the container's pids (Docker's parsePSOutput). */
export function parsePs(out: string, pids: Set<string>): { Titles: string[]; Processes: string[][] } {
  const lines = out.split('\n');
  const Titles = (lines[0] ?? '').trim().split(/\s+/);
  const pidIndex = Titles.indexOf('PID');
  if (pidIndex < 0) throw new SystemError("Couldn't find PID field in ps output");
  const Processes: string[][] = [];
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    const fields = line.trim().split(/\s+/);
    if (!pids.has(fields[pidIndex] ?? '')) continue;
    const row = fields.slice(0, Titles.length - 1);
    row.push(fields.slice(Titles.length - 1).join(' '));
    Processes.push(row);
  }
  return { Titles, Processes };
}

function untilToNanos(v: string): bigint {
  if (/^\d+(\.\d+)?$/.test(v)) return secondsToNanos(Number(v));
  const t = parseRfc3339(v) ?? parseRfc3339(`${v}Z`);
  if (t !== undefined) return t;
  try {
    const ms = Date.now() - parseDurationMs(v);
    return BigInt(ms) * 1_000_000n;
  } catch {
    throw new InvalidArgumentError(`failed to parse value ${v} as timestamp`);
  }
}

function parseDurationMs(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v);
  if (!m) throw new Error('bad');
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

