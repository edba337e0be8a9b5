/** version, info, system df. */
import { ApiError, ConnectError, DEFAULT_API_VERSION } from '../../client/index.ts';
import type { VersionInfo } from '../../client/index.ts';
import { bytesSize, humanSize, humanSizeWithPrecision } from '../../lib/index.ts';
import { CliError, ExitCode } from '../errors.ts';
import { ago, ellipsis, goQuote, imageRows, truncateId } from '../formatter.ts';
import { CLI_VERSION, type Ctx, type Opts } from '../main.ts';
import { ansic } from './version.ts';
import { ordered, TYPE_NAME, Template, TemplateError } from '../template.ts';
import { tabulate } from '../tabwriter.ts';
import { str } from './common.ts';
import type { ContainerSummary, ImageSummary } from '../../client/index.ts';

function runTemplate(format: string, data: unknown): string {
  try {
    return new Template(format).execute(data);
  } catch (e) {
    if (e instanceof TemplateError) throw new CliError(`Template parsing error: ${e.message}`);
    throw e;
  }
}

/** `version --format`: the template over docker's types.VersionInfo. */
export function formatVersion(ctx: Ctx, format: string, apiVersion: string, server: VersionInfo | undefined): void {
  const client = {
    [TYPE_NAME]: 'types.ClientVersion',
    Platform: { Name: '' },
    Version: CLI_VERSION,
    APIVersion: apiVersion,
    DefaultAPIVersion: DEFAULT_API_VERSION,
    GitCommit: '',
    GoVersion: process.version,
    Os: process.platform,
    Arch: process.arch === 'x64' ? 'amd64' : process.arch,
    BuildTime: '',
    Context: 'default',
    Experimental: true,
    toJSON(): unknown {
      return ordered({ Platform: { Name: '' }, Version: CLI_VERSION, ApiVersion: apiVersion, DefaultAPIVersion: DEFAULT_API_VERSION, GitCommit: '', GoVersion: process.version, Os: this.Os, Arch: this.Arch, BuildTime: '', Context: 'default', Experimental: true });
    },
  };
  let sv: Record<string | symbol, unknown> | null = null;
  if (server) {
    // the CLI shows the engine's build time in time.ANSIC
    const plain = structuredClone(server);
    for (const c of plain.Components ?? []) if (c.Name === 'Engine' && c.Details?.BuildTime) c.Details.BuildTime = ansic(c.Details.BuildTime);
    sv = { ...ordered(plain), APIVersion: plain.ApiVersion, [TYPE_NAME]: 'types.ServerVersion', toJSON: () => ordered(structuredClone(plain)) };
  }
  const data = { [TYPE_NAME]: 'types.VersionInfo', Client: client, Server: sv, toJSON: () => ordered({ Client: client.toJSON(), Server: sv ? (sv.toJSON as () => unknown)() : null }) };
  ctx.out(`${runTemplate(format, data)}\n`);
}

interface Info { [k: string]: unknown }

