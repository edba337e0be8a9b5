/**
 * berth vs Docker 20.10, side by side in one run (performance.md, engine-core rows). Both daemons run in
 * their own netns with their own data roots under /var/tmp (same filesystem), both driven by the docker
 * 20.10 CLI (/usr/bin/docker); the CLI round-trip row compares the berth CLI with it, both against berthd.
 * Prints a Markdown table (median, min–max, ratio, target). Outside `npm test`; run as root: bash bench/run.sh
 *
 *   BENCH_ENGINES=docker   only Docker (to check the harness); BENCH_ONLY=run,exec,start  only some rows;
 *   BENCH_RUNS=10          hyperfine runs per command.
 *
 * Rows: idle, run, exec, detached, start, loadsave, cli (engine core, issues 3-4) and, for networking (issue 5),
 * netrun (`run --rm` on the default bridge), publish (`run -d -p 8080:80 nginx` until the first HTTP 200) and dns
 * (20 containers on one user network resolving each other); `BENCH_ONLY=net` is the three of them. build (issue 6):
 * Docker's classic builder and BuildKit vs berth, cold / all cached / one file changed (`BENCH_ONLY=build`), against
 * the networking dockerd (BuildKit's RUN needs a network; see bench/README.md). The engine-core
 * rows compare berthd with a dockerd started with `--bridge none --iptables=false` (the harness's default); the
 * networking rows with a second dockerd with Docker's default networking (docker0, iptables, ip-masq,
 * docker-proxy), started only for them and after the others (a second dockerd would share pages with the first
 * and flatter its PSS). berthd runs with its default config (networking on) for all rows.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, existsSync, mkdirSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { createCipheriv } from 'node:crypto';
import { join, resolve } from 'node:path';
import { loadavg, cpus } from 'node:os';
import { startDaemon, pidsMentioning, DOCKER20, BERTH, REPO, type Daemon, type EngineKind } from '../test/helpers/daemon.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const NET_ROWS = ['netrun', 'publish', 'dns'];
const ONLY = process.env.BENCH_ONLY?.split(',').flatMap((r) => (r === 'net' ? NET_ROWS : [r]));
const ENGINES = (process.env.BENCH_ENGINES?.split(',') ?? ['docker', 'berth']) as EngineKind[];
const CACHE = resolve(REPO, 'bench', '.cache');
const want = (row: string): boolean => !ONLY || ONLY.includes(row);

interface Stat { median: number; min: number; max: number; unit: string }
/** targetRatio undefined: reported without a target. */
type Row = { metric: string; target: string; better: 'lower' | 'higher'; targetRatio?: number; values: Partial<Record<EngineKind, Stat>>; note?: string };
const rows: Row[] = [];
/** berthd's per-phase breakdowns, one section per measured command. */
const phases: { title: string; lines: string[] }[] = [];

function stat(xs: number[], unit: string): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median: mid, min: s[0]!, max: s.at(-1)!, unit };
}

function row(metric: string, target: string, better: Row['better'], targetRatio?: number): Row {
  const r: Row = { metric, target, better, values: {} };
  if (targetRatio !== undefined) r.targetRatio = targetRatio;
  rows.push(r);
  return r;
}

function note(msg: string): void {
  process.stderr.write(`bench: ${msg} (load ${loadavg().map((x) => x.toFixed(2)).join(' ')})\n`);
}

