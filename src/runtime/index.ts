/**
 * runtime: OCI spec generation and the conmon + runc driver. Knows nothing of images:
 * it gets a rootfs path. Implementation files are private to this module.
 */
import type { Spec, Process } from '../oci/index.ts';

/** What the engine asks for, in neutral terms; buildSpec turns it into config.json. */
export interface SpecOptions {
  id: string;
  rootfs: string;
  readonlyRootfs: boolean;
  args: string[];
  env: string[];
  cwd: string;
  /** Docker's `-u`: `name`, `uid`, `uid:gid`, `name:group`; resolved against rootfs /etc/passwd and /etc/group. */
  user: string;
  groupAdd: string[];
  hostname: string;
  domainname: string;
  tty: boolean;
  consoleSize?: { height: number; width: number };
  /** Path of a network namespace to join; undefined = new netns (loopback only); 'host' = share the host's. */
  netns: string | 'host' | undefined;
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  noNewPrivileges: boolean;
  ulimits: { Name: string; Soft: number; Hard: number }[];
  sysctls: Record<string, string>;
  /** Extra mounts (binds of hosts/hostname/resolv.conf, volumes, tmpfs), already resolved to host paths. */
  mounts: { destination: string; source: string; type: 'bind' | 'tmpfs'; options: string[] }[];
  shmSize: number;
  /** --init: path of the init binary on the host (tini-static), bind-mounted as /sbin/docker-init. */
  initPath?: string;
  cgroupsPath: string;
  resources: {
    memory?: number; memoryReservation?: number; memorySwap?: number; oomKillDisable?: boolean;
    cpuShares?: number; cpuQuota?: number; cpuPeriod?: number; cpusetCpus?: string; cpusetMems?: string;
    pidsLimit?: number; blkioWeight?: number; memorySwappiness?: number;
    /** Block I/O by device path (resolved to major:minor by buildSpec). */
    blkioWeightDevice?: { path: string; weight: number }[];
    readBps?: { path: string; rate: number }[]; writeBps?: { path: string; rate: number }[];
    readIOps?: { path: string; rate: number }[]; writeIOps?: { path: string; rate: number }[];
  };
  devices: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[];
  oomScoreAdj: number;
  maskedPaths?: string[];
  readonlyPaths?: string[];
}

export interface RuntimeConfig {
  /** Name → path of an OCI runtime binary (`runc` → /usr/sbin/runc). */
  runtimes: Record<string, { path: string; runtimeArgs?: string[] }>;
  defaultRuntime: string;
  /** Exec root (tmpfs), e.g. /run/berth: bundles in <execRoot>/c/<id>, exit files in <execRoot>/exits. */
  execRoot: string;
  conmonPath?: string;
  /** The systemd cgroup driver: runc gets --systemd-cgroup (cgroupsPath is then `slice:prefix:name`). */
  systemdCgroup?: boolean;
}

export interface CreateOptions {
  id: string;
  name: string;
  spec: Spec;
  runtime: string;
  tty: boolean;
  /** Keep stdin open for attach (-i). */
  openStdin: boolean;
  /**
   * Docker's StdinOnce: the container's stdin closes when the attached client closes its stdin (`docker run -i`).
   * false = stdin stays open across attaches (`docker run -d -i`; conmon --leave-stdin-open). Default true.
   */
  stdinOnce?: boolean;
  /** conmon's k8s-file log (the staging file the engine converts to json-file). */
  logPath: string;
  /** Upper bound for the staging log, bytes (conmon --log-size-max). */
  logSizeMax?: number;
  /** Directory that survives for the container's lifetime (conmon --persist-dir: exit, oom files). */
  persistDir: string;
}

export interface ExitInfo { exitCode: number; oomKilled: boolean; finishedAt: Date }

export type RuntimeStatus = 'created' | 'running' | 'paused' | 'stopped';

/** A live attach to a container's stdio through conmon's socket. */
export interface AttachSession {
  /** stream 1 = stdout, 2 = stderr (TTY output comes as stdout). */
  onData(cb: (stream: 1 | 2, data: Buffer) => void): void;
  onClose(cb: () => void): void;
  write(data: Buffer): void;
  closeStdin(): void;
  close(): void;
}

/** `docker exec`: one more process in a running container, under its own conmon. */
export interface ExecOptions {
  /** The exec session id (Docker's exec id): names conmon's state dir for it and its ctl fifo. */
  execId: string;
  /** The OCI process to run (args, env, cwd, user, terminal, capabilities…), as `runc exec --process` takes it. */
  process: Process;
  /** Connect to the exec's stdio before it runs, so no output is lost (docker exec without -d). */
  attach: boolean;
  /** Give the process a stdin the attached client writes to (-i). */
  openStdin: boolean;
}

