/**
 * The engine's face towards the API routes (cf. moby router/<area>/backend.go). Routes call
 * only this; api/server/compat turns the model into wire JSON. Errors are lib/errdefs classes.
 */
import type { Readable, Writable } from 'node:stream';
import type { Container, ContainerConfig, HostConfig, ContainerStatus } from './model.ts';
import type { PathStat, Change } from './archive.ts';
import type { ImageRecord, DeleteItem, HistoryItem, GraphDriverData, ImportOptions, CommitOptions } from '../image/index.ts';
import type { Volume, CreateVolumeOptions } from '../volume/index.ts';

export interface CreateContainerRequest {
  name?: string;
  /** Docker's create body: Config fields at the top level, plus HostConfig and NetworkingConfig. */
  config: Partial<ContainerConfig>;
  hostConfig: Partial<HostConfig>;
  networkingConfig?: { EndpointsConfig?: Record<string, unknown> };
}

export interface ListContainersOptions {
  all: boolean;
  limit: number;
  size: boolean;
  /** Parsed `filters` (status, name, id, label, ancestor, exited, before, since…). */
  filters: Record<string, string[]>;
}

/** A container with what the engine computes on the fly. */
export interface ContainerView {
  container: Container;
  status: ContainerStatus;
  imageName: string;
  sizeRw?: number;
  sizeRootFs?: number;
  graphDriver: GraphDriverData;
  /** Running exec instances (inspect's ExecIDs). */
  execIds?: string[];
}

export interface LogsOptions {
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Unix seconds (float) or 0. */
  since: number;
  until: number;
  timestamps: boolean;
  /** 'all' or a count. */
  tail: number | 'all';
}

export interface LogEntry { stream: 'stdout' | 'stderr'; time: string; line: Buffer }

export interface AttachOptions {
  stream: boolean;
  logs: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys?: string;
}

/** The hijacked-connection side of an attach: the route pumps the socket through this. */
export interface AttachStreams {
  tty: boolean;
  /** Output to the client: stream 1/2 (multiplexed by the route unless TTY). */
  onOutput(cb: (stream: 1 | 2, data: Buffer) => void): void;
  /** Resolves when the attach ends (container exit, detach, or close). */
  done: Promise<{ detached: boolean }>;
  writeStdin(data: Buffer): void;
  closeStdin(): void;
  close(): void;
}

/** POST /commit */
export interface CommitRequest {
  repo: string;
  tag: string;
  author: string;
  comment: string;
  pause: boolean;
  /** The request body's config, if any (else the container's). */
  config?: Partial<ContainerConfig> | undefined;
  /** Applies the `changes` instructions to a config. */
  changes?: ((c: Partial<ContainerConfig>) => Partial<ContainerConfig>) | undefined;
}

/** POST /containers/{id}/exec body. */
export interface ExecCreateRequest {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  DetachKeys?: string;
  Tty?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Privileged?: boolean;
  User?: string;
  WorkingDir?: string;
  /** [height, width] */
  ConsoleSize?: number[] | null;
}

/** An exec instance (GET /exec/{id}/json is made from it). */
export interface ExecState {
  id: string;
  containerId: string;
  running: boolean;
  exitCode: number | null;
  pid: number;
  tty: boolean;
  entrypoint: string;
  arguments: string[];
  privileged: boolean;
  user: string;
  openStdin: boolean;
  openStdout: boolean;
  openStderr: boolean;
  detachKeys: string;
  env: string[];
  workingDir: string;
  consoleSize: { height: number; width: number } | undefined;
}

