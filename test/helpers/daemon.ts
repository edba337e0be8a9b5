/**
 * Integration harness: a daemon (berthd, or Docker 20.10's dockerd for comparison) in a fresh network
 * namespace with temp data and exec roots under /var/tmp, driven by the real CLIs. Cleanup stops the
 * daemon, removes its containers, kills only the helper processes that belong to it (found through its
 * own temp paths), unmounts what is left under its dir and removes the netns and the dir, even when a
 * test failed or the process exits early.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  mkdirSync, mkdtempSync, writeFileSync, readFileSync, openSync, closeSync, existsSync, readdirSync, rmSync, createReadStream, statSync,
} from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

export const REPO = resolve(import.meta.dirname, '..', '..');
export const FIXTURES = resolve(REPO, '..', 'shared', 'images');
export const BERTHD = join(REPO, 'bin', 'berthd');
export const BERTH = join(REPO, 'bin', 'berth');
export const DOCKER = '/usr/local/bin/docker';
export const DOCKER20 = '/usr/bin/docker';

export const FIXTURE_FILES = {
  busybox: 'busybox-1.35.tar',
  debian: 'debian-bookworm-slim.tar',
  nginx: 'nginx-bookworm.tar',
  layers: 'layers-test.tar',
} as const;
export type Fixture = keyof typeof FIXTURE_FILES;

export type EngineKind = 'berth' | 'docker';

export interface StartOptions {
  /** Default: $BERTH_TEST_ENGINE or 'berth'. 'docker' runs Debian's dockerd 20.10 (with its own containerd). */
  engine?: EngineKind;
  /** daemon.json content (an object is JSON-encoded, a string written as is). */
  config?: object | string;
  /** Extra daemon flags. */
  args?: string[];
  /** Extra environment for the daemon (e.g. NOTIFY_SOCKET). */
  env?: Record<string, string>;
  /** How long to wait for /_ping (ms). */
  timeoutMs?: number;
}

export interface RunResult { stdout: string; stderr: string; code: number }
export interface RunOpts {
  /** stdin content, or { file } to stream a file. */
  input?: string | Buffer | { file: string };
  env?: Record<string, string>;
  timeoutMs?: number;
}

export class DaemonStartError extends Error {
  code: number | null;
  stdout: string;
  stderr: string;
  constructor(message: string, code: number | null, stdout: string, stderr: string) {
    super(message);
    this.code = code;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

export interface Daemon {
  engine: EngineKind;
  /** `unix://…` for DOCKER_HOST. */
  host: string;
  socket: string;
  dir: string;
  root: string;
  execRoot: string;
  pidfile: string;
  configFile: string;
  netns: string;
  /** PID of the daemon process (berthd's node, or dockerd). */
  pid: number;
  /** PIDs of the daemon's own long-lived helpers (Docker: containerd; berth: none). */
  helperPids(): number[];
  /** The real docker CLI 28.2 against this daemon. */
  docker(args: string[], opts?: RunOpts): Promise<RunResult>;
  /** The docker 20.10 CLI. */
  docker20(args: string[], opts?: RunOpts): Promise<RunResult>;
  /** berth's CLI (bin/berth). */
  berth(args: string[], opts?: RunOpts): Promise<RunResult>;
  /** Any command with DOCKER_HOST set, in the host netns. */
  exec(cmd: string, args: string[], opts?: RunOpts): Promise<RunResult>;
  /** Any command inside the daemon's netns. */
  inNetns(cmd: string, args: string[], opts?: RunOpts): Promise<RunResult>;
  /** `docker load -i` a fixture once per daemon (cached). */
  load(...names: Fixture[]): Promise<void>;
  /** Daemon stdout and stderr so far. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM and wait; resolves with the exit code (or null with the signal name). */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill9(): Promise<void>;
  /** Stop (if running) and start again on the same roots. */
  restart(extraArgs?: string[]): Promise<void>;
  /** With the daemon stopped, stop its long-lived helpers too (Docker: containerd), so the next start is cold. */
  stopHelpers(): Promise<void>;
  /** Signal the daemon (e.g. SIGHUP). */
  signal(sig: NodeJS.Signals): void;
  cleanup(): Promise<void>;
}

const live = new Set<{ cleanupSync(): void }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const d of live) d.cleanupSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const d of live) d.cleanupSync();
      process.exit(130);
    });
  }
}

