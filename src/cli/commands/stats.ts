/** `stats` and `update` (docker's cli/command/container/stats*.go, update.go). */
import { ApiError, readAll, type ContainerSummary } from '../../client/index.ts';
import { bytesSize, humanSizeWithPrecision } from '../../lib/index.ts';
import { CliError, ExitCode } from '../errors.ts';
import type { Ctx, Opts } from '../main.ts';
import { errText, forEach, str } from './common.ts';
import { memBytes, parseCpus, parseInt64 } from '../run-opts.ts';
import { TYPE_NAME } from '../template.ts';

export const STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
export const statsHeaders: Record<string, string> = {
  Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %',
  NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};

interface CpuStats { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number }
/** The parts of types.StatsJSON the CLI reads. */
export interface StatsJSON {
  name?: string; id?: string;
  cpu_stats?: CpuStats; precpu_stats?: CpuStats;
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  pids_stats?: { current?: number };
}

/** What a row shows, computed as the docker CLI computes it (calculateCPUPercentUnix, calculateMemUsageUnixNoCache…). */
export interface StatsEntry { container: string; id: string; name: string; cpu: number; mem: number; memLimit: number; memPerc: number; rx: number; tx: number; blkRead: number; blkWrite: number; pids: number }

export function statsEntry(container: string, s: StatsJSON): StatsEntry {
  const cur = s.cpu_stats ?? {};
  const pre = s.precpu_stats ?? {};
  const cpuDelta = (cur.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const sysDelta = (cur.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const online = cur.online_cpus || cur.cpu_usage?.percpu_usage?.length || 0;
  const cpu = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;
  const m = s.memory_stats ?? {};
  const usage = m.usage ?? 0;
  const v1Inactive = m.stats?.total_inactive_file;
  let mem = usage;
  if (v1Inactive !== undefined && v1Inactive < usage) mem = usage - v1Inactive;
  else if (v1Inactive === undefined && (m.stats?.inactive_file ?? 0) < usage) mem = usage - (m.stats?.inactive_file ?? 0);
  const memLimit = m.limit ?? 0;
  let blkRead = 0;
  let blkWrite = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = e.op.toLowerCase();
    if (op === 'read') blkRead += e.value;
    else if (op === 'write') blkWrite += e.value;
  }
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) { rx += n.rx_bytes; tx += n.tx_bytes; }
  return {
    container, id: s.id ?? '', name: (s.name ?? '').replace(/^\//, ''), cpu, mem, memLimit, memPerc: memLimit ? (mem / memLimit) * 100 : 0,
    rx, tx, blkRead, blkWrite, pids: s.pids_stats?.current ?? 0,
  };
}

export function statsContext(e: StatsEntry, trunc: boolean): Record<string | symbol, unknown> {
  const h3 = (n: number) => humanSizeWithPrecision(n, 3);
  const f = {
    Container: e.container, ID: trunc ? e.id.slice(0, 12) : e.id, Name: e.name || '--', CPUPerc: `${e.cpu.toFixed(2)}%`,
    MemUsage: `${bytesSize(e.mem)} / ${bytesSize(e.memLimit)}`, MemPerc: `${e.memPerc.toFixed(2)}%`, NetIO: `${h3(e.rx)} / ${h3(e.tx)}`,
    BlockIO: `${h3(e.blkRead)} / ${h3(e.blkWrite)}`, PIDs: String(e.pids),
  };
  const ctx: Record<string | symbol, unknown> = { [TYPE_NAME]: '*container.statsContext' };
  for (const [k, v] of Object.entries(f)) ctx[k] = () => v;
  ctx.toJSON = () => Object.fromEntries(Object.entries(f).sort(([a], [b]) => (a < b ? -1 : 1)));
  return ctx;
}

async function targets(ctx: Ctx, args: string[], all: boolean): Promise<string[]> {
  if (args.length) return args;
  const list: ContainerSummary[] = await ctx.client().containerList({ all: all || undefined });
  return list.map((c) => c.Id);
}

async function oneSample(ctx: Ctx, name: string): Promise<StatsJSON> {
  const res = await ctx.client().request('GET', `/containers/${encodeURIComponent(name)}/stats`, { query: { stream: false } });
  return JSON.parse((await readAll(res.body)).toString()) as StatsJSON;
}

function render(entries: StatsEntry[], format: string, trunc: boolean, formatRows: typeof import('../formatter.ts').formatRows): string {
  return formatRows(format, entries.map((e) => statsContext(e, trunc)), statsHeaders);
}

export async function stats(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const { formatRows } = await import('../formatter.ts');
  let format = str(o, 'format') ?? '';
  if (!format || format === 'table') format = STATS_TABLE;
  const trunc = o.noTrunc !== true;
  const names = await targets(ctx, args, o.all === true);
  if (o.noStream === true) {
    const results = await Promise.allSettled(names.map((n) => oneSample(ctx, n)));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [errText(r.reason)] : []));
    if (errors.length) {
      ctx.err(`${errors.join('\n')}\n`);
      throw new ExitCode(1);
    }
    const entries = results.map((r, i) => statsEntry(names[i]!, (r as PromiseFulfilledResult<StatsJSON>).value));
    ctx.out(render(entries, format, trunc, formatRows));
    return;
  }
  // streaming: redraw the table every second with the newest sample of each container
  const latest = new Map<string, StatsEntry>();
  const streams = names.map(async (n) => {
    const res = await ctx.client().request('GET', `/containers/${encodeURIComponent(n)}/stats`, { query: { stream: true } });
    let buf = '';
    for await (const chunk of res.body) {
      buf += (chunk as Buffer).toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim()) latest.set(n, statsEntry(n, JSON.parse(line) as StatsJSON));
      }
    }
  });
  let failed: unknown;
  streams.forEach((p) => p.catch((e: unknown) => { failed ??= e; }));
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    if (failed) {
      if (failed instanceof ApiError) throw new CliError(errText(failed));
      throw failed;
    }
    const rows = names.map((n) => latest.get(n)).filter((e): e is StatsEntry => e !== undefined);
    ctx.out(`\x1b[2J\x1b[H${render(rows, format, trunc, formatRows)}`);
  }
}