export interface EngineEvent {
  Type: 'container' | 'image' | 'volume' | 'network' | 'daemon';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

export interface SystemInfo {
  id: string;
  containers: number;
  running: number;
  paused: number;
  stopped: number;
  images: number;
  dataRoot: string;
  execRoot: string;
  cgroupDriver: string;
  cgroupVersion: '1' | '2';
  runtimes: Record<string, { path: string }>;
  defaultRuntime: string;
  debug: boolean;
  liveRestore: boolean;
  kernelVersion: string;
  operatingSystem: string;
  ncpu: number;
  memTotal: number;
  name: string;
  insecureRegistries: string[];
  registryMirrors: string[];
  loggingDriver: string;
  initPath: string;
  serverVersion: string;
  labels: string[];
  experimental: boolean;
  /** Versions of the helpers berth runs (runc, conmon, docker-init), for /version and info. */
  components?: { name: string; version: string; commit: string }[];
}

/** One network as berth keeps it (Docker's NetworkResource without Containers, which are computed). */
export interface NetworkRecord {
  Name: string;
  Id: string;
  /** RFC 3339 with nanoseconds. */
  Created: string;
  /** 'bridge' | 'host' | 'null' */
  Driver: string;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: { Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** A container's endpoint on a network, as GET /networks/{id} lists it under Containers. */
export interface NetworkEndpointView {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  /** `172.18.0.2/16` or '' */
  IPv4Address: string;
  IPv6Address: string;
}

export interface NetworkView {
  network: NetworkRecord;
  /** container id → endpoint; the route prints {} for none. */
  containers: Record<string, NetworkEndpointView>;
}

/** POST /networks/create body (already decoded; field names as Docker's). */
export interface NetworkCreateRequest {
  Name: string;
  CheckDuplicate?: boolean;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Options?: Record<string, string> | null; Config?: { Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }[] | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** The EndpointConfig of a connect (and of NetworkingConfig.EndpointsConfig at create). */
export interface EndpointRequest {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  DriverOpts?: Record<string, string> | null;
}

export interface EngineBackend {
  // system
  info(): Promise<SystemInfo>;
  diskUsage(): Promise<{ layersSize: number; images: ImageRecord[]; containers: ContainerView[]; imageContainers: Map<string, number>; volumes: { volume: Volume; size: number; refCount: number }[] }>;
  subscribeEvents(opts: { since?: number; until?: number; filters: Record<string, string[]> }, cb: (e: EngineEvent) => void): () => void;

  // containers
  createContainer(req: CreateContainerRequest): Promise<{ id: string; warnings: string[] }>;
  listContainers(opts: ListContainersOptions): Promise<ContainerView[]>;
  /** By name (with or without `/`), full ID or unique prefix. NotFoundError `No such container: <ref>`. */
  inspectContainer(ref: string, size: boolean): Promise<ContainerView>;
  startContainer(ref: string, detachKeys?: string): Promise<void>;
  stopContainer(ref: string, opts: { timeout?: number; signal?: string }): Promise<void>;
  restartContainer(ref: string, opts: { timeout?: number; signal?: string }): Promise<void>;
  killContainer(ref: string, signal?: string): Promise<void>;
  pauseContainer(ref: string): Promise<void>;
  unpauseContainer(ref: string): Promise<void>;
  /**
   * condition: 'not-running' (default), 'next-exit', 'removed'. Resolves with the exit code.
   * Registers the waiter synchronously, before its first `await` (the CLI opens wait before start; the route
   * sends the response headers one event-loop turn later).
   */
  waitContainer(ref: string, condition: string, signal?: AbortSignal): Promise<{ StatusCode: number; Error?: { Message: string } }>;
  removeContainer(ref: string, opts: { force: boolean; volumes: boolean; link: boolean }): Promise<void>;
  renameContainer(ref: string, newName: string): Promise<void>;
  topContainer(ref: string, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }>;
  logs(ref: string, opts: LogsOptions, signal: AbortSignal): Promise<{ tty: boolean; entries: AsyncIterable<LogEntry> }>;
  attachContainer(ref: string, opts: AttachOptions): Promise<AttachStreams>;
  resizeContainer(ref: string, height: number, width: number): Promise<void>;
  pruneContainers(filters: Record<string, string[]>): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }>;
  exportContainer(ref: string, out: Writable): Promise<void>;

  // archive (docker cp, docker diff): see archive.ts
  /** HEAD /containers/{id}/archive. NotFoundError `Could not find the file <path> in container <ref>`. */
  containerStatPath(ref: string, path: string): Promise<PathStat>;
  /** GET /containers/{id}/archive: the stat, then `write` streams the tar (the container stays locked and mounted until it is done). */
  containerArchivePath(ref: string, path: string): Promise<{ stat: PathStat; write(out: Writable): Promise<void> }>;
  /** PUT /containers/{id}/archive: extract a tar into a directory of the container. */
  containerExtractToDir(ref: string, path: string, opts: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }, input: Readable): Promise<void>;
  /** GET /containers/{id}/changes ([] when nothing changed). */
  containerChanges(ref: string): Promise<Change[]>;
  /**
   * Stats objects as dockerd writes them (types.StatsJSON, key order kept): stream = one per second until signal
   * aborts; else one (oneShot: without the second sample for precpu_stats). NotFoundError before anything is yielded.
   */
  containerStats(ref: string, opts: { stream: boolean; oneShot: boolean }, signal: AbortSignal): Promise<AsyncIterable<Record<string, unknown>>>;
  /** POST /containers/{id}/update: new limits (live when running) and restart policy; returns Docker's warnings. */
  updateContainer(ref: string, update: Partial<HostConfig>): Promise<{ warnings: string[] }>;

  /** docker commit. `changes`: the `-c` instructions, applied by the caller's parser to the config. */
  commitContainer(ref: string, o: CommitRequest): Promise<string>;

  // exec
  createExec(ref: string, req: ExecCreateRequest): Promise<string>;
  inspectExec(id: string): Promise<ExecState>;
  /** Detached: resolves once it runs. Attached: the streams (errors after this point go into the stream). */
  startExec(id: string, opts: { detach: boolean; consoleSize?: { height: number; width: number } }): Promise<AttachStreams | undefined>;
  resizeExec(id: string, height: number, width: number): Promise<void>;

  // images
  listImages(): Promise<ImageRecord[]>;
  inspectImage(ref: string): Promise<{ image: ImageRecord; graphDriver: GraphDriverData }>;
  imageHistory(ref: string): Promise<HistoryItem[]>;
  tagImage(source: string, repo: string, tag: string): Promise<void>;
  removeImage(ref: string, opts: { force: boolean; noPrune: boolean }): Promise<DeleteItem[]>;
  loadImages(input: Readable, onProgress: (line: string) => void): Promise<string[]>;
  saveImages(refs: string[], out: Writable): Promise<void>;
  importImage(input: Readable, opts: ImportOptions): Promise<string>;
  pruneImages(opts: { all: boolean; filters: Record<string, string[]> }): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }>;
  /** Image IDs used by at least one container (for `images` filters and `system df`). */
  imagesInUse(): Promise<Map<string, number>>;

