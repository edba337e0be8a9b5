/** `commit`: a new image from a container's changes (docker's cli/command/container/commit.go). */
import type { Ctx, Opts } from '../main.ts';
import { CliError } from '../errors.ts';
import { notFound } from './common.ts';

export async function commit(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const [container, reference] = args;
  let repo = '';
  let tag = '';
  if (reference) {
    // REPOSITORY[:TAG]: a colon after the last slash starts the tag (a registry port comes before a slash)
    const slash = reference.lastIndexOf('/');
    const colon = reference.lastIndexOf(':');
    if (colon > slash) { repo = reference.slice(0, colon); tag = reference.slice(colon + 1); } else repo = reference;
    if (reference.includes('@')) throw new CliError(`invalid reference format`);
  }
  const changes = Array.isArray(o.change) ? o.change.map(String) : [];
  try {
    const r = await ctx.client().commit({
      container, repo, tag, comment: typeof o.message === 'string' ? o.message : '', author: typeof o.author === 'string' ? o.author : '',
      pause: o.pause === false ? '0' : '1', changes,
    });
    ctx.out(`${r.Id}\n`);
  } catch (e) {
    throw notFound(e, 'container', container!);
  }
}