/** hyperfine without a shell; returns seconds → ms. */
function hyperfine(cmd: string[], env: NodeJS.ProcessEnv, o: { runs?: number; warmup?: number; prepare?: string } = {}): Stat {
  const json = join('/var/tmp', `berth-bench-${process.pid}.json`);
  const args = ['-N', '--style', 'none', '--warmup', String(o.warmup ?? 2), '--runs', String(o.runs ?? RUNS), '--export-json', json];
  if (o.prepare) args.push('--prepare', o.prepare);
  args.push(cmd.map((a) => (/^[\w./:=@,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' '));
  if (o.prepare) args.splice(0, 1); // --prepare needs a shell anyway; keep the measured command shell-less only without it
  const r = spawnSync('hyperfine', args, { env, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  if (r.status !== 0) throw new Error(`hyperfine ${cmd.join(' ')}: ${r.stderr}`);
  const res = (JSON.parse(readFileSync(json, 'utf8')) as { results: { times: number[] }[] }).results[0]!;
  rmSync(json, { force: true });
  return stat(res.times.map((t) => t * 1000), 'ms');
}

function pss(pid: number): { pss: number; rss: number } {
  const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t)?.[1] ?? 0);
  return { pss: kb('Pss') / 1024, rss: kb('Rss') / 1024 };
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

async function cli(d: Daemon, args: string[]): Promise<string> {
  const r = await d.docker20(args, { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A deterministic ~115 MiB one-layer docker-archive of incompressible data (cached in bench/.cache). */
function bigImage(): string {
  const out = join(CACHE, 'big-115m.tar');
  if (existsSync(out) && statSync(out).size > 100 * 1024 * 1024) return out;
  mkdirSync(CACHE, { recursive: true });
  const py = `
import tarfile, io, json, hashlib, random, sys
rnd = random.Random(115)
layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode='w', format=tarfile.PAX_FORMAT) as t:
    d = tarfile.TarInfo('data'); d.type = tarfile.DIRTYPE; d.mode = 0o755; d.mtime = 1795392000; t.addfile(d)
    for i in range(115):
        b = rnd.randbytes(1024 * 1024)
        ti = tarfile.TarInfo('data/f%03d.bin' % i); ti.size = len(b); ti.mtime = 1795392000; ti.mode = 0o644
        t.addfile(ti, io.BytesIO(b))
lb = layer.getvalue(); ld = hashlib.sha256(lb).hexdigest()
cfg = json.dumps({"architecture": "amd64", "os": "linux", "created": "2026-11-23T00:00:00Z",
  "config": {"Cmd": ["sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + ld]},
  "history": [{"created": "2026-11-23T00:00:00Z", "created_by": "bench: 115 x 1 MiB random files"}]}, sort_keys=True).encode()
cd = hashlib.sha256(cfg).hexdigest()
man = json.dumps([{"Config": cd + ".json", "RepoTags": ["big:latest"], "Layers": [ld + "/layer.tar"]}]).encode()
def add(t, name, data):
    ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1795392000; ti.mode = 0o644; t.addfile(ti, io.BytesIO(data))
with tarfile.open(sys.argv[1] + '.tmp', 'w', format=tarfile.PAX_FORMAT) as t:
    di = tarfile.TarInfo(ld + '/'); di.type = tarfile.DIRTYPE; di.mode = 0o755; di.mtime = 1795392000; t.addfile(di)
    add(t, ld + '/layer.tar', lb)
    add(t, cd + '.json', cfg)
    add(t, 'manifest.json', man)
    add(t, 'repositories', json.dumps({"big": {"latest": ld}}).encode())
`;
  const r = spawnSync('python3', ['-c', py, out], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not generate the big image');
  spawnSync('mv', [`${out}.tmp`, out]);
  return out;
}

const envOf = (d: Daemon): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'docker-config') });

type Daemons = Partial<Record<EngineKind, Daemon>>;

function set(metric: string, kind: EngineKind, s: Stat): void {
  const r = rows.find((x) => x.metric === metric);
  if (r) r.values[kind] = s;
}

/** Time one command (ms) with the daemon's environment. */
function timed(env: NodeJS.ProcessEnv, cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return ms;
}

/**
 * Run `round(kind, i)` for both engines, alternating which goes first, so both see the same machine load
 * (the runs are interleaved, not minutes apart). Returns the samples per engine.
 */
async function interleaved(ds: Daemons, rounds: number, round: (kind: EngineKind, d: Daemon, i: number) => Promise<number[] | number>): Promise<Partial<Record<EngineKind, number[]>>> {
  const kinds = ENGINES.filter((k) => ds[k]);
  const out: Partial<Record<EngineKind, number[]>> = {};
  for (let i = 0; i < rounds; i++) {
    for (const kind of i % 2 ? [...kinds].reverse() : kinds) {
      const v = await round(kind, ds[kind]!, i);
      (out[kind] ??= []).push(...(Array.isArray(v) ? v : [v]));
    }
  }
  return out;
}

async function benchIdle(ds: Daemons): Promise<void> {
  // PSS splits each page among the processes mapping it: berthd shares the node binary's pages with this
  // bench (node too) and any other node process, dockerd and containerd share theirs with nobody here. So
  // RSS, each daemon counted as if alone, is reported next to PSS. Measured after start + load, then again
  // after some work (10 containers run and removed): both runtimes keep some of what work allocated.
  const idle = async (when: string): Promise<void> => {
    await new Promise((r) => setTimeout(r, 3000));
    for (const [kind, d] of Object.entries(ds) as [EngineKind, Daemon][]) {
      const pids = [d.pid, ...d.helperPids()];
      const m = pids.map(pss);
      set(`daemon memory when idle${when} (PSS, MiB)`, kind, stat([m.reduce((a, x) => a + x.pss, 0)], 'MiB'));
      set(`daemon memory when idle${when} (RSS, MiB)`, kind, stat([m.reduce((a, x) => a + x.rss, 0)], 'MiB'));
      note(`${kind} idle${when}: ${pids.map((p, i) => `${comm(p)} PSS ${m[i]!.pss.toFixed(1)} MiB RSS ${m[i]!.rss.toFixed(1)} MiB`).join(', ')}`);
    }
  };
  await idle('');
  for (const d of Object.values(ds)) {
    for (let i = 0; i < 5; i++) await cli(d, ['run', '--rm', '--network', 'none', 'busybox:1.35', 'true']);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await cli(d, ['run', '-d', '--network', 'none', 'busybox:1.35', 'sleep', '1000'])).trim());
    await cli(d, ['rm', '-f', ...ids]);
  }
  await idle(', after 10 runs');
}

async function benchRun(ds: Daemons): Promise<void> {
  note('run --rm --network none (interleaved)');
  const args = ['run', '--rm', '--network', 'none', 'busybox:1.35', 'true'];
  for (const d of Object.values(ds)) for (let i = 0; i < 2; i++) timed(envOf(d), DOCKER20, args); // warm-up
  const r = await interleaved(ds, RUNS, async (_k, d) => timed(envOf(d), DOCKER20, args));
  for (const [kind, xs] of Object.entries(r) as [EngineKind, number[]][]) set('`run --rm --network none busybox true`', kind, stat(xs, 'ms'));
  if (ds.berth) phases.push({ title: '`run --rm --network none`', lines: await phaseBreakdown(ds.berth, async (d) => { await cli(d, args); }) });
}

/** Issue 4's rows: `exec ctr1 true` and `stats --no-stream ctr1` against a running container. */
async function benchExecStats(ds: Daemons): Promise<void> {
  note('exec and stats --no-stream (interleaved)');
  for (const d of Object.values(ds)) {
    spawnSync(DOCKER20, ['rm', '-f', 'ctr1'], { env: envOf(d), stdio: 'ignore' });
    timed(envOf(d), DOCKER20, ['run', '-d', '--name', 'ctr1', '--network', 'none', 'busybox:1.35', 'sleep', '1000']);
  }
  for (const [args, metric] of [
    [['exec', 'ctr1', 'true'], '`exec ctr1 true` round trip'],
    [['stats', '--no-stream', 'ctr1'], '`stats --no-stream ctr1`'],
  ] as const) {
    for (const d of Object.values(ds)) for (let i = 0; i < 2; i++) timed(envOf(d), DOCKER20, [...args]); // warm-up
    const r = await interleaved(ds, RUNS, async (_k, d) => timed(envOf(d), DOCKER20, [...args]));
    for (const [kind, xs] of Object.entries(r) as [EngineKind, number[]][]) set(metric, kind, stat(xs, 'ms'));
  }
  for (const d of Object.values(ds)) spawnSync(DOCKER20, ['rm', '-f', 'ctr1'], { env: envOf(d), stdio: 'ignore' });
}

async function benchDetached(ds: Daemons): Promise<void> {
  const rms: Partial<Record<EngineKind, number[]>> = {};
  const helper: Partial<Record<EngineKind, number[]>> = {};
  const rates = await interleaved(ds, 4, async (kind, d, round) => {
    note(`${kind}: 30 x run -d, round ${round + 1}`);
    const env = envOf(d);
    const t0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await cli(d, ['run', '-d', '--network', 'none', 'busybox:1.35', 'sleep', '1000'])).trim());
    const rate = 30 / ((performance.now() - t0) / 1000);
    if (round < 2) {
      const helpers = pidsMentioning(d.dir).filter((p) => /^(conmon|containerd-shim)/.test(comm(p)));
      const total = helpers.map(pss).reduce((a, x) => a + x.pss, 0);
      (helper[kind] ??= []).push(total / 30);
      note(`${kind}: ${helpers.length} helper processes (${[...new Set(helpers.map(comm))].join(', ')}), ${total.toFixed(1)} MiB PSS for 30 containers`);
    }
    (rms[kind] ??= []).push(timed(env, DOCKER20, ['rm', '-f', ...ids]));
    return rate;
  });
  for (const kind of ENGINES) {
    if (rates[kind]) set('30 × `run -d busybox sleep 1000`, one after another (containers/s)', kind, stat(rates[kind]!, '/s'));
    if (rms[kind]) set('one `rm -f` of 30 running containers', kind, stat(rms[kind]!, 'ms'));
    if (helper[kind]) set('memory per running container, helper processes (PSS, MiB)', kind, stat(helper[kind]!, 'MiB'));
  }
}

