/**
 * The bridge driver's host side: bridges, container network namespaces with their veth pairs, and the
 * firewall. Every change is one spawn of `sh` running iproute2 (a Node spawn blocks the daemon ~7 ms; the
 * forks inside the script do not), or one `iptables-restore --noflush` per table set.
 *
 * A container's netns is made by berthd before `runc create` and bind-mounted at a file under the exec root
 * (`unshare --net=<file>`), so it outlives a crash of berthd and the container keeps its address
 * (live-restore); runc joins it by path.
 */
import { rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { run, runInHelper, SystemError, log } from '../lib/index.ts';
import { restoreScript, cleanupScript, type RuleSet, type Ownership } from './rules.ts';

/** One interface of a container: the veth end `ifname` inside, `hostIf` on `bridge` outside. */
export interface SandboxLink {
  bridge: string;
  hostIf: string;
  ifname: string;
  /** IPv4 address and prefix length. */
  ip: string;
  prefix: number;
  mac: string;
  mtu: number;
  /** The default route goes via this gateway (the first non-internal network's). */
  gateway?: string;
}

/** A script through the daemon's long-lived shell helper: forking a small sh instead of the daemon (~7 ms less). */
async function sh(script: string, args: string[] = []): Promise<void> {
  const r = await runInHelper('sh', ['-e', '-c', script, 'sh', ...args]);
  if (r.code !== 0) throw new SystemError(`network setup failed: ${r.output.trim() || `exit status ${r.code}`}`);
}

/**
 * The `ip -batch` lines that make one link from inside the sandbox: the veth is created there and its peer sent to
 * berthd's namespace (`netns $PPID`: the shell's parent is berthd's shell helper, in berthd's namespace).
 */
function insideLines(l: SandboxLink): string[] {
  return [
    `link add ${l.ifname} mtu ${l.mtu} address ${l.mac} type veth peer name ${l.hostIf} mtu ${l.mtu} netns $PPID`,
    `addr add ${l.ip}/${l.prefix} brd + dev ${l.ifname}`,
    `link set ${l.ifname} up`,
    ...(l.gateway ? [`route add default via ${l.gateway} dev ${l.ifname}`] : []),
  ];
}

/** `enter` runs one `ip -batch` of `inside` in the sandbox, then one batch outside puts the peers on their bridges. */
function linkScript(enter: string, inside: string[], links: SandboxLink[]): string {
  const outside = links.map((l) => `link set ${l.hostIf} master ${l.bridge} up`);
  return `${enter} ip -batch - <<EOF\n${inside.join('\n')}\nEOF\nip -batch - <<EOF\n${outside.join('\n')}\nEOF\n`;
}

/**
 * A new network namespace bound at `path` with loopback up and the given links: `unshare --net=<file>` runs the
 * inside batch in the new namespace. Two execs after the shell. On failure nothing is left (the bind, the file and
 * any veth made are removed).
 */
export async function createSandbox(path: string, links: SandboxLink[]): Promise<void> {
  const script = `NS=$1\n: > "$NS"\n${linkScript('unshare --net="$NS"', ['link set lo up', ...links.flatMap(insideLines)], links)}`;
  try {
    await sh(script, [path]);
  } catch (err) {
    await deleteSandbox(path, links.map((l) => l.hostIf)).catch(() => {});
    throw err;
  }
}

/** Adds a link to a running container's sandbox (network connect). */
export async function addLink(path: string, l: SandboxLink): Promise<void> {
  try {
    await sh(`NS=$1\n${linkScript('nsenter --net="$NS"', insideLines(l), [l])}`, [path]);
  } catch (err) {
    await run('ip', ['link', 'del', l.hostIf], { allowFailure: true });
    throw err;
  }
}

/** Removes one link (network disconnect): deleting the host end deletes the pair. */
export async function removeLink(hostIf: string): Promise<void> {
  await run('ip', ['link', 'del', hostIf], { allowFailure: true });
}

/**
 * Unbinds and removes the namespace file; its veth pairs go with the namespace once nothing runs in it.
 * `hostIfs` are deleted explicitly too, for a namespace some process still holds.
 */
export async function deleteSandbox(path: string, hostIfs: string[] = []): Promise<void> {
  const dels = hostIfs.map((h) => `ip link del ${h} 2>/dev/null || true\n`).join('');
  await sh(`${dels}umount "$1" 2>/dev/null || umount -l "$1" 2>/dev/null || true\n`, [path]).catch(() => {});
  await rm(path, { force: true });
}

/** The bridge with its gateway address and MTU, up; an existing one is kept (its address is replaced). */
export async function ensureBridge(name: string, gatewayCidr: string, mtu: number): Promise<void> {
  // a new bridge gets a 02:42 MAC as dockerd gives docker0 (and keeps it whatever ports join)
  const mac = ['02', '42', ...randomBytes(4).toString('hex').match(/../g)!].join(':');
  await sh(
    `ip link show "$1" >/dev/null 2>&1 || ip link add "$1" address "$4" mtu "$3" type bridge\nip addr replace "$2" brd + dev "$1"\nip link set "$1" mtu "$3" up\n`,
    [name, gatewayCidr, String(mtu), mac],
  );
}

export async function deleteBridge(name: string): Promise<void> {
  await run('ip', ['link', 'del', name], { allowFailure: true });
}

/** The IPv4 address (CIDR) an existing bridge has, if it exists. */
export async function bridgeAddress(name: string): Promise<{ exists: boolean; cidr?: string }> {
  const r = await run('ip', ['-o', '-4', 'addr', 'show', 'dev', name], { allowFailure: true });
  if (r.code !== 0) return { exists: false };
  const m = /inet (\d+\.\d+\.\d+\.\d+\/\d+)/.exec(r.stdout);
  return m ? { exists: true, cidr: m[1]! } : { exists: true };
}

/** Destination prefixes of the IPv4 routes in this namespace (what a new subnet must not overlap). */
export async function routedPrefixes(): Promise<string[]> {
  const r = await run('ip', ['-4', 'route', 'show', 'table', 'all'], { allowFailure: true });
  const out: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const w = line.trim().split(/\s+/);
    let dst = w[0] ?? '';
    if (['broadcast', 'local', 'unicast', 'multicast'].includes(dst)) dst = w[1] ?? '';
    if (!/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dst)) continue;
    if (dst.startsWith('127.')) continue;
    out.push(dst.includes('/') ? dst : `${dst}/32`);
  }
  return out;
}