export async function info(ctx: Ctx, _args: string[], o: Opts): Promise<void> {
  const format = str(o, 'format');
  let i: Info | undefined;
  let failure: unknown;
  try {
    i = await ctx.client().info();
  } catch (e) {
    if (!(e instanceof ApiError) && !(e instanceof ConnectError)) throw e;
    failure = e;
  }
  if (format) {
    if (failure) throw failure;
    const data = ordered({ ...i, ClientInfo: { Debug: false, Context: 'default', Plugins: [], Warnings: null } });
    ctx.out(`${runTemplate(format, data)}\n`);
    return;
  }
  let s = 'Client:\n Context:    default\n Debug Mode: false\n';
  if (!i) {
    ctx.out(`${s}\nServer:\n`);
    ctx.err(`ERROR: ${(failure as Error).message}\nerrors pretty printing info\n`);
    throw new ExitCode(1);
  }
  const g = (k: string): unknown => i![k];
  const lines: string[] = [];
  const L = (t: string): void => { lines.push(t); };
  L(`Containers: ${g('Containers')}`);
  L(` Running: ${g('ContainersRunning')}`);
  L(` Paused: ${g('ContainersPaused')}`);
  L(` Stopped: ${g('ContainersStopped')}`);
  L(`Images: ${g('Images')}`);
  L(`Server Version: ${g('ServerVersion')}`);
  L(`Storage Driver: ${g('Driver')}`);
  for (const [k, v] of (g('DriverStatus') as string[][] | null) ?? []) L(` ${k}: ${v}`);
  L(`Logging Driver: ${g('LoggingDriver')}`);
  L(`Cgroup Driver: ${g('CgroupDriver')}`);
  L(`Cgroup Version: ${g('CgroupVersion')}`);
  const plugins = (g('Plugins') ?? {}) as Record<string, string[] | null>;
  L('Plugins:');
  L(` Volume: ${(plugins.Volume ?? []).join(' ')}`);
  L(` Network: ${(plugins.Network ?? []).join(' ')}`);
  if (plugins.Authorization?.length) L(` Authorization: ${plugins.Authorization.join(' ')}`);
  L(` Log: ${(plugins.Log ?? []).join(' ')}`);
  L(`Swarm: ${((g('Swarm') ?? {}) as { LocalNodeState?: string }).LocalNodeState ?? 'inactive'}`);
  L(`Runtimes: ${Object.keys((g('Runtimes') ?? {}) as object).sort().join(' ')}`);
  L(`Default Runtime: ${g('DefaultRuntime')}`);
  L(`Init Binary: ${g('InitBinary')}`);
  L(`containerd version: ${((g('ContainerdCommit') ?? {}) as { ID?: string }).ID ?? ''}`);
  L(`runc version: ${((g('RuncCommit') ?? {}) as { ID?: string }).ID ?? ''}`);
  L(`init version: ${((g('InitCommit') ?? {}) as { ID?: string }).ID ?? ''}`);
  const sec = (g('SecurityOptions') as string[] | null) ?? [];
  if (sec.length) {
    L('Security Options:');
    for (const so of sec) {
      const kv = Object.fromEntries(so.split(',').map((p) => p.split('=') as [string, string]));
      L(` ${kv.name ?? so}`);
      for (const [k, v] of Object.entries(kv)) if (k !== 'name') L(`  ${k[0]!.toUpperCase()}${k.slice(1)}: ${v}`);
    }
  }
  L(`Kernel Version: ${g('KernelVersion')}`);
  L(`Operating System: ${g('OperatingSystem')}`);
  L(`OSType: ${g('OSType')}`);
  L(`Architecture: ${g('Architecture')}`);
  L(`CPUs: ${g('NCPU')}`);
  L(`Total Memory: ${bytesSize(Number(g('MemTotal') ?? 0))}`);
  L(`Name: ${g('Name')}`);
  L(`ID: ${g('ID')}`);
  L(`Docker Root Dir: ${g('DockerRootDir')}`);
  L(`Debug Mode: ${g('Debug')}`);
  if (g('HttpProxy')) L(`HTTP Proxy: ${g('HttpProxy')}`);
  if (g('HttpsProxy')) L(`HTTPS Proxy: ${g('HttpsProxy')}`);
  if (g('NoProxy')) L(`No Proxy: ${g('NoProxy')}`);
  L(`Registry: ${g('IndexServerAddress')}`);
  L('Labels:');
  for (const l of (g('Labels') as string[] | null) ?? []) L(` ${l}`);
  L(`Experimental: ${g('ExperimentalBuild')}`);
  const reg = (g('RegistryConfig') ?? {}) as { InsecureRegistryCIDRs?: string[]; IndexConfigs?: Record<string, { Secure: boolean }>; Mirrors?: string[] };
  L('Insecure Registries:');
  for (const [k, v] of Object.entries(reg.IndexConfigs ?? {})) if (!v.Secure) L(` ${k}`);
  for (const c of reg.InsecureRegistryCIDRs ?? []) L(` ${c}`);
  if (reg.Mirrors?.length) { L('Registry Mirrors:'); for (const m of reg.Mirrors) L(` ${m}`); }
  L(`Live Restore Enabled: ${g('LiveRestoreEnabled')}`);
  s += `\nServer:\n${lines.map((l) => ` ${l}`).join('\n')}\n\n`;
  ctx.out(s);
  const warnings = (g('Warnings') as string[] | null) ?? [];
  if (warnings.length) ctx.err(`${warnings.join('\n')}\n`);
}