async function benchStart(ds: Daemons): Promise<void> {
  // Warm: dockerd alone, containerd kept running (as systemd restarts docker.service). Cold: the whole
  // engine from nothing, Docker's containerd included (berth has no second daemon).
  for (const cold of [false, true]) {
    const r = await interleaved(ds, 6, async (_k, d) => {
      await d.stop();
      if (cold) await d.stopHelpers();
      const t0 = performance.now();
      await d.restart();
      return performance.now() - t0;
    });
    const name = cold ? 'daemon start until the API answers, whole engine (Docker: containerd too)' : 'daemon start until the API answers';
    for (const [kind, xs] of Object.entries(r) as [EngineKind, number[]][]) {
      note(`${kind}: ${cold ? 'cold ' : ''}daemon start ${xs.map((t) => t.toFixed(0)).join(' ')} ms`);
      set(name, kind, stat(xs, 'ms'));
    }
  }
}

async function benchLoadSave(ds: Daemons): Promise<void> {
  const big = bigImage();
  note(`load/save of ${(statSync(big).size / 2 ** 20).toFixed(0)} MiB (interleaved)`);
  const loads = await interleaved(ds, 5, async (_k, d) => {
    const env = envOf(d);
    spawnSync(DOCKER20, ['rmi', '-f', 'big:latest'], { env, stdio: 'ignore' });
    spawnSync('sync');
    return timed(env, DOCKER20, ['load', '-i', big]);
  });
  const saves = await interleaved(ds, 5, async (_k, d) => {
    const out = join(d.dir, 'big-saved.tar');
    const ms = timed(envOf(d), DOCKER20, ['save', '-o', out, 'big:latest']);
    rmSync(out, { force: true });
    return ms;
  });
  for (const kind of ENGINES) {
    if (loads[kind]) set('`load` of a 115 MiB one-layer image', kind, stat(loads[kind]!, 'ms'));
    if (saves[kind]) set('`save` of the same', kind, stat(saves[kind]!, 'ms'));
  }
}