/** `update`: the Resources fields set by flags (zero = unchanged) and the restart policy. */
export function updateBody(o: Opts): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  const s = (k: string) => str(o, k);
  const int = (k: string, flag: string) => { const v = s(k); if (v !== undefined) b[key[k]!] = parseInt64(flag, v); };
  const key: Record<string, string> = {
    blkioWeight: 'BlkioWeight', cpuPeriod: 'CpuPeriod', cpuQuota: 'CpuQuota', cpuRtPeriod: 'CpuRealtimePeriod', cpuRtRuntime: 'CpuRealtimeRuntime',
    cpuShares: 'CpuShares', pidsLimit: 'PidsLimit',
  };
  int('blkioWeight', '--blkio-weight');
  int('cpuPeriod', '--cpu-period');
  int('cpuQuota', '--cpu-quota');
  int('cpuRtPeriod', '--cpu-rt-period');
  int('cpuRtRuntime', '--cpu-rt-runtime');
  int('cpuShares', '-c, --cpu-shares');
  if (s('cpus') !== undefined) b.NanoCpus = parseCpus(s('cpus')!);
  if (s('cpusetCpus') !== undefined) b.CpusetCpus = s('cpusetCpus');
  if (s('cpusetMems') !== undefined) b.CpusetMems = s('cpusetMems');
  if (s('kernelMemory') !== undefined) b.KernelMemory = memBytes('--kernel-memory', s('kernelMemory')!);
  if (s('memory') !== undefined) b.Memory = memBytes('-m, --memory', s('memory')!);
  if (s('memoryReservation') !== undefined) b.MemoryReservation = memBytes('--memory-reservation', s('memoryReservation')!);
  if (s('memorySwap') !== undefined) b.MemorySwap = s('memorySwap') === '-1' ? -1 : memBytes('--memory-swap', s('memorySwap')!);
  int('pidsLimit', '--pids-limit');
  const restart = s('restart');
  if (restart !== undefined) {
    const [name = '', count] = restart.split(':');
    b.RestartPolicy = { Name: name, MaximumRetryCount: count !== undefined ? Number(count) : 0 };
  }
  return b;
}

export async function update(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const body = updateBody(o);
  if (Object.keys(body).length === 0) throw new CliError('You must provide one or more flags when using this command.', 1, 'raw');
  const warnings: string[] = [];
  await forEach(ctx, args, async (n) => {
    const res = await ctx.client().json<{ Warnings?: string[] | null }>('POST', `/containers/${encodeURIComponent(n)}/update`, { body });
    warnings.push(...(res.Warnings ?? []));
  });
  if (warnings.length) ctx.out(`${warnings.join('\n')}\n`);
}
