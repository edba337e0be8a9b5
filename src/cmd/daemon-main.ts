/**
 * berthd: parse dockerd's flags and daemon.json, take the pid file, build image service → runtime
 * driver → engine → API server, listen, tell systemd. SIGTERM/SIGINT shut down, SIGHUP reloads.
 * Everything heavy is imported lazily so that the daemon starts fast and idles small.
 * Entry point: daemon.ts (turns the compile cache on first).
 */
import { mkdirSync, statSync, unlinkSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import {
  parseFlags, loadConfigFile, checkConflicts, resolveSettings, parseHost, DaemonConfigError, USAGE,
  DEFAULT_CONFIG_FILE, type DaemonSettings, type ParsedFlags,
} from './daemon-config.ts';
import { acquirePidFile, releasePidFile, sdNotify } from './daemon-files.ts';
import { initLogger, log, setLogLevel } from '../lib/index.ts';
import type { Engine, EngineOptions } from '../engine/index.ts';

const started = performance.now();

function findBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      if (statSync(p).isFile()) return p;
    } catch { /* next */ }
  }
  return undefined;
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function readSettings(flags: ParsedFlags): Promise<DaemonSettings> {
  const path = (flags.values['config-file'] as string | undefined) ?? DEFAULT_CONFIG_FILE;
  const file = (await loadConfigFile(path, flags.values['config-file'] !== undefined)) ?? {};
  checkConflicts(flags, file, path);
  return resolveSettings(flags, file, findBinary);
}

/** The engine's view of the settings; the same object is updated in place on SIGHUP. */
function engineConfig(s: DaemonSettings): EngineOptions['config'] {
  return {
    liveRestore: s.liveRestore, defaultRuntime: s.defaultRuntime, runtimes: s.runtimes, logDriver: s.logDriver, logOpts: s.logOpts,
    initPath: s.initPath, debug: s.debug, dns: s.dns, dnsSearch: s.dnsSearch, dnsOptions: s.dnsOptions,
    insecureRegistries: s.insecureRegistries, registryMirrors: s.registryMirrors, labels: s.labels, experimental: s.experimental,
    cgroupParent: s.cgroupParent, init: s.init, serverVersion: version(),
  };
}

interface ApiServerLike {
  listen(address: string): Promise<unknown> | unknown;
  close(): Promise<unknown> | unknown;
}