/**
 * berthd logs `phases` (ms since the step began, per phase) at debug level; switch debug on by SIGHUP, run
 * `once` 5 more times, summarise the medians per log message and phase.
 */
async function phaseBreakdown(d: Daemon, once: (d: Daemon) => Promise<void>): Promise<string[]> {
  const cfg = readFileSync(d.configFile, 'utf8');
  writeFileSync(d.configFile, JSON.stringify({ ...JSON.parse(cfg || '{}'), debug: true }));
  d.signal('SIGHUP');
  await new Promise((r) => setTimeout(r, 300));
  const from = d.stderr().length;
  for (let i = 0; i < 5; i++) await once(d);
  writeFileSync(d.configFile, cfg);
  d.signal('SIGHUP');
  const acc = new Map<string, number[]>();
  for (const line of d.stderr().slice(from).split('\n')) {
    let j: { phases?: Record<string, number>; msg?: string };
    try {
      j = JSON.parse(line) as typeof j;
    } catch {
      continue;
    }
    for (const [k, v] of Object.entries(j.phases ?? {})) if (typeof v === 'number') (acc.get(`${j.msg ?? ''}: ${k}`) ?? acc.set(`${j.msg ?? ''}: ${k}`, []).get(`${j.msg ?? ''}: ${k}`)!).push(v);
  }
  if (!acc.size) return ['(berthd logged no `phases` at debug level)'];
  return [...acc].map(([k, v]) => `${k} ${stat(v, 'ms').median.toFixed(1)} ms`);
}

async function cliRoundTrip(d: Daemon): Promise<void> {
  const env = envOf(d);
  for (const [metric, args] of [['CLI round trip `version`', ['version']], ['CLI round trip `ps -a -q`', ['ps', '-a', '-q']]] as const) {
    const r = row(metric + ' (berth CLI vs docker 20.10 CLI, both against berthd)', '≤ 2×', 'lower', 2);
    note(`cli: ${args.join(' ')}`);
    r.values.docker = hyperfine([DOCKER20, ...args], env, { warmup: 3, runs: 20 });
    r.values.berth = hyperfine([BERTH, ...args], env, { warmup: 3, runs: 20 });
  }
}

// ───────────── networking rows (issue 5) ─────────────

/** dockerd flags after the harness's `--bridge none --iptables=false --ip-masq=false`: the last one wins. */
const DOCKER_NET_ARGS = ['--bridge=', '--iptables=true', '--ip-masq=true', '--userland-proxy=true'];
const NET = {
  run: '`run --rm busybox true`, default bridge',
  publish: '`run -d -p 8080:80 nginx` until the first HTTP 200 on 127.0.0.1:8080',
  publishRun: '… of which `run -d` until it returns',
  dnsStart: '20 × `run -d --network benchnet busybox sleep 1000`, one after another (total)',
  dnsResolve: '20 containers on benchnet each resolving all 20 names (400 `nslookup`, sum of in-container times)',
  dnsExec: '… the same with its 20 `docker exec` round trips',
} as const;

async function benchNetRun(ds: Daemons): Promise<void> {
  note('run --rm on the default bridge (interleaved)');
  const args = ['run', '--rm', 'busybox:1.35', 'true'];
  for (const d of Object.values(ds)) for (let i = 0; i < 2; i++) timed(envOf(d), DOCKER20, args); // warm-up
  const r = await interleaved(ds, RUNS, async (_k, d) => timed(envOf(d), DOCKER20, args));
  for (const [kind, xs] of Object.entries(r) as [EngineKind, number[]][]) set(NET.run, kind, stat(xs, 'ms'));
  if (ds.berth) phases.push({ title: '`run --rm`, default bridge', lines: await phaseBreakdown(ds.berth, async (d) => { await cli(d, args); }) });
}

