/**
 * Published ports on the daemon side: `-P` and the host-port allocator (ephemeral 32768-60999, Docker's
 * "already allocated" error). The `-p` grammar and the display strings are the CLI's (Docker parses `-p` in
 * the client too).
 */
import { ConflictError } from '../lib/index.ts';

export interface PortBinding { HostIp: string; HostPort: string }
/** API HostConfig.PortBindings: "80/tcp" → bindings. */
export type PortMap = Record<string, PortBinding[]>;

/** `-P`: every exposed port without an explicit binding gets a random host port (daemon side). */
export function publishAll(exposed: Iterable<string>, bindings: PortMap): PortMap {
  const out: PortMap = { ...bindings };
  for (const p of exposed) if (!out[p]?.length) out[p] = [{ HostIp: '', HostPort: '' }];
  return out;
}

export const EPHEMERAL_START = 32768;
export const EPHEMERAL_END = 60999;

/** Persistable allocator state: `proto/ip` → ports in use, plus the last dynamic port per proto. */
export interface PortAllocatorState { used: Record<string, number[]>; last: Record<string, number> }

const WILD = new Set(['', '0.0.0.0', '::']);

/**
 * Host port allocation. A port is taken on (ip, proto); a wildcard address clashes with every
 * address of its family. Dynamic ports run round-robin from after the last one handed out, as
 * dockerd's portallocator does (32768, 32769, …).
 */
export class PortAllocator {
  state: PortAllocatorState;
  constructor(state?: PortAllocatorState) {
    this.state = state ? structuredClone(state) : { used: {}, last: {} };
  }

  private clashes(ip: string, proto: string, port: number): boolean {
    const v6 = ip.includes(':');
    for (const [k, ports] of Object.entries(this.state.used)) {
      const slash = k.indexOf('/');
      const p = k.slice(0, slash);
      const kip = k.slice(slash + 1);
      if (p !== proto || !ports.includes(port)) continue;
      if (kip === ip) return true;
      if (kip.includes(':') === v6 && (WILD.has(kip) || WILD.has(ip))) return true;
    }
    return false;
  }

  /** Take `port` (0: a dynamic one, or from [port, end] when a host range was given). Returns the port. */
  allocate(ip: string, proto: string, port = 0, end = 0): number {
    const hostIp = ip === '' ? '0.0.0.0' : ip;
    const key = `${proto}/${hostIp}`;
    let chosen: number | undefined;
    if (port !== 0 && (end === 0 || end === port)) {
      if (this.clashes(hostIp, proto, port)) throw new ConflictError(`Bind for ${hostIp}:${port} failed: port is already allocated`);
      chosen = port;
    } else {
      const lo = port || EPHEMERAL_START;
      const hi = end || EPHEMERAL_END;
      const lastKey = port ? `${key}/${lo}-${hi}` : proto;
      const last = this.state.last[lastKey] ?? lo - 1;
      const n = hi - lo + 1;
      for (let i = 1; i <= n; i++) {
        const cand = lo + ((last - lo + i) % n + n) % n;
        if (!this.clashes(hostIp, proto, cand)) { chosen = cand; break; }
      }
      if (chosen === undefined) throw new ConflictError('all ports are allocated');
      this.state.last[lastKey] = chosen;
    }
    (this.state.used[key] ??= []).push(chosen);
    return chosen;
  }

  release(ip: string, proto: string, port: number): void {
    const key = `${proto}/${ip === '' ? '0.0.0.0' : ip}`;
    const list = this.state.used[key];
    if (!list) return;
    const i = list.indexOf(port);
    if (i >= 0) list.splice(i, 1);
    if (!list.length) delete this.state.used[key];
  }
}