  // the builder's needs (builder.BuildBackend): images, their children, commits, scratch layers
  buildImage(ref: string): Promise<ImageRecord>;
  buildChildren(parent: string): Promise<ImageRecord[]>;
  buildCommit(from: string | null, o: CommitOptions): Promise<string>;
  buildLayer(image: string | null): Promise<{ id: string; rootfs: string }>;
  dropBuildLayer(id: string): Promise<void>;
  buildScratchDir(): string;

  // volumes
  /** Filters: dangling, name, driver, label. Sorted by name. */
  listVolumes(filters: Record<string, string[]>): Promise<Volume[]>;
  /** NotFoundError `get <name>: no such volume`. */
  inspectVolume(name: string): Promise<Volume>;
  /** An existing name returns that volume unchanged. */
  createVolume(opts: CreateVolumeOptions): Promise<Volume>;
  /** ConflictError `remove <name>: volume is in use - [<ids>]`; `force` ignores a missing volume. */
  removeVolume(name: string, force: boolean): Promise<void>;
  /** Removes every volume no container refers to (API 1.41); filters: label, label!. */
  pruneVolumes(filters: Record<string, string[]>): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }>;

  // networks (cf. moby router/network)
  /** Filters: driver, id, label, name (substring), scope, type (custom|builtin), dangling. Docker's order: as created, predefined first. */
  listNetworks(filters: Record<string, string[]>): Promise<NetworkView[]>;
  /** By full name, full ID or unique ID prefix. NotFoundError `network <ref> not found`. */
  inspectNetwork(ref: string): Promise<NetworkView>;
  /** Returns the new id and dockerd's Warning ('' when none). Errors in dockerd's words: 409 `network with name <n> already exists`, 403-like overlap, 404 unknown driver. */
  createNetwork(req: NetworkCreateRequest): Promise<{ id: string; warning: string }>;
  /** ForbiddenError (403) for predefined networks and for `error while removing network: network <n> id <id> has active endpoints`. */
  removeNetwork(ref: string): Promise<void>;
  /** Removes user networks no container uses; filters: until, label, label!. Returns removed names. */
  pruneNetworks(filters: Record<string, string[]>): Promise<string[]>;
  connectNetwork(ref: string, container: string, endpoint: EndpointRequest): Promise<void>;
  disconnectNetwork(ref: string, container: string, force: boolean): Promise<void>;
}
