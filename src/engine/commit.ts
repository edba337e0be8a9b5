/** docker commit's config rules (moby daemon/commit.go merge): what the new image's config keeps of the container's. */
import type { ImageRunConfig } from '../oci/index.ts';

type Config = Partial<ImageRunConfig>;

/** Fill what `user` leaves empty from `ctr` (the container's config), as moby's merge does. */
export function mergeCommitConfig(user: Config, ctr: Config): Config {
  const u: Config = structuredClone(user);
  if (!u.User) u.User = ctr.User ?? '';
  if (!u.ExposedPorts || Object.keys(u.ExposedPorts).length === 0) {
    if (ctr.ExposedPorts) u.ExposedPorts = { ...ctr.ExposedPorts };
  } else {
    for (const p of Object.keys(ctr.ExposedPorts ?? {})) u.ExposedPorts[p] ??= {};
  }
  if (!u.Env?.length) u.Env = ctr.Env ? [...ctr.Env] : null;
  else {
    const keys = new Set(u.Env.map((e) => e.split('=')[0]));
    for (const e of ctr.Env ?? []) if (!keys.has(e.split('=')[0])) u.Env.push(e);
  }
  u.Labels = { ...(u.Labels ?? {}) };
  for (const [k, v] of Object.entries(ctr.Labels ?? {})) if (!(k in u.Labels)) u.Labels[k] = v;
  if (!u.Entrypoint?.length && !u.Cmd?.length) {
    u.Cmd = ctr.Cmd ?? null;
    u.Entrypoint = ctr.Entrypoint ?? null;
  }
  if (ctr.Healthcheck) {
    if (!u.Healthcheck) u.Healthcheck = { ...ctr.Healthcheck };
    else {
      const h = u.Healthcheck;
      const from = ctr.Healthcheck;
      if (!h.Test?.length && from.Test) h.Test = from.Test;
      if (!h.Interval && from.Interval) h.Interval = from.Interval;
      if (!h.Timeout && from.Timeout) h.Timeout = from.Timeout;
      if (!h.StartPeriod && from.StartPeriod) h.StartPeriod = from.StartPeriod;
      if (!h.Retries && from.Retries) h.Retries = from.Retries;
    }
  }
  if (!u.WorkingDir) u.WorkingDir = ctr.WorkingDir ?? '';
  if (!u.Volumes || Object.keys(u.Volumes).length === 0) u.Volumes = ctr.Volumes ?? null;
  else Object.assign(u.Volumes, ctr.Volumes ?? {});
  if (!u.StopSignal && ctr.StopSignal) u.StopSignal = ctr.StopSignal;
  return u;
}