/**
 * A Node process inside the daemon's netns that answers `get` once GET http://127.0.0.1:8080/ gave a 200
 * (a new connection per try, 2 ms between failed tries) and `free` once a connect to the port is refused.
 * Started once, so its own start-up is not measured.
 */
const POLLER = `
const http = require('node:http'), net = require('node:net');
const PORT = 8080, sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const get = () => new Promise((res) => {
  const q = http.get({ host: '127.0.0.1', port: PORT, path: '/', agent: false }, (s) => { s.resume(); s.on('end', () => res(s.statusCode)); });
  q.on('error', () => res(0));
});
const refused = () => new Promise((res) => {
  const s = net.connect(PORT, '127.0.0.1');
  s.on('connect', () => { s.destroy(); res(false); });
  s.on('error', () => res(true));
});
require('node:readline').createInterface({ input: process.stdin }).on('line', async (cmd) => {
  let n = 0;
  if (cmd === 'get') while ((await get()) !== 200) { n++; await sleep(2); }
  if (cmd === 'free') while (!(await refused())) { n++; await sleep(10); }
  process.stdout.write(cmd + ' ' + n + '\\n');
});
`;

interface Poller { ask(cmd: 'get' | 'free'): Promise<number>; close(): void }

function poller(d: Daemon): Poller {
  const c = spawn('nsenter', [`--net=/run/netns/${d.netns}`, process.execPath, '-e', POLLER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting: ((n: number) => void)[] = [];
  let buf = '';
  c.stdout.setEncoding('utf8').on('data', (s: string) => {
    buf += s;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      waiting.shift()?.(Number(buf.slice(0, i).split(' ')[1]));
      buf = buf.slice(i + 1);
    }
  });
  return {
    ask: (cmd) => new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`poller: no answer to ${cmd} within 60 s`)), 60_000);
      waiting.push((n) => { clearTimeout(t); res(n); });
      c.stdin.write(`${cmd}\n`);
    }),
    close: () => { c.stdin.end(); c.kill(); },
  };
}

async function benchPublish(ds: Daemons): Promise<void> {
  note('run -d -p 8080:80 nginx until the first 200 (interleaved)');
  const args = ['run', '-d', '-p', '8080:80', 'nginx:bookworm'];
  const pollers: Partial<Record<EngineKind, Poller>> = {};
  const runMs: Partial<Record<EngineKind, number[]>> = {};
  const tries: Partial<Record<EngineKind, number[]>> = {};
  const once = async (kind: EngineKind, d: Daemon): Promise<number> => {
    const p = (pollers[kind] ??= poller(d));
    const t0 = performance.now();
    const r = spawnSync(DOCKER20, args, { env: envOf(d), encoding: 'utf8' });
    const ran = performance.now() - t0;
    if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
    const n = await p.ask('get');
    const ms = performance.now() - t0;
    timed(envOf(d), DOCKER20, ['rm', '-f', r.stdout.trim()]);
    await p.ask('free');
    (runMs[kind] ??= []).push(ran);
    (tries[kind] ??= []).push(n);
    return ms;
  };
  try {
    for (const d of Object.values(ds)) await d.load('nginx');
    for (const [kind, d] of Object.entries(ds) as [EngineKind, Daemon][]) for (let i = 0; i < 2; i++) await once(kind, d); // warm-up
    for (const k of Object.keys(runMs) as EngineKind[]) { runMs[k] = []; tries[k] = []; }
    const r = await interleaved(ds, RUNS, once);
    for (const [kind, xs] of Object.entries(r) as [EngineKind, number[]][]) {
      set(NET.publish, kind, stat(xs, 'ms'));
      set(NET.publishRun, kind, stat(runMs[kind]!, 'ms'));
      note(`${kind}: failed GETs before the 200: ${tries[kind]!.join(' ')}`);
    }
    if (ds.berth) {
      phases.push({ title: '`run -d -p 8080:80 nginx` (then `rm -f`)', lines: await phaseBreakdown(ds.berth, async (d) => { await once('berth', d); }) });
    }
  } finally {
    for (const p of Object.values(pollers)) p.close();
  }
}

/**
 * In each container: the time to resolve n1…n20 with busybox nslookup, from its own /proc/uptime (centiseconds;
 * busybox's date has no %N). Summed over 20 containers the ±10 ms rounding of each reading averages out.
 */
const RESOLVE_ALL = 'up() { read u _ < /proc/uptime; echo ${u%.*}${u#*.}; }; t0=$(up); for i in $(seq 1 20); do nslookup n$i >/dev/null || { echo "n$i did not resolve" >&2; exit 1; }; done; echo $(( ($(up) - t0) * 10 ))';