export interface ExecSession {
  /** Host pid of the exec'd process. */
  pid: number;
  /** Its stdio, when attach was asked for; closes when the process exits. */
  io?: AttachSession;
  /** Its exit status (128+signal when killed). */
  exited: Promise<number>;
}

export interface RuntimeDriver {
  /**
   * conmon + `runtime create`: writes the bundle, returns once the container process exists. Clears a previous
   * run's exit/oom files for the id. On failure (SystemError with the runtime's text, e.g. `runc create failed:
   * unable to start container process: exec: "x": executable file not found in $PATH`) nothing is left behind.
   */
  create(o: CreateOptions): Promise<{ pid: number; conmonPid: number }>;
  start(id: string): Promise<void>;
  /** signal: `SIGTERM`, `TERM` or `15`. FailedPreconditionError when the container is not running. */
  kill(id: string, signal: string, all?: boolean): Promise<void>;
  /**
   * Remove the container from the runtime (killing it first if it still runs, and waiting for its conmon to
   * record the exit), then its bundle and its exit file: after delete, watchExits reports nothing more for id.
   * Idempotent.
   */
  delete(id: string): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  state(id: string): Promise<{ status: RuntimeStatus; pid: number } | undefined>;
  /** Host PIDs of every process in the container. */
  pids(id: string): Promise<number[]>;
  attach(id: string, opts: { stdin: boolean }): Promise<AttachSession>;
  resize(id: string, rows: number, cols: number): Promise<void>;
  /**
   * Run a process in the running container id. Resolves once it runs; rejects with the runtime's words when it
   * cannot start (e.g. `runc exec failed: unable to start container process: exec: "x": executable file not found
   * in $PATH`). State lives in the container's bundle and goes with delete(id).
   */
  exec(id: string, o: ExecOptions): Promise<ExecSession>;
  /** The config.json the container runs with (for exec), or undefined when it has no bundle. */
  readSpec(id: string): Promise<Spec | undefined>;
  /** Resize an exec's TTY. */
  resizeExec(id: string, execId: string, rows: number, cols: number): Promise<void>;
  /** Is the conmon with this pid still alive (not a zombie, and really conmon for this id)? */
  monitorAlive(id: string, conmonPid: number): boolean;
  /** Read the exit recorded by conmon for id, if any (consumes nothing). */
  readExit(id: string): Promise<ExitInfo | undefined>;
  /** Call cb for every exit file, now (pending ones) and as they appear; once per exit until delete(id). */
  watchExits(cb: (id: string, exit: ExitInfo) => void): void;
  close(): void;
}

export { buildSpec } from './spec.ts';
export { createConmonDriver } from './conmon.ts';
export { buildExecProcess, mergeEnv, type ExecProcessOptions } from './exec-spec.ts';
export type { Spec };

// ---- cgroups: stats and live limits (cgroups.ts)
export interface BlkioEntry { major: number; minor: number; op: string; value: number }
export interface NetStats {
  rx_bytes: number; rx_packets: number; rx_errors: number; rx_dropped: number;
  tx_bytes: number; tx_packets: number; tx_errors: number; tx_dropped: number;
}
/** A container's counters as its cgroups show them (ns for CPU times, bytes for memory). */
export interface CgroupStats {
  cpu: { total: number; percpu?: number[]; user: number; system: number; periods: number; throttledPeriods: number; throttledTime: number };
  /** maxUsage: v1 only. limit 0 = none. stats: v1 Docker's fixed key set, v2 all of memory.stat. */
  memory: { usage: number; maxUsage?: number; limit: number; stats: Record<string, number> };
  pids: { current: number; limit: number };
  blkio: { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] };
}
/** Limits to change on a running container; undefined = leave as is. pidsLimit ≤ 0 = unlimited, memorySwap -1 = unlimited. */
export interface CgroupResources {
  memory?: number; memorySwap?: number; memoryReservation?: number;
  cpuShares?: number; cpuPeriod?: number; cpuQuota?: number; cpusetCpus?: string; cpusetMems?: string;
  pidsLimit?: number; blkioWeight?: number;
}
/** What this host's cgroups can enforce (Docker's sysinfo). cpus/mems: what cpuset offers, e.g. `0-1`. */
export interface CgroupSupport {
  memoryLimit: boolean; swapLimit: boolean; memoryReservation: boolean; oomKillDisable: boolean; memorySwappiness: boolean;
  pidsLimit: boolean; cpuShares: boolean; cpuCfs: boolean; cpuset: boolean; cpus: string; mems: string;
  blkioWeight: boolean; blkioWeightDevice: boolean; blkioReadBps: boolean; blkioWriteBps: boolean; blkioReadIOps: boolean; blkioWriteIOps: boolean;
}
export {
  containerCgroupDirs, readCgroupStats, readNetStats, readSystemCpu, updateCgroupResources, cgroupSupport, hostCgroupMounts,
  type CgroupDirs,
} from './cgroups.ts';
