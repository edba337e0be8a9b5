/**
 * RuntimeDriver over conmon + an OCI runtime (runc). Layout under the exec root (tmpfs):
 *   c/<id>/            bundle: config.json, runtime.json (which runtime, persist dir), pidfile, conmon.pid,
 *                      attach (SOCK_SEQPACKET), ctl + winsz (FIFOs), runc.log, oom
 *   exits/<id>         the container's exit status, decimal, written by conmon when it exits
 *   runtime-<name>/    the runtime's own state (runc --root)
 * conmon double-forks and outlives the daemon; nothing in here keeps a handle on it after create() returns.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile, readFile, rm, unlink, open } from 'node:fs/promises';
import { readFileSync, writeFileSync, statSync, existsSync, rmSync, watch, type FSWatcher, mkdirSync, readdirSync, rmdirSync, constants, openSync, fstatSync, closeSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import * as net from 'node:net';
import { constants as osConstants } from 'node:os';
import type { Socket } from 'node:net';
import { errno, log, FailedPreconditionError, InvalidArgumentError, NotFoundError, SystemError } from '../lib/index.ts';
import type {
  AttachSession, CreateOptions, ExecOptions, ExecSession, ExitInfo, RuntimeConfig, RuntimeDriver, RuntimeStatus, Spec,
} from './index.ts';
import { runtimeCall, runtimeErrorText, type RuntimeBinary } from './runc.ts';
import { connectSeqpacket } from './attach-socket.ts';

const CREATE_TIMEOUT_MS = 60_000;
/** conmon reads at most 32767 bytes per stdin packet; stay well below. */
const STDIN_CHUNK = 16384;
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

interface BundleInfo { runtime: string; path: string; args: string[]; persistDir: string }

function checkId(id: string): void {
  if (!ID_RE.test(id)) throw new InvalidArgumentError(`invalid container id ${JSON.stringify(id)}`);
}

/** Alive and not a zombie. */
function pidAlive(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (errno(e) !== 'EPERM') return false;
  }
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function isConmonFor(pid: number, id: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!/conmon/.test(argv[0] ?? '')) return false;
    for (let i = 1; i < argv.length; i++) {
      if ((argv[i] === '-c' || argv[i] === '--cid') && argv[i + 1] === id) return true;
      if (argv[i] === `--cid=${id}`) return true;
    }
    return false;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The fast paths below know runc's state directory layout (libcontainer), nothing else's. */
function isRunc(rt: RuntimeBinary): boolean {
  return basename(rt.path) === 'runc';
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), to tell a pid from its reuse. */
function startTime(pid: number): number | undefined {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}

/**
 * `runc delete` of a stopped container without spawning runc (saves one runtime exec): remove the container's
 * cgroups and runc's state dir, as libcontainer's destroy() does for a stopped container. Returns false, and the
 * caller runs `runtime delete --force`, whenever anything is unusual: init still alive, hooks, a busy cgroup.
 */