async function benchDns(ds: Daemons): Promise<void> {
  const starts: Partial<Record<EngineKind, number[]>> = {};
  const inside: Partial<Record<EngineKind, number[]>> = {};
  const gross: Partial<Record<EngineKind, number[]>> = {};
  await interleaved(ds, 3, async (kind, d, round) => {
    note(`${kind}: 20 containers on a user network, round ${round + 1}`);
    const env = envOf(d);
    await cli(d, ['network', 'create', 'benchnet']);
    const names = Array.from({ length: 20 }, (_, i) => `n${i + 1}`);
    try {
      const t0 = performance.now();
      for (const n of names) await cli(d, ['run', '-d', '--network', 'benchnet', '--name', n, 'busybox:1.35', 'sleep', '1000']);
      (starts[kind] ??= []).push(performance.now() - t0);
      let ms = 0;
      const t1 = performance.now();
      for (const n of names) {
        const r = spawnSync(DOCKER20, ['exec', n, 'sh', '-c', RESOLVE_ALL], { env, encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`${kind}: exec ${n} nslookup: ${r.stderr}`);
        ms += Number(r.stdout.trim());
      }
      (gross[kind] ??= []).push(performance.now() - t1);
      (inside[kind] ??= []).push(ms);
    } finally {
      spawnSync(DOCKER20, ['rm', '-f', ...names], { env, stdio: 'ignore' });
      spawnSync(DOCKER20, ['network', 'rm', 'benchnet'], { env, stdio: 'ignore' });
    }
    return 0;
  });
  for (const kind of ENGINES) {
    if (starts[kind]) set(NET.dnsStart, kind, stat(starts[kind]!, 'ms'));
    if (inside[kind]) set(NET.dnsResolve, kind, stat(inside[kind]!, 'ms'));
    if (gross[kind]) set(NET.dnsExec, kind, stat(gross[kind]!, 'ms'));
  }
}

// ───────────── build rows (issue 6) ─────────────

const BUILD = {
  coldBk: 'build cold: 2×RUN + COPY 10 MiB + ENV/WORKDIR/CMD on busybox (Docker column: BuildKit)',
  coldClassic: '… the same, cold (Docker column: classic builder)',
  cachedClassic: 'build, all steps cached (Docker column: classic builder)',
  cachedBk: '… the same, all cached (Docker column: BuildKit)',
  changedClassic: 'build, one copied file changed (Docker column: classic builder)',
  changedBk: '… the same, one file changed (Docker column: BuildKit)',
} as const;

/**
 * The build context: a Dockerfile with ENV, WORKDIR, `COPY . /app/`, two RUNs and CMD; 10 MiB of deterministic
 * pseudo-random bytes (AES-CTR over zeros, fixed key) and a small version.txt that the changed-file row rewrites.
 */
function buildContext(): string {
  const dir = join(CACHE, 'build-ctx');
  mkdirSync(dir, { recursive: true });
  const data = join(dir, 'data.bin');
  if (!existsSync(data) || statSync(data).size !== 10 * 2 ** 20) {
    const c = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
    writeFileSync(data, Buffer.concat([c.update(Buffer.alloc(10 * 2 ** 20)), c.final()]));
  }
  writeFileSync(join(dir, 'version.txt'), 'v0\n');
  writeFileSync(join(dir, 'Dockerfile'), [
    'FROM busybox:1.35',
    'ENV APP=bench MODE=release',
    'WORKDIR /app',
    'COPY . /app/',
    'RUN wc -c data.bin > size.txt',
    'RUN echo "built $APP" > built.txt && cat version.txt',
    'CMD ["sh", "-c", "cat /app/built.txt"]',
    '',
  ].join('\n'));
  return dir;
}

/**
 * Docker's classic builder (DOCKER_BUILDKIT=0), Docker's BuildKit (DOCKER_BUILDKIT=1, the dockerd 20.10 integrated
 * one) and berth (classic API), all with the 20.10 CLI, interleaved with the order rotated each round. Cold: the
 * image and its cache removed before each run (`rmi -f`, `image prune -f`, for BuildKit `builder prune -af`),
 * untimed. Cached: the same build again. Changed: version.txt rewritten (untimed) before each build.
 */
async function benchBuild(ds: Daemons): Promise<void> {
  const ctx = buildContext();
  type Variant = { name: 'classic' | 'buildkit' | 'berth'; d: Daemon; env: NodeJS.ProcessEnv; tag: string };
  const variants: Variant[] = [];
  if (ds.docker) {
    variants.push({ name: 'classic', d: ds.docker, env: { ...envOf(ds.docker), DOCKER_BUILDKIT: '0' }, tag: 'bench-classic' });
    variants.push({ name: 'buildkit', d: ds.docker, env: { ...envOf(ds.docker), DOCKER_BUILDKIT: '1' }, tag: 'bench-buildkit' });
  }
  if (ds.berth) variants.push({ name: 'berth', d: ds.berth, env: { ...envOf(ds.berth), DOCKER_BUILDKIT: '0' }, tag: 'bench-berth' });
  /** One timed build; `expect` checks that the cache was (not) used as the row says. */
  const buildOnce = (v: Variant, expect?: 'cold' | 'cached'): number => {
    const t0 = performance.now();
    const r = spawnSync(DOCKER20, ['build', '-t', v.tag, ctx], { env: v.env, encoding: 'utf8', maxBuffer: 1 << 26 });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${v.name}: docker build: ${r.stdout}${r.stderr}`);
    const hits = (`${r.stdout}${r.stderr}`.match(v.name === 'buildkit' ? /^#\d+ CACHED$/gm : /^ ---> Using cache$/gm) ?? []).length;
    if (expect === 'cold' && hits) throw new Error(`${v.name}: the cold build used the cache (${hits} steps)`);
    // every step: classic ENV, WORKDIR, COPY, RUN, RUN, CMD; BuildKit WORKDIR, COPY, RUN, RUN (ENV and CMD are no steps there)
    if (expect === 'cached' && hits < (v.name === 'buildkit' ? 4 : 6)) throw new Error(`${v.name}: the cached build ran steps (${hits} cached):\n${r.stdout}${r.stderr}`);
    return ms;
  };
  const uncache = (v: Variant): void => {
    for (const args of [['rmi', '-f', v.tag], ['image', 'prune', '-f'], ...(v.name === 'buildkit' ? [['builder', 'prune', '-af']] : [])]) {
      spawnSync(DOCKER20, args, { env: v.env, stdio: 'ignore' });
    }
  };
  const rounds = async (label: string, before: (v: Variant, i: number) => void, expect?: 'cold' | 'cached'): Promise<Record<string, number[]>> => {
    const out: Record<string, number[]> = {};
    for (let i = 0; i < RUNS; i++) {
      const order = variants.map((_, k) => variants[(k + i) % variants.length]!);
      for (const v of order) {
        before(v, i);
        (out[v.name] ??= []).push(buildOnce(v, expect));
      }
    }
    note(`build ${label}: ${Object.entries(out).map(([k, xs]) => `${k} ${stat(xs, 'ms').median.toFixed(0)} ms`).join(', ')}`);
    return out;
  };
  note(`build: ${variants.map((v) => v.name).join(', ')} (interleaved)`);
  for (const v of variants) { uncache(v); buildOnce(v); } // warm-up: base image, CLI, first-build set-up
  const cold = await rounds('cold', (v) => uncache(v), 'cold');
  const cached = await rounds('cached', () => {}, 'cached');
  const changed = await rounds('one file changed', (v, i) => writeFileSync(join(ctx, 'version.txt'), `${v.name} ${i} ${Date.now()}\n`));
  const put = (metric: string, docker: 'classic' | 'buildkit', r: Record<string, number[]>): void => {
    const row = rows.find((x) => x.metric === metric);
    if (!row) return;
    if (r[docker]) row.values.docker = stat(r[docker], 'ms');
    if (r.berth) row.values.berth = stat(r.berth, 'ms');
  };
  put(BUILD.coldBk, 'buildkit', cold);
  put(BUILD.coldClassic, 'classic', cold);
  put(BUILD.cachedClassic, 'classic', cached);
  put(BUILD.cachedBk, 'buildkit', cached);
  put(BUILD.changedClassic, 'classic', changed);
  put(BUILD.changedBk, 'buildkit', changed);
  for (const v of variants) spawnSync(DOCKER20, ['rmi', '-f', v.tag], { env: v.env, stdio: 'ignore' });
}

function fmt(s: Stat | undefined): string {
  if (!s) return '–';
  const d = s.unit === 'ms' && s.median >= 1000 ? 0 : 1;
  return `${s.median.toFixed(d)} ${s.unit} (${s.min.toFixed(d)}–${s.max.toFixed(d)})`;
}

function table(): string {
  const lines = ['| metric | Docker 20.10 | berth | berth/Docker | target | met |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const b = r.values.berth;
    const dk = r.values.docker;
    const ratio = b && dk ? b.median / dk.median : undefined;
    const met = ratio === undefined || r.targetRatio === undefined ? '–' : (r.better === 'lower' ? ratio <= r.targetRatio : ratio >= r.targetRatio) ? 'yes' : '**no**';
    lines.push(`| ${r.metric} | ${fmt(dk)} | ${fmt(b)} | ${ratio === undefined ? '–' : ratio.toFixed(2) + '×'} | ${r.target} | ${met} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench needs root (daemons in their own netns)');
  if (want('run')) row('`run --rm --network none busybox true`', '≤ 0.3×', 'lower', 0.3);
  if (want('exec')) {
    row('`exec ctr1 true` round trip', '≤ 1×', 'lower', 1);
    row('`stats --no-stream ctr1`', '≤ 1×', 'lower', 1);
  }
  if (want('detached')) {
    row('30 × `run -d busybox sleep 1000`, one after another (containers/s)', '≥ 3× the rate', 'higher', 3);
    row('one `rm -f` of 30 running containers', '≤ 0.5×', 'lower', 0.5);
  }
  if (want('idle')) {
    for (const when of ['', ', after 10 runs']) {
      row(`daemon memory when idle${when} (PSS, MiB)`, '≤ 0.5× (dockerd + containerd)', 'lower', 0.5);
      row(`daemon memory when idle${when} (RSS, MiB)`, '≤ 0.5× (dockerd + containerd)', 'lower', 0.5);
    }
  }
  if (want('detached')) row('memory per running container, helper processes (PSS, MiB)', '≤ 0.5× (conmon vs shim)', 'lower', 0.5);
  if (want('start')) {
    row('daemon start until the API answers', '≤ 0.5×', 'lower', 0.5);
    row('daemon start until the API answers, whole engine (Docker: containerd too)', '≤ 0.5×', 'lower', 0.5);
  }
  if (want('loadsave')) {
    row('`load` of a 115 MiB one-layer image', '≤ 0.5×', 'lower', 0.5);
    row('`save` of the same', '≤ 1×', 'lower', 1);
  }
  if (want('netrun')) row(NET.run, '≤ 0.35×', 'lower', 0.35);
  if (want('publish')) {
    row(NET.publish, '≤ 0.5×', 'lower', 0.5);
    row(NET.publishRun, '–', 'lower');
  }
  if (want('dns')) {
    row(NET.dnsStart, '–', 'lower');
    row(NET.dnsResolve, '–', 'lower');
    row(NET.dnsExec, '–', 'lower');
  }
  if (want('build')) {
    row(BUILD.coldBk, '≤ 1× BuildKit', 'lower', 1);
    row(BUILD.coldClassic, '–', 'lower');
    row(BUILD.cachedClassic, '≤ 0.5× classic', 'lower', 0.5);
    row(BUILD.cachedBk, '–', 'lower');
    row(BUILD.changedClassic, '–', 'lower');
    row(BUILD.changedBk, '–', 'lower');
  }
  const versions = [
    spawnSync(DOCKER20, ['--version'], { encoding: 'utf8' }).stdout.trim(),
    spawnSync('/usr/sbin/dockerd', ['--version'], { encoding: 'utf8' }).stdout.trim(),
    spawnSync('containerd', ['--version'], { encoding: 'utf8' }).stdout.trim(),
    spawnSync('runc', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0],
    spawnSync('conmon', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0],
    `node ${process.version}`,
  ];
  // Both daemons run at the same time and every timed row alternates between them, so the two engines
  // see the same machine (the ratio is what counts; absolute times drift with the load).
  const ds: Daemons = {};
  const net: Daemons = {};
  const core = ['idle', 'run', 'exec', 'detached', 'start', 'loadsave', 'cli'].some(want);
  try {
    for (const kind of ENGINES) {
      if (kind === 'docker' && !core) continue;
      note(`starting ${kind}`);
      ds[kind] = await startDaemon({ engine: kind });
      await ds[kind].load('busybox');
    }
    if (want('idle')) await benchIdle(ds);
    if (want('run')) await benchRun(ds);
    if (want('exec')) await benchExecStats(ds);
    if (want('detached')) await benchDetached(ds);
    if (want('start')) await benchStart(ds);
    if (want('loadsave')) await benchLoadSave(ds);
    if (ds.berth && want('cli')) await cliRoundTrip(ds.berth);
    if ([...NET_ROWS, 'build'].some(want)) {
      // Docker with its own networking from here on (the first dockerd goes first: see the header)
      await ds.docker?.cleanup();
      if (ENGINES.includes('docker')) {
        note('starting docker with its default networking');
        net.docker = await startDaemon({ engine: 'docker', args: DOCKER_NET_ARGS });
        await net.docker.load('busybox');
      }
      if (ds.berth) net.berth = ds.berth;
      if (want('netrun')) await benchNetRun(net);
      if (want('publish')) await benchPublish(net);
      if (want('dns')) await benchDns(net);
      if (want('build')) await benchBuild(net);
    }
  } finally {
    for (const d of [...Object.values(ds), ...Object.values(net)]) await d.cleanup();
  }
  const out = [
    `berth vs Docker 20.10, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} CPUs, ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()};`,
    `both daemons up at once, every timed row interleaved between them, both driven by the docker 20.10 CLI; medians (min–max) of ${RUNS} runs after warm-ups unless noted.`,
    `Versions: ${versions.join('; ')}.`,
    '',
    table(),
  ];
  for (const p of phases) out.push('', `berthd phases of ${p.title} (ms since the step began, median of 5, from its debug log):`, '', ...p.lines.map((l) => `- ${l}`));
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});