export async function df(ctx: Ctx, _args: string[], o: Opts): Promise<void> {
  const d = await ctx.client().df() as { LayersSize?: number; Images?: ImageSummary[] | null; Containers?: ContainerSummary[] | null; Volumes?: Array<{ Name: string; UsageData?: { Size: number; RefCount: number } }> | null; BuildCache?: Array<{ Size: number; InUse: boolean; Shared: boolean }> | null };
  const imgs = d.Images ?? [];
  const ctrs = d.Containers ?? [];
  const vols = d.Volumes ?? [];
  const cache = d.BuildCache ?? [];
  if (o.verbose === true && !str(o, 'format')) {
    let s = 'Images space usage:\n\n';
    let t = 'REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS\n';
    for (const im of imgs) {
      // only the first tag, as docker shows
      const r = imageRows([{ ...im, RepoTags: im.RepoTags?.slice(0, 1) ?? null, RepoDigests: [] }], false)[0]!;
      t += `${r.repo}\t${r.tag}\t${truncateId(im.Id)}\t${ago(im.Created)}\t${humanSize(im.Size)}\t${im.SharedSize === -1 ? 'N/A' : humanSize(im.SharedSize)}\t${im.SharedSize === -1 ? 'N/A' : humanSize(im.Size - im.SharedSize)}\t${im.Containers}\n`;
    }
    s += tabulate(t);
    s += '\nContainers space usage:\n\n';
    t = 'CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES\n';
    for (const c of ctrs) {
      const names = (c.Names ?? []).map((n) => n.replace(/^\//, '')).filter((n) => !n.includes('/'));
      const local = (c.Mounts ?? []).filter((m) => m.Driver === 'local').length;
      t += `${truncateId(c.Id)}\t${c.Image}\t${goQuote(ellipsis(c.Command, 20))}\t${local}\t${humanSizeWithPrecision(c.SizeRw ?? 0, 3)}\t${ago(c.Created)}\t${c.Status}\t${names.join(',')}\n`;
    }
    s += tabulate(t);
    s += '\nLocal Volumes space usage:\n\n';
    t = 'VOLUME NAME\tLINKS\tSIZE\n';
    for (const v of vols) t += `${v.Name}\t${v.UsageData?.RefCount ?? 0}\t${humanSizeWithPrecision(v.UsageData?.Size ?? 0, 3)}\n`;
    s += tabulate(t);
    s += `\nBuild cache usage: ${humanSizeWithPrecision(cache.reduce((a, b) => a + b.Size, 0), 3)}\n\n`;
    s += tabulate('CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED\n');
    ctx.out(s);
    return;
  }
  // summary rows
  const activeImgs = imgs.filter((i) => i.Containers > 0).length;
  const imgSize = d.LayersSize ?? 0;
  let used = 0;
  for (const i of imgs) if (i.Containers > 0) used += i.Size - (i.SharedSize > 0 ? i.SharedSize : 0);
  // docker: reclaimable = total - sum of (size of images in use) counted once via shared sizes
  const inUse = imgs.filter((i) => i.Containers > 0);
  let inUseSize = 0;
  const sharedCounted = inUse.length ? Math.max(...inUse.map((i) => i.SharedSize > 0 ? i.SharedSize : 0)) : 0;
  for (const i of inUse) inUseSize += i.Size - (i.SharedSize > 0 ? i.SharedSize : 0);
  inUseSize += sharedCounted;
  void used;
  const imgReclaim = Math.max(0, imgSize - inUseSize);
  const pct = (r: number, t: number): string => (t > 0 ? ` (${Math.trunc((r * 100) / t)}%)` : '');
  const ctrSize = ctrs.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const ctrReclaim = ctrs.filter((c) => c.State !== 'running' && c.State !== 'paused').reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const activeCtrs = ctrs.filter((c) => c.State === 'running' || c.State === 'paused').length;
  const volSize = vols.reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const volReclaim = vols.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const activeVols = vols.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length;
  const cacheSize = cache.reduce((a, b) => a + b.Size, 0);
  const cacheReclaim = cache.filter((b) => !b.InUse && !b.Shared).reduce((a, b) => a + b.Size, 0);
  const rows = [
    { Type: 'Images', TotalCount: String(imgs.length), Active: String(activeImgs), Size: humanSize(imgSize), Reclaimable: `${humanSize(imgReclaim)}${pct(imgReclaim, imgSize)}` },
    { Type: 'Containers', TotalCount: String(ctrs.length), Active: String(activeCtrs), Size: humanSize(ctrSize), Reclaimable: `${humanSize(ctrReclaim)}${pct(ctrReclaim, ctrSize)}` },
    { Type: 'Local Volumes', TotalCount: String(vols.length), Active: String(activeVols), Size: humanSize(volSize), Reclaimable: `${humanSize(volReclaim)}${pct(volReclaim, volSize)}` },
    { Type: 'Build Cache', TotalCount: String(cache.length), Active: String(cache.filter((b) => b.InUse).length), Size: humanSize(cacheSize), Reclaimable: `${humanSize(cacheReclaim)}${pct(cacheReclaim, cacheSize)}` },
  ];
  const { formatRows } = await import('../formatter.ts');
  const ctxs = rows.map((r) => ({ [TYPE_NAME]: '*formatter.diskUsageContext', ...r, toJSON: () => ({ ...r }) }));
  const format = str(o, 'format') ?? 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
  ctx.out(formatRows(format, ctxs, { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' }));
}
