/**
 * The process of a `docker exec`, derived from the container's own spec as moby does (daemon/exec.go,
 * oci exec): its env with the exec's on top, its working dir unless one is given, the user resolved in the
 * container's rootfs, its capabilities (all of them for --privileged), rlimits and security settings.
 */
import type { Process, Spec } from '../oci/index.ts';
import { hostCapBounding, tweakCapabilities } from './spec.ts';
import { resolveUser } from './user.ts';

export interface ExecProcessOptions {
  args: string[];
  /** `KEY=value` pairs; they replace the container's value of the same key. */
  env: string[];
  /** Working dir in the container; '' = the container's. */
  cwd: string;
  /** Docker's `-u`; '' = the container's user. */
  user: string;
  /** The container's `--user` (Config.User), used when the exec names none. */
  containerUser: string;
  groupAdd: string[];
  tty: boolean;
  consoleSize?: { height: number; width: number } | undefined;
  privileged: boolean;
}

/** Merge env lists by key, later ones winning, keeping the first position of each key. */
export function mergeEnv(base: readonly string[], over: readonly string[]): string[] {
  const out: string[] = [];
  const at = new Map<string, number>();
  for (const kv of [...base, ...over]) {
    const eq = kv.indexOf('=');
    const k = eq < 0 ? kv : kv.slice(0, eq);
    const i = at.get(k);
    if (i === undefined) { at.set(k, out.length); out.push(kv); } else out[i] = kv;
  }
  return out;
}

export async function buildExecProcess(spec: Spec, o: ExecProcessOptions): Promise<Process> {
  const base = spec.process!;
  const rootfs = spec.root?.path ?? '/';
  const user = await resolveUser(rootfs, o.user || o.containerUser, o.groupAdd);
  let caps = base.capabilities?.bounding ?? [];
  if (o.privileged) caps = tweakCapabilities([], [], true, hostCapBounding());
  return {
    ...(o.tty ? { terminal: true } : {}),
    ...(o.tty && o.consoleSize && o.consoleSize.height > 0 && o.consoleSize.width > 0 ? { consoleSize: { ...o.consoleSize } } : {}),
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    args: [...o.args],
    env: mergeEnv(base.env ?? [], o.env),
    cwd: o.cwd || base.cwd || '/',
    capabilities: user.uid === 0 ? { bounding: caps, effective: [...caps], permitted: [...caps] } : { bounding: caps },
    ...(base.rlimits ? { rlimits: base.rlimits } : {}),
    ...(base.noNewPrivileges ? { noNewPrivileges: true } : {}),
    ...(base.apparmorProfile ? { apparmorProfile: base.apparmorProfile } : {}),
    ...(base.selinuxLabel ? { selinuxLabel: base.selinuxLabel } : {}),
    ...(base.oomScoreAdj !== undefined ? { oomScoreAdj: base.oomScoreAdj } : {}),
  };
}