/** Writes a sysctl of this network namespace (/proc/sys/net follows the reader's netns). */
export async function setSysctl(key: string, value: string): Promise<void> {
  await writeFile(`/proc/sys/${key.replaceAll('.', '/')}`, value).catch((err: unknown) => log().warn({ err, key }, 'cannot set sysctl'));
}

/**
 * Converges the filter and nat tables to `rs` (see rules.ts restoreScript): one iptables-save, one
 * iptables-restore --noflush. A concurrent change by someone else between the two makes the restore fail
 * (a `-D` of a rule that is gone): read again and retry once.
 */
export async function applyRules(rs: RuleSet, own: Ownership): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const saved = (await run('iptables-save', [])).stdout;
    const script = restoreScript(rs, saved, own);
    const r = await run('iptables-restore', ['--noflush', '-w'], { input: script, allowFailure: true });
    if (r.code === 0) return;
    if (attempt >= 1) throw new SystemError(`iptables-restore: ${r.stderr.trim()}`);
  }
}

/** Removes every rule and chain berth made (iptables: false, or nothing left to serve). */
export async function removeRules(own: Ownership): Promise<void> {
  const saved = (await run('iptables-save', [], { allowFailure: true })).stdout;
  const script = cleanupScript(saved, own);
  if (script) await run('iptables-restore', ['--noflush', '-w'], { input: script });
}
