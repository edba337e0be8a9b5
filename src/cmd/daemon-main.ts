/**
 * berthd: parse dockerd's flags and daemon.json, take the pid file, listen with the API server, build
 * image service → runtime driver → engine (requests wait for it), tell systemd. SIGTERM/SIGINT shut down,
 * SIGHUP reloads.
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
import type { Engine, EngineBackend, EngineOptions } from '../engine/index.ts';

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
    cgroupParent: s.cgroupParent, cgroupDriver: s.cgroupDriver, init: s.init, serverVersion: version(),
  };
}

/** daemon.json's network keys → the engine's NetworkConfig (same meanings as dockerd's). */
function networkConfig(n: Record<string, unknown>): NonNullable<EngineOptions['network']> {
  const str = (k: string) => (typeof n[k] === 'string' && n[k] !== '' ? n[k] as string : undefined);
  const bool = (k: string) => (typeof n[k] === 'boolean' ? n[k] as boolean : undefined);
  const out: NonNullable<EngineOptions['network']> = {};
  const set = <K extends keyof typeof out>(k: K, v: (typeof out)[K] | undefined) => { if (v !== undefined) out[k] = v; };
  set('bridge', str('bridge'));
  set('bip', str('bip'));
  set('fixedCidr', str('fixed-cidr'));
  set('ip', str('ip'));
  set('mtu', typeof n.mtu === 'number' && n.mtu > 0 ? n.mtu : undefined);
  set('iptables', bool('iptables'));
  set('ipForward', bool('ip-forward'));
  set('ipMasq', bool('ip-masq'));
  set('icc', bool('icc'));
  set('userlandProxy', bool('userland-proxy'));
  const pools = n['default-address-pools'];
  if (Array.isArray(pools) && pools.length) {
    out.defaultAddressPools = pools.map((p: unknown) => {
      if (typeof p === 'string') {
        const kv = Object.fromEntries(p.split(',').map((x) => x.split('=') as [string, string]));
        return { base: kv.base ?? '', size: Number(kv.size) };
      }
      const o = p as { base?: string; size?: number };
      return { base: o.base ?? '', size: Number(o.size) };
    });
  }
  return out;
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
  const runtimeConfig = {
    runtimes: settings.runtimes, defaultRuntime: settings.defaultRuntime, execRoot: settings.execRoot, systemdCgroup: settings.cgroupDriver === 'systemd',
  };
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

  /**
   * Listen first, then build the engine: /_ping answers as soon as the API is up; every request that needs
   * the engine waits for it (pendingBackend). READY=1 goes to systemd once the engine has restored.
   */
  async function startServices(): Promise<void> {
    const apiMod = await import('../api/server/index.ts');
    let ready!: (e: Engine) => void;
    let failed!: (e: unknown) => void;
    const engineReady = new Promise<Engine>((res, rej) => { ready = res; failed = rej; });
    api = apiMod.createApiServer(pendingBackend(engineReady), { debug: settings.debug, version: version(), experimental: settings.experimental }) as ApiServerLike;
    for (const h of settings.hosts) {
      await api.listen(h);
      log().info(`API listen on ${h.startsWith('unix://') ? h.slice(7) : h}`);
    }
    log().debug({ ms: Math.round(performance.now() - started) }, 'API listening');
    try {
      engine = await startEngine();
      ready(engine);
    } catch (e) {
      failed(e);
      throw e;
    }
    if (stopping) return;
    log().info({ 'graphdriver(s)': settings.storageDriver, version: version() }, 'berth daemon');
    log().info('Daemon has completed initialization');
    log().info({ listeners: settings.hosts, ms: Math.round(performance.now() - started) }, 'berthd ready');
    await sdNotify('READY=1').catch((e: Error) => log().warn(`sd_notify: ${e.message}`));
  }

  async function startEngine(): Promise<Engine> {
    // One module graph at a time: the API can answer in between.
    const imageMod = await import('../image/index.ts');
    const runtimeMod = await import('../runtime/index.ts');
    const engineMod = await import('../engine/index.ts');
    const image = await imageMod.createImageService({ root: settings.dataRoot });
    const runtime = runtimeMod.createConmonDriver(runtimeConfig);
    const e = await engineMod.createEngine({ root: settings.dataRoot, execRoot: settings.execRoot, image, runtime, config, network: networkConfig(settings.network) });
    const t1 = performance.now();
    await e.restore();
    log().debug({ ms: Math.round(performance.now() - t1) }, 'restore done');
    return e;
  }
}

/**
 * The engine as the API sees it while the daemon starts: each call waits until the engine has restored,
 * then goes to it. subscribeEvents (the one synchronous method) subscribes once the engine is there.
 */
function pendingBackend(engineReady: Promise<Engine>): EngineBackend {
  let engine: Record<string, (...a: unknown[]) => unknown> | undefined;
  const methods = new Map<string, unknown>();
  engineReady.then((e) => {
    engine = e as unknown as typeof engine;
    methods.clear();
  }, () => { /* the daemon exits */ });
  return new Proxy({} as EngineBackend, {
    get(_, name) {
      if (typeof name !== 'string' || name === 'then') return undefined;
      let m = methods.get(name);
      if (m) return m;
      if (engine) {
        m = engine[name]?.bind(engine);
      } else if (name === 'subscribeEvents') {
        m = (...args: Parameters<EngineBackend['subscribeEvents']>) => {
          let off: (() => void) | undefined;
          let cancelled = false;
          void engineReady.then((e) => { if (!cancelled) off = e.subscribeEvents(...args); }, () => {});
          return () => { cancelled = true; off?.(); };
        };
      } else {
        m = async (...args: unknown[]) => ((await engineReady) as unknown as NonNullable<typeof engine>)[name]!(...args);
      }
      methods.set(name, m);
      return m;
    },
  });
}

export function runDaemon(argv: string[]): void {
  main(argv).catch((e: unknown) => {
    const msg = e instanceof DaemonConfigError ? e.message : `failed to start daemon: ${(e as Error)?.message ?? String(e)}`;
    if (!(e instanceof DaemonConfigError) && process.env.BERTH_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    process.stderr.write(msg + '\n');
    process.exit(1);
  });
}