let built = false;
/** Build dist/ once per test process (scripts/build.sh skips when up to date); serialised by a lock dir. */
export function ensureBuilt(): void {
  if (built || process.env.BERTH_SKIP_BUILD) return;
  const lock = join(REPO, 'dist', '.build-lock');
  mkdirSync(join(REPO, 'dist'), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true });
      } catch { /* gone */ }
      if (Date.now() > deadline) throw new Error('timed out waiting for the build lock');
      spawnSync('sleep', ['0.2']);
    }
  }
  try {
    // build.sh skips when dist/ is up to date; when the tree has type errors it rebuilds every time, so
    // remember our own attempt and skip while no source changed since (test files run in parallel processes).
    const attempt = join(REPO, 'dist', '.build-attempt');
    const changed = spawnSync('find', ['src', 'tsconfig.json', '-newer', attempt, '-print', '-quit'], { cwd: REPO, encoding: 'utf8' });
    if (!existsSync(attempt) || changed.status !== 0 || changed.stdout.trim() !== '') {
      writeFileSync(attempt, '');
      spawnSync('bash', [join(REPO, 'scripts', 'build.sh')], { stdio: ['ignore', 'ignore', 'ignore'] });
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  if (!existsSync(join(REPO, 'dist', 'cmd', 'daemon.js'))) throw new Error('dist/cmd/daemon.js is missing: run `npm run build`');
  built = true;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Skip reason for root integration tests, or false when they can run. */
export function integrationSkip(): string | false {
  if (!isRoot()) return 'needs root';
  for (const b of ['/usr/sbin/runc', '/usr/bin/conmon', '/usr/bin/nsenter', '/usr/sbin/ip']) {
    if (!existsSync(b) && !existsSync(b.replace('/usr/sbin/', '/sbin/').replace('/usr/bin/', '/bin/'))) return `needs ${b}`;
  }
  return false;
}

export function engineKind(): EngineKind {
  return process.env.BERTH_TEST_ENGINE === 'docker' ? 'docker' : 'berth';
}

function runCmd(cmd: string, args: string[], env: NodeJS.ProcessEnv, opts: RunOpts = {}): Promise<RunResult> {
  return new Promise((resolveP, reject) => {
    const child = spawn(cmd, args, { env: { ...env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveP({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15) });
    });
    child.stdin.on('error', () => {});
    const input = opts.input;
    if (input === undefined) child.stdin.end();
    else if (typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input);
    else createReadStream(input.file).pipe(child.stdin);
  });
}

/** GET /_ping on a unix socket: true on 200. */
export function ping(socket: string): Promise<boolean> {
  return new Promise((res) => {
    const req = request({ socketPath: socket, path: '/_ping', method: 'GET', timeout: 2000 }, (r) => {
      r.resume();
      res(r.statusCode === 200);
    });
    req.on('error', () => res(false));
    req.on('timeout', () => {
      req.destroy();
      res(false);
    });
    req.end();
  });
}

function sh(cmd: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Processes whose command line mentions `needle` (our unique temp dir): conmon, shims, containerd, runc. */
export function pidsMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    const pid = Number(n);
    if (pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${n}/cmdline`, 'utf8').includes(needle)) out.push(pid);
    } catch { /* exited */ }
  }
  return out;
}

/** runc state dirs below dir: <runc-root>/<id>/state.json. */
function runcStates(dir: string, depth = 0): { root: string; id: string }[] {
  if (depth > 6) return [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const found: { root: string; id: string }[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const p = join(dir, e.name);
    if (e.name === 'rootfs' || e.name === 'merged' || e.name === 'diff' || e.name === 'overlay2' || e.name === 'overlay') continue;
    if (existsSync(join(p, 'state.json'))) found.push({ root: dir, id: e.name });
    else found.push(...runcStates(p, depth + 1));
  }
  return found;
}

function mountsUnder(dir: string): string[] {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  const mps: string[] = [];
  for (const line of text.split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const p = mp.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (p === dir || p.startsWith(dir + '/')) mps.push(p);
  }
  return mps.sort((a, b) => b.length - a.length);
}

/** Start a daemon in its own netns. Call `cleanup()` in an `after` hook. */
export async function startDaemon(opts: StartOptions = {}): Promise<Daemon> {
  const engine = opts.engine ?? engineKind();
  if (engine === 'berth') ensureBuilt();
  installExitHook();
  const tag = randomBytes(4).toString('hex');
  const netns = `berth-t-${tag}`;
  mkdirSync('/var/tmp', { recursive: true });
  const dir = mkdtempSync(`/var/tmp/berth-t-${tag}-`);
  const root = join(dir, 'root');
  const execRoot = join(dir, 'exec');
  const socket = join(dir, engine === 'berth' ? 'berth.sock' : 'docker.sock');
  const pidfile = join(dir, 'daemon.pid');
  const configFile = join(dir, 'daemon.json');
  const dockerConfig = join(dir, 'docker-config');
  mkdirSync(dockerConfig, { recursive: true });
  writeFileSync(configFile, typeof opts.config === 'string' ? opts.config : JSON.stringify(opts.config ?? {}, null, 2));

  const nsAdd = sh('ip', ['netns', 'add', netns]);
  if (nsAdd.code !== 0) throw new Error(`ip netns add ${netns}: ${nsAdd.stderr}`);
  sh('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);

  let child: ChildProcess | undefined;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null });
  let running = false;
  let cleaned = false;
  const loaded = new Set<Fixture>();
  const outFile = join(dir, 'daemon.stdout');
  const errFile = join(dir, 'daemon.stderr');
  const cliEnv: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: dockerConfig };
  delete cliEnv.DOCKER_CONTEXT;
  delete cliEnv.DOCKER_TLS_VERIFY;

  // Docker: containerd runs as its own process (as with systemd's containerd.service), so that a
  // kill -9 of dockerd leaves it and its shims running, like berth's conmons.
  let containerd: ChildProcess | undefined;
  const containerdSock = join(execRoot, 'containerd', 'containerd.sock');
  const startContainerd = async (): Promise<void> => {
    if (containerd && containerd.exitCode === null && containerd.signalCode === null) return;
    mkdirSync(join(execRoot, 'containerd'), { recursive: true });
    const toml = join(dir, 'containerd.toml');
    writeFileSync(toml, [
      'version = 2', `root = "${join(root, 'containerd')}"`, `state = "${join(execRoot, 'containerd', 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]', '', '[grpc]', `  address = "${containerdSock}"`, '',
      '[debug]', '  level = "warn"', '',
    ].join('\n'));
    const err = openSync(join(dir, 'containerd.stderr'), 'a');
    const c = spawn('nsenter', [`--net=/run/netns/${netns}`, '/usr/bin/containerd', '--config', toml], { stdio: ['ignore', err, err], detached: true });
    closeSync(err);
    c.unref();
    containerd = c;
    const deadline = Date.now() + 20_000;
    while (!existsSync(containerdSock)) {
      if (c.exitCode !== null || Date.now() > deadline) throw new Error(`containerd did not start:\n${readTail(join(dir, 'containerd.stderr'))}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const stopContainerd = async (): Promise<void> => {
    if (containerd?.pid && containerd.exitCode === null && containerd.signalCode === null) {
      containerd.kill('SIGTERM');
      await keepAlive(new Promise((r) => (containerd!.exitCode !== null || containerd!.signalCode !== null ? r(null) : containerd!.once('exit', r))));
    }
  };

  const spawnDaemon = async (extra: string[]): Promise<void> => {
    if (engine === 'docker') await startContainerd();
    const args = engine === 'berth'
      ? [`--net=/run/netns/${netns}`, BERTHD, '--data-root', root, '--exec-root', execRoot, '-H', `unix://${socket}`,
        '--pidfile', pidfile, '--config-file', configFile, ...(opts.args ?? []), ...extra]
      : [`--net=/run/netns/${netns}`, '/usr/sbin/dockerd', '--data-root', root, '--exec-root', execRoot, '-H', `unix://${socket}`,
        '--pidfile', pidfile, '--config-file', configFile, '--containerd', containerdSock, '--bridge', 'none', '--iptables=false',
        '--ip-masq=false', ...(opts.args ?? []), ...extra];
    const out = openSync(outFile, 'a');
    const err = openSync(errFile, 'a');
    const c = spawn('nsenter', args, { stdio: ['ignore', out, err], detached: true, env: { ...process.env, ...opts.env } });
    closeSync(out);
    closeSync(err);
    c.unref();
    child = c;
    running = true;
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => c.once('exit', (code, signal) => {
      running = false;
      res({ code, signal });
    }));
    // The child is unref'd (a forgotten daemon must not keep the test process alive); hold a ref while someone waits.
    exited = { then: (ok, bad) => keepAlive(ended).then(ok, bad) } as Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    let failed: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    void ended.then((r) => { failed = r; });
    for (;;) {
      if (failed) {
        const e = new DaemonStartError(`${engine} daemon exited with ${failed.code ?? failed.signal} before answering:\n${readTail(errFile)}`,
          failed.code, readFileSync(outFile, 'utf8'), readFileSync(errFile, 'utf8'));
        throw e;
      }
      if (await ping(socket)) return;
      if (Date.now() > deadline) throw new Error(`${engine} daemon did not answer /_ping within ${opts.timeoutMs ?? 60_000} ms:\n${readTail(errFile)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  const removeContainers = async (): Promise<void> => {
    if (!running) return;
    const ids = await runCmd(DOCKER, ['ps', '-aq'], cliEnv, { timeoutMs: 30_000 }).catch(() => undefined);
    const list = ids?.code === 0 ? ids.stdout.split('\n').filter(Boolean) : [];
    if (list.length) await runCmd(DOCKER, ['rm', '-f', ...list], cliEnv, { timeoutMs: 60_000 }).catch(() => undefined);
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> => {
    if (!running || !child?.pid) return exited;
    child.kill(signal);
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 45_000).unref());
    const r = await Promise.race([exited, timeout]);
    if (r === 'timeout') {
      child.kill('SIGKILL');
      return exited;
    }
    return r;
  };

  const self = {
    cleanupSync(): void {
      if (cleaned) return;
      cleaned = true;
      live.delete(self);
      if (running && child?.pid) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch { /* gone */ }
      }
      // Containers: runc state under our dirs (berth's runc root, Docker's runtime-runc/moby).
      for (const { root: rr, id } of runcStates(dir)) sh('runc', ['--root', rr, 'delete', '--force', id]);
      // Helpers of this daemon only: their command lines carry our unique temp dir.
      for (let i = 0; i < 3; i++) {
        const pids = pidsMentioning(dir);
        if (!pids.length) break;
        for (const p of pids) {
          try {
            process.kill(p, 'SIGKILL');
          } catch { /* gone */ }
        }
        spawnSync('sleep', ['0.1']);
      }
      for (const mp of mountsUnder(dir)) {
        if (sh('umount', [mp]).code !== 0) sh('umount', ['-l', mp]);
      }
      sh('ip', ['netns', 'del', netns]);
      if (!process.env.BERTH_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
  live.add(self);

  try {
    await spawnDaemon([]);
  } catch (e) {
    self.cleanupSync();
    throw e;
  }

  const d: Daemon = {
    engine, host: `unix://${socket}`, socket, dir, root, execRoot, pidfile, configFile, netns,
    get pid() {
      return child?.pid ?? -1;
    },
    helperPids: () => (containerd?.pid && containerd.exitCode === null ? [containerd.pid] : []),
    docker: (args, o) => runCmd(DOCKER, args, cliEnv, o),
    docker20: (args, o) => runCmd(DOCKER20, args, cliEnv, o),
    berth: (args, o) => runCmd(BERTH, args, cliEnv, o),
    exec: (cmd, args, o) => runCmd(cmd, args, cliEnv, o),
    inNetns: (cmd, args, o) => runCmd('nsenter', [`--net=/run/netns/${netns}`, cmd, ...args], cliEnv, o),
    async load(...names) {
      for (const n of names) {
        if (loaded.has(n)) continue;
        const r = await runCmd(DOCKER, ['load', '-i', join(FIXTURES, FIXTURE_FILES[n])], cliEnv, { timeoutMs: 300_000 });
        if (r.code !== 0) throw new Error(`docker load ${n}: ${r.stderr}`);
        loaded.add(n);
      }
    },
    stdout: () => readFileSync(outFile, 'utf8'),
    stderr: () => readFileSync(errFile, 'utf8'),
    stop,
    async kill9() {
      if (!running || !child?.pid) return;
      child.kill('SIGKILL');
      await exited;
    },
    async restart(extra = []) {
      await stop();
      await spawnDaemon(extra);
    },
    async stopHelpers() {
      if (running) throw new Error('stopHelpers: stop the daemon first');
      await stopContainerd();
    },
    signal(sig) {
      if (child?.pid) process.kill(child.pid, sig);
    },
    async cleanup() {
      if (cleaned) return;
      try {
        await removeContainers();
        await stop();
        await stopContainerd();
      } catch { /* the sync part below is the safety net */ }
      self.cleanupSync();
    },
  };
  return d;
}

function keepAlive<T>(p: Promise<T>): Promise<T> {
  const t = setInterval(() => {}, 1000);
  return p.finally(() => clearInterval(t));
}

function readTail(file: string, n = 4000): string {
  try {
    const t = readFileSync(file, 'utf8');
    return t.slice(-n);
  } catch {
    return '';
  }
}

/**
 * Run the daemon expecting it NOT to start (bad flags or config): resolves with its exit code and output.
 * Fails the test if it starts (after stopping it).
 */
export async function daemonStartFailure(opts: StartOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  try {
    const d = await startDaemon({ ...opts, timeoutMs: opts.timeoutMs ?? 20_000 });
    await d.cleanup();
  } catch (e) {
    if (e instanceof DaemonStartError) return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    throw e;
  }
  throw new Error('the daemon started although it should have refused to');
}

/** Which fixture digests the README promises (fixtures.json). */
export function fixtureInfo(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, 'fixtures.json'), 'utf8')) as Record<string, unknown>;
}
