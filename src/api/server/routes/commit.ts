/** POST /commit (cf. moby router/container postCommit): the container's changes as a new image. */
import type { ContainerConfig } from '../../../engine/index.ts';
import { applyChanges } from '../changes.ts';
import { boolValueOr, readJson, sendJson, type Ctx } from '../http.ts';
import type { Router } from '../router.ts';

async function commit(ctx: Ctx): Promise<void> {
  const q = ctx.query;
  // the body is the new config, if any (the docker CLI sends none; "null" and an empty body mean none)
  const body = await readJson<Partial<ContainerConfig> | null>(ctx.req, true);
  const changes = q.getAll('changes').filter((c) => c.trim());
  const id = await ctx.backend.commitContainer(q.get('container') ?? '', {
    repo: q.get('repo') ?? '', tag: q.get('tag') ?? '', author: q.get('author') ?? '', comment: q.get('comment') ?? '',
    pause: boolValueOr(q, 'pause', true),
    ...(body && typeof body === 'object' && !Array.isArray(body) ? { config: body } : {}),
    ...(changes.length ? { changes: (c: Partial<ContainerConfig>) => applyChanges(changes, c) as Partial<ContainerConfig> } : {}),
  });
  sendJson(ctx.res, 201, { Id: id });
}

export function registerCommitRoutes(r: Router): void {
  r.post('/commit', commit);
}