async function deleteStopped(rt: RuntimeBinary, id: string): Promise<boolean> {
  if (!isRunc(rt)) return false;
  const dir = join(rt.root, id);
  let st: { init_process_pid?: number; init_process_start?: number; cgroup_paths?: Record<string, string>; config?: { hooks?: Record<string, unknown[]> } };
  try {
    st = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as typeof st;
  } catch (e) {
    if (errno(e) !== 'ENOENT') return false;
    rmSync(dir, { recursive: true, force: true });
    return true;
  }
  if (Object.values(st.config?.hooks ?? {}).some((h) => h && h.length > 0)) return false;
  const pid = st.init_process_pid ?? 0;
  if (pid > 0 && pidAlive(pid) && startTime(pid) === st.init_process_start) return false;
  const paths = [...new Set(Object.values(st.cgroup_paths ?? {}))];
  for (const p of paths) {
    for (let i = 0; ; i++) {
      try {
        rmdirSync(p); // cgroupfs: a few µs, not worth a thread-pool round trip per controller
        break;
      } catch (e) {
        const code = errno(e);
        if (code === 'ENOENT') break;
        if (code === 'EBUSY' && i < 5) { await sleep(2 * (i + 1)); continue; }
        return false;
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return true;
}

/**
 * `runc start` without spawning runc (saves one runtime exec, ~25 ms here): a created runc container's init blocks
 * opening `<root>/<id>/exec.fifo` for writing; the start is to open it for reading, read its one byte (EOF comes
 * when init execs the process) and remove the fifo, which is exactly what libcontainer's exec() does. Returns
 * false (caller falls back to the CLI) when there is no such fifo: another runtime, or not in the created state.
 */
async function startThroughFifo(rt: RuntimeBinary, id: string): Promise<boolean> {
  if (!isRunc(rt)) return false;
  const fifo = join(rt.root, id, 'exec.fifo');
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK); // non-blocking: returns at once
  } catch {
    return false;
  }
  if (!fstatSync(fd).isFIFO()) {
    closeSync(fd);
    return false;
  }
  let initPid = 0;
  try {
    initPid = (JSON.parse(readFileSync(join(rt.root, id, 'state.json'), 'utf8')) as { init_process_pid?: number }).init_process_pid ?? 0;
  } catch { /* unknown: no liveness guard */ }
  // epoll reports nothing on a fifo no writer ever opened, so this waits for init; the timer covers a dead init
  const n = await new Promise<number>((resolve, reject) => {
    const sock = new net.Socket({ fd, readable: true, writable: false });
    let got = 0;
    const guard = setInterval(() => { if (initPid > 0 && !pidAlive(initPid)) sock.destroy(); }, 100);
    sock.on('data', (b: Buffer) => { got += b.length; });
    sock.on('close', () => { clearInterval(guard); resolve(got); });
    sock.on('error', (e) => { clearInterval(guard); reject(e); });
  });
  if (n <= 0) throw new SystemError('container process is already dead');
  await unlink(fifo).catch(() => {});
  return true;
}

/** Is the container's cgroup frozen (paused)? undefined when that cannot be told. */
function frozen(cgroupPaths: Record<string, string>): boolean | undefined {
  try {
    if (cgroupPaths.freezer) return readFileSync(join(cgroupPaths.freezer, 'freezer.state'), 'utf8').trim() !== 'THAWED';
    if (cgroupPaths['']) return /^frozen 1$/m.test(readFileSync(join(cgroupPaths[''], 'cgroup.events'), 'utf8'));
  } catch { /* unknown */ }
  return undefined;
}

/**
 * `runc kill <id> <signal>` (not --all) without spawning runc (saves one runtime exec per kill; `rm -f` of many
 * containers sends many): signal the container's init directly, with libcontainer's own guard against pid reuse
 * (the pid must be alive, not a zombie, and have the start time runc recorded). conmon is init's parent
 * (subreaper), so the pid stays the container's until conmon reaps it. Returns false, and the caller runs the
 * CLI, for another runtime, an unknown signal, unreadable state or a paused container (runc thaws it for KILL).
 */
function killThroughPid(rt: RuntimeBinary, id: string, signal: string): boolean {
  if (!isRunc(rt)) return false;
  const signals = osConstants.signals as Record<string, number | undefined>;
  const up = signal.toUpperCase();
  const num = /^\d+$/.test(signal) ? Number(signal) : signals[up.startsWith('SIG') ? up : `SIG${up}`];
  if (!num || num > 64) return false;
  let st: { init_process_pid?: number; init_process_start?: number; cgroup_paths?: Record<string, string> };
  try {
    st = JSON.parse(readFileSync(join(rt.root, id, 'state.json'), 'utf8')) as typeof st;
  } catch {
    return false; // no state: let runc say so in its words
  }
  const pid = st.init_process_pid ?? 0;
  if (!(pid > 0) || st.init_process_start === undefined || frozen(st.cgroup_paths ?? {}) !== false) return false;
  if (!pidAlive(pid) || startTime(pid) !== st.init_process_start) throw new FailedPreconditionError('container not running');
  try {
    process.kill(pid, num);
  } catch (e) {
    if (errno(e) === 'ESRCH') throw new FailedPreconditionError('container not running');
    throw new SystemError(`unable to signal init: ${(e as Error).message}`);
  }
  return true;
}

/**
 * An exec's state goes with it, a moment after its exit (its last output and exit file are read by then):
 * health checks exec every few seconds for the container's lifetime.
 */
function forgetExecDir(dir: string): void {
  setTimeout(() => void rm(dir, { recursive: true, force: true }).catch(() => {}), 1000).unref();
}

/**
 * An exec without a TTY, run by `runc exec` as a child of berthd (no conmon: that spares a spawn and conmon's
 * attach handshake, about 20 ms of every `docker exec` and health probe). runc stays the process's parent and
 * exits with its status; its own log goes to a file, so the pipes carry only the process's output. Resolves
 * once the process runs (runc writes the pid file after the exec succeeded); rejects with runc's words when it
 * cannot start. Unlike a container, such a process does not outlive berthd's pipes.
 */
async function directExec(rt: RuntimeBinary, id: string, dir: string, o: ExecOptions): Promise<ExecSession> {
  const pidFile = join(dir, 'pidfile');
  const logFile = join(dir, 'runc.log');
  const child = spawn(rt.path, ['--root', rt.root, '--log-format=json', '--log', logFile, ...rt.args, 'exec', '--process', join(dir, 'process.json'), '--pid-file', pidFile, id], {
    stdio: [o.openStdin ? 'pipe' : 'ignore', o.attach ? 'pipe' : 'ignore', o.attach ? 'pipe' : 'ignore'],
  });
  const exited = new Promise<number>((resolve) => {
    child.once('error', () => resolve(255));
    child.once('close', (code, signal) => resolve(code ?? 128 + (osConstants.signals[signal as NodeJS.Signals] ?? 9)));
  });
  const closed = exited.then(() => {});
  const outputs: ((stream: 1 | 2, data: Buffer) => void)[] = [];
  const early: [1 | 2, Buffer][] = [];
  const emit = (stream: 1 | 2, d: Buffer) => { if (outputs.length) for (const cb of outputs) cb(stream, d); else early.push([stream, d]); };
  child.stdout?.on('data', (d: Buffer) => emit(1, d));
  child.stderr?.on('data', (d: Buffer) => emit(2, d));
  child.stdin?.on('error', () => {});
  // running once the pid file is there (runc renames it into place); a runc that ends first could not start it
  const readPid = () => readFile(pidFile, 'utf8').then((t) => Number.parseInt(t, 10) || 0, () => 0);
  let pid = 0;
  const watcher = watch(dir);
  try {
    pid = await new Promise<number>((resolve) => {
      const check = () => void readPid().then((p) => { if (p) resolve(p); });
      watcher.on('change', check);
      watcher.on('error', () => {});
      check();
      void exited.then(async () => resolve(await readPid()));
    });
  } finally {
    watcher.close();
  }
  if (!pid) {
    const log = await readFile(logFile, 'utf8').catch(() => '');
    throw new SystemError(runtimeErrorText(log) || `${rt.name} exec failed`);
  }
  const io: AttachSession | undefined = o.attach ? {
    onData(cb) {
      outputs.push(cb);
      for (const [st, d] of early.splice(0)) cb(st, d);
    },
    onClose(cb) { void closed.then(cb); },
    write(data) { if (child.stdin && !child.stdin.destroyed) child.stdin.write(data); },
    closeStdin() { child.stdin?.end(); },
    close() { child.stdout?.destroy(); child.stderr?.destroy(); child.stdin?.destroy(); },
  } : undefined;
  void exited.then(() => forgetExecDir(dir));
  return { pid, exited, ...(io ? { io } : {}) };
}

/** A client on conmon's attach socket: packets are one stream byte (2 stdout, 3 stderr) + payload; stdin goes raw. */
async function attachSession(path: string, stdin: boolean): Promise<AttachSession> {
  const conn = await connectSeqpacket(path);
  return {
    onData(cb) {
      conn.onPacket((p) => {
        if (p.length < 2) return;
        if (p[0] === 2) cb(1, p.subarray(1));
        else if (p[0] === 3) cb(2, p.subarray(1));
      });
    },
    onClose(cb) { conn.onClose(cb); },
    write(data) {
      if (!stdin) return;
      for (let off = 0; off < data.length; off += STDIN_CHUNK) conn.write(data.subarray(off, off + STDIN_CHUNK));
    },
    // conmon closes the container's stdin when a client half-closes (unless --leave-stdin-open)
    closeStdin() { if (stdin) conn.end(); },
    close() { conn.close(); },
  };
}

const ctlQueue = new Map<string, Promise<void>>();

/**
 * Resize through conmon's ctl fifo: `1 <rows> <cols>\n`. Writes to one fifo are queued: the docker CLI sends
 * h+1,w+1 then h,w on attach, and two open/write/close on the thread pool could land in either order.
 */
function writeCtl(dir: string, what: string, rows: number, cols: number): Promise<void> {
  const prev = ctlQueue.get(dir) ?? Promise.resolve();
  const next = prev.catch(() => {}).then(() => writeCtlNow(dir, what, rows, cols));
  ctlQueue.set(dir, next);
  const forget = () => { if (ctlQueue.get(dir) === next) ctlQueue.delete(dir); };
  next.then(forget, forget);
  return next;
}

async function writeCtlNow(dir: string, what: string, rows: number, cols: number): Promise<void> {
  let fh;
  try {
    fh = await open(join(dir, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (e) {
    const why = errno(e) === 'ENXIO' ? 'its monitor is gone' : errno(e) === 'ENOENT' ? 'no such container or exec' : String(e);
    throw new FailedPreconditionError(`cannot resize ${what}: ${why}`);
  }
  try {
    await fh.write(`1 ${Math.max(0, Math.floor(rows))} ${Math.max(0, Math.floor(cols))}\n`);
  } finally {
    await fh.close();
  }
}

interface SyncMsg { data: number; message?: string }

/** Reads conmon's newline-delimited JSON messages ({"data": n, "message"?}) from one of its pipes. */
class SyncReader {
  private buf = '';
  private queue: (SyncMsg | undefined)[] = [];
  private waiting: ((m: SyncMsg | undefined) => void)[] = [];
  private ended = false;

  constructor(sock: Socket) {
    sock.on('error', () => {});
    sock.on('data', (d: Buffer) => {
      this.buf += d.toString();
      for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        try {
          const m = JSON.parse(line) as SyncMsg;
          if (typeof m.data === 'number') this.push(m);
        } catch { /* not conmon's */ }
      }
    });
    sock.on('close', () => { this.ended = true; this.push(undefined); });
  }

  private push(m: SyncMsg | undefined): void {
    const w = this.waiting.shift();
    if (w) w(m);
    else this.queue.push(m);
  }

  /** The next message; undefined once conmon closed the pipe. */
  next(): Promise<SyncMsg | undefined> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift());
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((r) => this.waiting.push(r));
  }
}

interface Launched {
  sync: SyncReader;
  attach?: SyncReader;
  start: Socket;
  parentExited: Promise<void>;
  stderrText(): Promise<string>;
  /** Drop every handle on conmon (it lives on by itself). */
  release(): void;
}

/** Spawn conmon detached with its sync (fd 3), start (fd 4) and optional attach (fd 5) pipes: Node's extra 'pipe' stdio entries are socketpairs. */
function launchConmon(path: string, args: string[], cwd: string, attachPipe: boolean): Launched {
  const env: NodeJS.ProcessEnv = { _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4', PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
  if (attachPipe) env._OCI_ATTACHPIPE = '5';
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  const child = spawn(path, args, { cwd, detached: true, env, stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', ...(attachPipe ? ['pipe' as const] : [])] });
  const parentExited = new Promise<void>((resolve, reject) => {
    child.once('exit', () => resolve());
    child.once('error', (e) => reject(new SystemError(`conmon: ${e.message}`, { cause: e })));
  });
  parentExited.catch(() => {});
  const errOut: Buffer[] = [];
  child.stderr!.on('data', (b: Buffer) => errOut.push(b));
  const stdio = child.stdio as unknown as (Socket | null | undefined)[];
  const start = stdio[4] as Socket;
  start.on('error', () => {});
  const sockets = [stdio[3], start, stdio[5], child.stderr].filter(Boolean) as Socket[];
  return {
    sync: new SyncReader(stdio[3] as Socket),
    ...(attachPipe ? { attach: new SyncReader(stdio[5] as Socket) } : {}),
    start,
    parentExited,
    async stderrText() {
      await Promise.race([parentExited.catch(() => {}), sleep(50)]);
      return Buffer.concat(errOut).toString().trim();
    },
    release() {
      for (const s of sockets) s.destroy();
      child.unref();
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, rej) => { t = setTimeout(() => rej(new SystemError(what)), ms); })]).finally(() => clearTimeout(t));
}

export function createConmonDriver(cfg: RuntimeConfig): RuntimeDriver {
  const conmonPath = cfg.conmonPath ?? '/usr/bin/conmon';
  const bundlesDir = join(cfg.execRoot, 'c');
  const exitsDir = join(cfg.execRoot, 'exits');
  const bundleOf = (id: string) => join(bundlesDir, id);
  const infoCache = new Map<string, BundleInfo>();
  const watchers: FSWatcher[] = [];
  let dirsReady: Promise<void> | undefined;

  function ensureDirs(): Promise<void> {
    dirsReady ??= Promise.all([mkdir(bundlesDir, { recursive: true, mode: 0o711 }), mkdir(exitsDir, { recursive: true, mode: 0o700 })]).then(() => {});
    return dirsReady;
  }

  function binary(name: string, path: string, args: string[]): RuntimeBinary {
    return { name, path, args: cfg.systemdCgroup && !args.includes('--systemd-cgroup') ? ['--systemd-cgroup', ...args] : args, root: join(cfg.execRoot, `runtime-${name}`) };
  }

  function runtimeByName(name: string): RuntimeBinary {
    const rt = cfg.runtimes[name || cfg.defaultRuntime];
    if (!rt) throw new InvalidArgumentError(`Unknown runtime specified ${name}`);
    return binary(name || cfg.defaultRuntime, rt.path, rt.runtimeArgs ?? []);
  }

  async function bundleInfo(id: string): Promise<BundleInfo | undefined> {
    const cached = infoCache.get(id);
    if (cached) return cached;
    try {
      const info = JSON.parse(await readFile(join(bundleOf(id), 'runtime.json'), 'utf8')) as BundleInfo;
      infoCache.set(id, info);
      return info;
    } catch (e) {
      if (errno(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** The runtime a container was created with (or the default one, for a container this driver never saw). */
  async function runtimeOf(id: string): Promise<RuntimeBinary> {
    checkId(id);
    const info = await bundleInfo(id);
    if (info) return binary(info.runtime, info.path, info.args);
    return runtimeByName(cfg.defaultRuntime);
  }

  function readConmonPid(id: string): number | undefined {
    try {
      const n = Number.parseInt(readFileSync(join(bundleOf(id), 'conmon.pid'), 'utf8'), 10);
      return Number.isFinite(n) && n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }

  async function readExit(id: string): Promise<ExitInfo | undefined> {
    checkId(id);
    const file = join(exitsDir, id);
    // the small files of the exec root (a tmpfs) are read synchronously here and in delete: µs each, and no
    // thread-pool round trips, which keeps exit → `die` → removal quick when many containers exit at once
    let text: string;
    let mtime: Date;
    try {
      mtime = statSync(file).mtime;
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if (errno(e) === 'ENOENT') return undefined;
      throw e;
    }
    const code = Number.parseInt(text.trim(), 10);
    if (!Number.isFinite(code)) return undefined;
    const info = infoCache.get(id) ?? await bundleInfo(id).catch(() => undefined);
    const oomKilled = existsSync(join(bundleOf(id), 'oom')) || (info !== undefined && existsSync(join(info.persistDir, 'oom')));
    // conmon reports -1 when it could not tell (timeout); Docker shows 255 for an unknown status
    return { exitCode: code < 0 ? 255 : code, oomKilled, finishedAt: mtime };
  }

  /** conmon's arguments shared by create and exec. */
  function conmonArgs(rt: RuntimeBinary, id: string, uuid: string, name: string, dir: string): string[] {
    const args = [
      '--api-version', '1', '-c', id, '-u', uuid, '-r', rt.path, '-b', dir, '-p', join(dir, 'pidfile'), '-n', name,
      '--full-attach', '--no-sync-log',
      '--runtime-arg', `--root=${rt.root}`, '--runtime-arg', '--log-format=json', '--runtime-arg', `--log=${join(dir, 'runc.log')}`,
    ];
    for (const a of rt.args) args.push('--runtime-arg', a);
    return args;
  }

  /** Spawn conmon; resolve once the runtime created the container (pid from the sync pipe). */
  async function spawnConmon(o: CreateOptions, rt: RuntimeBinary, bundle: string): Promise<{ pid: number }> {
    const args = [
      ...conmonArgs(rt, o.id, o.id, o.name || o.id, bundle),
      '--exit-dir', exitsDir, '--persist-dir', o.persistDir, '-l', `k8s-file:${o.logPath}`,
      '--conmon-pidfile', join(bundle, 'conmon.pid'),
    ];
    if (o.logSizeMax !== undefined && o.logSizeMax > 0) args.push('--log-size-max', String(o.logSizeMax));
    if (o.tty) args.push('-t');
    if (o.openStdin) {
      args.push('-i');
      if (o.stdinOnce === false) args.push('--leave-stdin-open');
    }
    const c = launchConmon(conmonPath, args, bundle, false);
    try {
      c.start.end('0');
      const msg = await withTimeout(c.sync.next(), CREATE_TIMEOUT_MS, `conmon: timed out creating ${o.id}`);
      if (!msg) throw new SystemError(`conmon: ${await c.stderrText() || 'exited before the container was created'}`);
      if (msg.data <= 0) throw new SystemError(runtimeErrorText(msg.message ?? '') || `${rt.name} create failed`);
      await c.parentExited; // it wrote conmon.pid before exiting
      return { pid: msg.data };
    } finally {
      c.release();
    }
  }

  const driver: RuntimeDriver = {
    async create(o: CreateOptions) {
      checkId(o.id);
      const rt = runtimeByName(o.runtime);
      const bundle = bundleOf(o.id);
      await ensureDirs();
      const info: BundleInfo = { runtime: rt.name, path: rt.path, args: rt.args, persistDir: o.persistDir };
      // a dozen small metadata operations, done synchronously: no thread-pool round trips before conmon starts
      mkdirSync(bundle, { recursive: true, mode: 0o700 });
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(o.spec));
      writeFileSync(join(bundle, 'runtime.json'), JSON.stringify(info));
      mkdirSync(o.persistDir, { recursive: true });
      mkdirSync(dirname(o.logPath), { recursive: true });
      // a previous run of this container must not be mistaken for this one
      for (const f of [join(exitsDir, o.id), join(o.persistDir, 'exit'), join(o.persistDir, 'oom'), join(bundle, 'oom')]) rmSync(f, { force: true });
      infoCache.set(o.id, info);
      try {
        const { pid } = await spawnConmon(o, rt, bundle);
        const conmonPid = readConmonPid(o.id);
        if (!conmonPid) throw new SystemError(`conmon: no pid file for ${o.id}`);
        return { pid, conmonPid };
      } catch (e) {
        await driver.delete(o.id).catch(() => {});
        throw e;
      }
    },

    async start(id) {
      const rt = await runtimeOf(id);
      if (await startThroughFifo(rt, id)) return;
      await runtimeCall(rt, ['start', id]);
    },

    async kill(id, signal, all) {
      const rt = await runtimeOf(id);
      try {
        if (!all && killThroughPid(rt, id, signal)) return;
        await runtimeCall(rt, ['kill', ...(all ? ['--all'] : []), id, signal]);
      } catch (e) {
        if (e instanceof SystemError && /not running|process already finished|container not running/.test(e.message)) {
          throw new FailedPreconditionError(e.message);
        }
        throw e;
      }
    },

    async delete(id) {
      checkId(id);
      const rt = await runtimeOf(id);
      const conmonPid = readConmonPid(id);
      const monitored = conmonPid !== undefined && pidAlive(conmonPid) && isConmonFor(conmonPid, id);
      if (monitored && !existsSync(join(exitsDir, id))) {
        // still running (or created, or paused): kill it and let conmon record the exit, as `rm -f` does
        try {
          if (!killThroughPid(rt, id, 'KILL')) await runtimeCall(rt, ['kill', id, 'KILL']);
        } catch { /* already gone */ }
      }
      // conmon writes the exit file and exits; wait for it so that nothing arrives after delete
      if (monitored) for (let i = 0; i < 400 && pidAlive(conmonPid); i++) await sleep(5);
      if (!(await deleteStopped(rt, id))) {
        try {
          await runtimeCall(rt, ['delete', '--force', id]);
        } catch (e) {
          if (!(e instanceof NotFoundError)) throw e;
        }
      }
      rmSync(bundleOf(id), { recursive: true, force: true });
      rmSync(join(exitsDir, id), { force: true });
      infoCache.delete(id);
      reported.delete(id);
    },

    async pause(id) {
      await runtimeCall(await runtimeOf(id), ['pause', id]);
    },

    async resume(id) {
      await runtimeCall(await runtimeOf(id), ['resume', id]);
    },

    async state(id) {
      const rt = await runtimeOf(id);
      try {
        const s = JSON.parse(await runtimeCall(rt, ['state', id])) as { status: string; pid: number };
        return { status: s.status as RuntimeStatus, pid: s.pid };
      } catch (e) {
        if (e instanceof NotFoundError) return undefined;
        throw e;
      }
    },

    async pids(id) {
      const rt = await runtimeOf(id);
      const out = JSON.parse(await runtimeCall(rt, ['ps', '--format', 'json', id])) as number[] | null;
      return out ?? [];
    },

    async attach(id, opts) {
      checkId(id);
      try {
        return await attachSession(join(bundleOf(id), 'attach'), opts.stdin);
      } catch (e) {
        throw new FailedPreconditionError(`cannot attach to container ${id}: ${e instanceof Error ? e.message : String(e)}`);
      }
    },

    async resize(id, rows, cols) {
      checkId(id);
      await writeCtl(bundleOf(id), id, rows, cols);
    },

    async readSpec(id) {
      checkId(id);
      try {
        return JSON.parse(await readFile(join(bundleOf(id), 'config.json'), 'utf8')) as Spec;
      } catch (e) {
        if (errno(e) === 'ENOENT') return undefined;
        throw e;
      }
    },

    async resizeExec(id, execId, rows, cols) {
      checkId(id);
      checkId(execId);
      await writeCtl(join(bundleOf(id), 'x', execId), execId, rows, cols);
    },

    async exec(id, o) {
      checkId(id);
      checkId(o.execId);
      const rt = await runtimeOf(id);
      const dir = join(bundleOf(id), 'x', o.execId);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(join(dir, 'process.json'), JSON.stringify(o.process));
      if (!o.process.terminal) return directExec(rt, id, dir, o);
      // exit-dir and persist-dir are the exec's own: conmon names its exit file after the container id
      const args = [
        ...conmonArgs(rt, id, o.execId, o.execId, dir), '--exit-dir', dir, '--persist-dir', dir, '-l', 'none',
        '-e', '--exec-process-spec', join(dir, 'process.json'),
      ];
      if (o.process.terminal) args.push('-t');
      if (o.openStdin) args.push('-i');
      if (o.attach) args.push('--exec-attach');
      const c = launchConmon(conmonPath, args, dir, o.attach);
      let io: AttachSession | undefined;
      try {
        c.start.write('0');
        if (c.attach) {
          // conmon says when its attach socket listens; the runtime runs only after our second start byte
          const ready = await withTimeout(c.attach.next(), CREATE_TIMEOUT_MS, `conmon: timed out starting exec ${o.execId}`);
          if (!ready) throw new SystemError(`conmon: ${await c.stderrText() || 'exited before the exec started'}`);
          io = await attachSession(join(dir, 'attach'), o.openStdin);
          c.start.write('0');
        }
        const msg = await withTimeout(c.sync.next(), CREATE_TIMEOUT_MS, `conmon: timed out starting exec ${o.execId}`);
        if (!msg) throw new SystemError(`conmon: ${await c.stderrText() || 'exited before the exec started'}`);
        if (msg.data <= 0) throw new SystemError(runtimeErrorText(msg.message ?? '') || `${rt.name} exec failed`);
        const exited = c.sync.next().then(async (m) => {
          c.release();
          let code: number;
          if (m) code = m.data < 0 ? 255 : m.data;
          else {
            // we lost the pipe (conmon killed?): fall back to the file it writes
            const text = await readFile(join(dir, 'exit'), 'utf8').catch(() => '');
            const n = Number.parseInt(text, 10);
            code = Number.isFinite(n) && n >= 0 ? n : 255;
          }
          forgetExecDir(dir);
          return code;
        });
        return { pid: msg.data, exited, ...(io ? { io } : {}) };
      } catch (e) {
        io?.close();
        c.release();
        throw e;
      }
    },

    monitorAlive(id, conmonPid) {
      return pidAlive(conmonPid) && isConmonFor(conmonPid, id);
    },

    readExit,

    watchExits(cb) {
      mkdirSync(exitsDir, { recursive: true, mode: 0o700 });
      const check = (name: string) => {
        if (!ID_RE.test(name)) return; // conmon's temp files (id.XXXXXX) and strangers
        readExit(name).then((exit) => {
          if (!exit) return;
          const key = exit.finishedAt.getTime();
          if (reported.get(name) === key) return;
          reported.set(name, key);
          cb(name, exit);
        }, (e: unknown) => log().warn({ err: e, id: name }, 'reading exit file failed'));
      };
      const w = watch(exitsDir, (_event, filename) => { if (filename) check(filename.toString()); });
      w.on('error', (e) => log().error({ err: e }, 'exit watcher failed'));
      watchers.push(w);
      for (const name of readdirSync(exitsDir)) check(name);
    },

    close() {
      for (const w of watchers.splice(0)) w.close();
    },
  };
  const reported = new Map<string, number>();
  return driver;
}