async function main(argv: string[]): Promise<void> {
  const flags = parseFlags(argv);
  if (flags.values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (flags.values.version) {
    process.stdout.write(`berthd version ${version()}\n`);
    return;
  }
  let settings = await readSettings(flags);
  if (process.getuid?.() !== 0) throw new DaemonConfigError('berthd needs to be started with root');
  initLogger(settings.logLevel);
  log().info('Starting up');

  mkdirSync(settings.dataRoot, { recursive: true, mode: 0o711 });
  mkdirSync(settings.execRoot, { recursive: true, mode: 0o700 });
  // One daemon per data root (whatever its exec root), and the pid file where the admin asked for it.
  const lockFile = join(settings.dataRoot, 'berthd.lock');
  acquirePidFile(settings.pidfile);
  try {
    acquirePidFile(lockFile);
  } catch (e) {
    releasePidFile(settings.pidfile);
    throw e;
  }

  const unixSockets: string[] = [];
  for (const h of settings.hosts) {
    const a = parseHost(h);
    if (a.kind === 'unix') {
      unixSockets.push(a.path);
      mkdirSync(dirname(a.path), { recursive: true, mode: 0o755 });
      try {
        unlinkSync(a.path); // a stale socket of a daemon that died (we hold the pid file, so none is live)
      } catch { /* none */ }
    }
  }

  let engine: Engine | undefined;
  let api: ApiServerLike | undefined;
  let stopping = false;
  let interrupts = 0;

  const cleanupFiles = (): void => {
    for (const s of unixSockets) {
      try {
        unlinkSync(s);
      } catch { /* gone */ }
    }
    releasePidFile(lockFile);
    releasePidFile(settings.pidfile);
  };

  const shutdown = async (signal: string): Promise<void> => {
    interrupts++;
    if (stopping) {
      if (interrupts >= 3) {
        log().info('Forcing berthd shutdown without cleanup; 3 interrupts received');
        cleanupFiles();
        process.exit(128 + 15);
      }
      return;
    }
    stopping = true;
    log().info({ signal }, `Processing signal '${signal === 'SIGINT' ? 'interrupt' : 'terminated'}'`);
    await sdNotify('STOPPING=1').catch(() => false);
    try {
      await api?.close();
      await engine?.shutdown();
      log().info('Daemon shutdown complete');
    } catch (e) {
      log().error({ err: e }, 'error during shutdown');
    } finally {
      cleanupFiles();
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  const config = engineConfig(settings);
  const runtimeConfig = { runtimes: settings.runtimes, defaultRuntime: settings.defaultRuntime, execRoot: settings.execRoot };
  process.on('SIGHUP', () => {
    void (async () => {
      // dockerd's reloadable options (RELOADABLE in daemon-config.ts); the rest needs a restart.
      log().info(`Got signal to reload configuration, reloading from: ${settings.configFile}`);
      try {
        const next = await readSettings(flags);
        if (next.debug !== settings.debug || next.logLevel !== settings.logLevel) setLogLevel(next.logLevel);
        Object.assign(config, {
          debug: next.debug, labels: next.labels, liveRestore: next.liveRestore, registryMirrors: next.registryMirrors,
          insecureRegistries: next.insecureRegistries, defaultRuntime: next.defaultRuntime, runtimes: next.runtimes,
        });
        // The runtime driver holds this object too: new runtimes and the default apply to the next container.
        Object.assign(runtimeConfig, { runtimes: next.runtimes, defaultRuntime: next.defaultRuntime });
        settings = {
          ...settings, debug: next.debug, logLevel: next.logLevel, labels: next.labels, liveRestore: next.liveRestore,
          registryMirrors: next.registryMirrors, insecureRegistries: next.insecureRegistries, defaultRuntime: next.defaultRuntime,
          runtimes: next.runtimes, maxConcurrentDownloads: next.maxConcurrentDownloads,
          maxConcurrentUploads: next.maxConcurrentUploads, shutdownTimeout: next.shutdownTimeout,
        };
        const reload = (engine as unknown as { reload?: (c: EngineOptions['config']) => unknown } | undefined)?.reload;
        if (reload) await reload.call(engine, config);
        log().info({ config: { debug: settings.debug, 'log-level': settings.logLevel, labels: settings.labels, 'live-restore': settings.liveRestore,
          'registry-mirrors': settings.registryMirrors, 'insecure-registries': settings.insecureRegistries, 'default-runtime': settings.defaultRuntime,
          runtimes: settings.runtimes, 'max-concurrent-downloads': settings.maxConcurrentDownloads,
          'max-concurrent-uploads': settings.maxConcurrentUploads } }, 'Reloaded configuration');
      } catch (e) {
        log().error((e as Error).message);
      }
    })();
  });

  try {
    await startServices();
  } catch (e) {
    cleanupFiles();
    throw e;
  }

  async function startServices(): Promise<void> {
  const t0 = performance.now();
  const [imageMod, runtimeMod, engineMod, apiMod] = await Promise.all([
    import('../image/index.ts'),
    import('../runtime/index.ts'),
    import('../engine/index.ts'),
    import('../api/server/index.ts'),
  ]);
  log().debug({ ms: Math.round(performance.now() - t0) }, 'modules loaded');

  const image = await imageMod.createImageService({ root: settings.dataRoot });
  const runtime = runtimeMod.createConmonDriver(runtimeConfig);
  engine = await engineMod.createEngine({ root: settings.dataRoot, execRoot: settings.execRoot, image, runtime, config });
  const t1 = performance.now();
  await engine.restore();
  log().debug({ ms: Math.round(performance.now() - t1) }, 'restore done');
  if (stopping) return;
  log().info({ 'graphdriver(s)': settings.storageDriver, version: version() }, 'berth daemon');
  log().info('Daemon has completed initialization');

  api = apiMod.createApiServer(engine, { debug: settings.debug, version: version(), experimental: settings.experimental }) as ApiServerLike;
  for (const h of settings.hosts) {
    await api.listen(h);
    log().info(`API listen on ${h.startsWith('unix://') ? h.slice(7) : h}`);
  }
  log().info({ listeners: settings.hosts, ms: Math.round(performance.now() - started) }, 'berthd ready');
  await sdNotify('READY=1').catch((e: Error) => log().warn(`sd_notify: ${e.message}`));
  }
}

export function runDaemon(argv: string[]): void {
  main(argv).catch((e: unknown) => {
    const msg = e instanceof DaemonConfigError ? e.message : `failed to start daemon: ${(e as Error)?.message ?? String(e)}`;
    if (!(e instanceof DaemonConfigError) && process.env.BERTH_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    process.stderr.write(msg + '\n');
    process.exit(1);
  });
}
