/** GET /containers/{id}/stats and POST /containers/{id}/update (cf. moby router/container: getContainersStats, postContainerUpdate). */
import { InvalidArgumentError } from '../../../lib/index.ts';
import type { HostConfig } from '../../../engine/index.ts';
import { goJson } from '../errors.ts';
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
    res.write(goJson(s));
    await drained(res);
  }
  res.end();
}

/** The body is container.UpdateConfig: the Resources fields and RestartPolicy. */
export async function update(ctx: Ctx): Promise<void> {
  const body = (await readJson<Partial<HostConfig>>(ctx.req)) ?? {};
  const out = await ctx.backend.updateContainer(ctx.params[0]!, typeof body === 'object' && body !== null ? body : {});
  // dockerd sends null, not [], when there is nothing to warn about
  sendJson(ctx.res, 200, { Warnings: out.warnings?.length ? out.warnings : null });
}
