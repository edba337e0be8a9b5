/**
 * POST /build: the classic builder (cf. moby router/build). The body is the context tar; the answer a JSON
 * stream of `stream` lines, the `aux` image ID, then Docker's `Successfully built` / `Successfully tagged`.
 * Problems found before the first line (query, Dockerfile parse errors) are plain HTTP errors, as dockerd's.
 */
import { InvalidArgumentError, NotImplementedError } from '../../../lib/index.ts';
import type { Router } from '../router.ts';
import { errorMessage, goJsonHtml } from '../errors.ts';
import { boolValue, boolValueOr, type Ctx } from '../http.ts';

/** `name[:tag]` of a -t value, checked as Docker's reference grammar would (enough of it to refuse what dockerd refuses). */
export function parseBuildTag(t: string): { repo: string; tag: string } {
  if (t.includes('@')) throw new InvalidArgumentError('build tag cannot contain a digest');
  const slash = t.lastIndexOf('/');
  const colon = t.lastIndexOf(':');
  const repo = colon > slash ? t.slice(0, colon) : t;
  const tag = colon > slash ? t.slice(colon + 1) : 'latest';
  const comp = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
  const host = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?';
  if (!new RegExp(`^${host}${comp}(?:/${comp})*$`).test(repo) || !/^[\w][\w.-]{0,127}$/.test(tag)) {
    if (repo.toLowerCase() !== repo && new RegExp(`^${host}${comp}(?:/${comp})*$`).test(repo.toLowerCase())) {
      throw new InvalidArgumentError('invalid reference format: repository name must be lowercase');
    }
    throw new InvalidArgumentError('invalid reference format');
  }
  return { repo, tag };
}

function jsonParam<T>(ctx: Ctx, k: string, def: T): T {
  const v = ctx.query.get(k);
  if (!v) return def;
  try {
    return JSON.parse(v) as T;
  } catch {
    throw new InvalidArgumentError(`invalid ${k} value: ${v}`);
  }
}

function num(ctx: Ctx, k: string): number {
  const v = ctx.query.get(k);
  if (!v) return 0;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`strconv.ParseInt: parsing "${v}": invalid syntax`);
  return n;
}

async function build(ctx: Ctx): Promise<void> {
  const q = ctx.query;
  const { req, res } = ctx;
  let started = false;
  try {
    if (q.get('version') === '2') throw new NotImplementedError('berth builds with the classic builder only: set DOCKER_BUILDKIT=0 (BuildKit sessions are not supported)');
    const tags = q.getAll('t').filter(Boolean).map(parseBuildTag);
    const quiet = boolValue(q, 'q');
    const forceRemove = boolValue(q, 'forcerm');
    const network = q.get('networkmode') || 'default';
    const extraHosts = q.get('extrahosts') ? (q.get('extrahosts')!.startsWith('[') ? jsonParam<string[]>(ctx, 'extrahosts', []) : q.get('extrahosts')!.split(',')) : [];
    const hostConfig: Record<string, unknown> = {
      NetworkMode: network === 'default' ? 'bridge' : network,
      ...(extraHosts.length ? { ExtraHosts: extraHosts } : {}),
      Memory: num(ctx, 'memory'), MemorySwap: num(ctx, 'memswap'), CpuShares: num(ctx, 'cpushares'),
      CpuPeriod: num(ctx, 'cpuperiod'), CpuQuota: num(ctx, 'cpuquota'), ShmSize: num(ctx, 'shmsize'),
      CpusetCpus: q.get('cpusetcpus') ?? '', CpusetMems: q.get('cpusetmems') ?? '', CgroupParent: q.get('cgroupparent') ?? '',
      ...(jsonParam<unknown[] | null>(ctx, 'ulimits', null)?.length ? { Ulimits: jsonParam(ctx, 'ulimits', []) } : {}),
    };
    const opts = {
      dockerfile: q.get('dockerfile') || 'Dockerfile',
      buildArgs: jsonParam<Record<string, string | null>>(ctx, 'buildargs', {}),
      labels: jsonParam<Record<string, string>>(ctx, 'labels', {}),
      target: q.get('target') ?? '',
      noCache: boolValue(q, 'nocache'),
      remove: boolValueOr(q, 'rm', true) || forceRemove,
      forceRemove,
      hostConfig,
      cacheFrom: jsonParam<string[]>(ctx, 'cachefrom', []),
      ...(q.get('remote') ? { remote: q.get('remote')! } : {}),
    };
    const emit = (v: unknown) => {
      if (!started) { started = true; res.writeHead(200, { 'Content-Type': 'application/json' }); }
      res.write(goJsonHtml(v));
    };
    const builder = await import('../../../builder/index.ts');
    const id = await builder.build(ctx.backend, req, opts, { stream: (text) => { if (!quiet) emit({ stream: text }); } });
    for (const t of tags) await ctx.backend.tagImage(id, t.repo, t.tag);
    if (quiet) emit({ stream: `${id}\n` });
    else {
      emit({ aux: { ID: id } });
      emit({ stream: `Successfully built ${id.replace(/^sha256:/, '').slice(0, 12)}\n` });
      for (const t of tags) emit({ stream: `Successfully tagged ${t.repo}:${t.tag}\n` });
    }
    res.end();
  } catch (err) {
    req.resume();
    if (!started) throw err;
    const message = errorMessage(err);
    const code = (err as { code?: unknown }).code;
    res.end(goJsonHtml({ errorDetail: { ...(typeof code === 'number' ? { code } : {}), message }, error: message }));
  }
}

export function registerBuildRoutes(r: Router): void {
  r.post('/build', build);
  r.post('/build/prune', async (ctx) => {
    const { sendJson } = await import('../http.ts');
    sendJson(ctx.res, 200, { CachesDeleted: null, SpaceReclaimed: 0 });
  });
}
