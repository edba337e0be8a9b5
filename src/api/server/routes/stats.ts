/** GET /containers/{id}/stats and POST /containers/{id}/update (cf. moby router/container: getContainersStats, postContainerUpdate). */
import { InvalidArgumentError, SystemError } from '../../../lib/index.ts';
import type { HostConfig } from '../../../engine/index.ts';
import { goJsonHtml } from '../errors.ts';
import { boolValueOr, clientGone, drained, readJson, sendJson, type Ctx } from '../http.ts';

/** stream (default): one object per second, no Content-Type, until the client leaves; else one JSON body. */
export async function stats(ctx: Ctx): Promise<void> {
  const stream = boolValueOr(ctx.query, 'stream', true);
  const oneShot = boolValueOr(ctx.query, 'one-shot', false);
  if (stream && oneShot) throw new InvalidArgumentError('cannot have stream=true and one-shot=true');
  const signal = clientGone(ctx);
  const samples = await ctx.backend.containerStats(ctx.params[0]!, { stream, oneShot }, signal);
  const { res } = ctx;
  if (!stream) {
    for await (const s of samples) { sendJson(res, 200, s); return; }
    return;
  }
  res.writeHead(200);
  res.flushHeaders();
  for await (const s of samples) {
    if (signal.aborted) break;
    res.write(goJsonHtml(s));
    await drained(res);
  }
  res.end();
}

/** Go's types of the UpdateConfig fields a client may get wrong (json.Unmarshal's error names them). */
const FIELD_TYPES: Record<string, string> = {
  CpuShares: 'int64', Memory: 'int64', NanoCpus: 'int64', BlkioWeight: 'uint16', CpuPeriod: 'int64', CpuQuota: 'int64', CpuRealtimePeriod: 'int64',
  CpuRealtimeRuntime: 'int64', KernelMemory: 'int64', KernelMemoryTCP: 'int64', MemoryReservation: 'int64', MemorySwap: 'int64',
  MemorySwappiness: 'int64', PidsLimit: 'int64', CpuCount: 'int64', CpuPercent: 'int64', IOMaximumIOps: 'uint64', IOMaximumBandwidth: 'uint64',
  CpusetCpus: 'string', CpusetMems: 'string', CgroupParent: 'string',
};

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  return v === null ? 'null' : typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v;
}

/**
 * The body is container.UpdateConfig: the Resources fields and RestartPolicy. As dockerd, a body that does not
 * decode is a 500 with json's words (a wrong Content-Type stays a 400).
 */
export async function update(ctx: Ctx): Promise<void> {
  let body: unknown;
  try {
    body = await readJson<unknown>(ctx.req);
  } catch (err) {
    if (err instanceof InvalidArgumentError && !err.message.startsWith('Content-Type')) throw new SystemError(err.message);
    throw err;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SystemError(`json: cannot unmarshal ${jsonType(body)} into Go value of type container.UpdateConfig`);
  }
  for (const [k, v] of Object.entries(body)) {
    const want = FIELD_TYPES[k];
    if (!want || v === null) continue;
    const ok = want === 'string' ? typeof v === 'string' : typeof v === 'number' && Number.isInteger(v) && (!want.startsWith('u') || v >= 0);
    if (!ok) throw new SystemError(`json: cannot unmarshal ${typeof v === 'number' ? `number ${v}` : jsonType(v)} into Go struct field UpdateConfig.${k} of type ${want}`);
  }
  const out = await ctx.backend.updateContainer(ctx.params[0]!, body as Partial<HostConfig>);
  // dockerd sends null, not [], when there is nothing to warn about
  sendJson(ctx.res, 200, { Warnings: out.warnings?.length ? out.warnings : null });
}
