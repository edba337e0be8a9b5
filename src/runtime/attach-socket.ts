/**
 * The only file that touches node-unix-socket (SOCK_SEQPACKET, napi-rs). Two rules it enforces:
 * - destroy()/close() called synchronously inside the socket's own event handlers aborts the process (Rust panic,
 *   exit 134), so every close here is deferred with setImmediate;
 * - sun_path holds 107 bytes: a longer path is reached through /proc/self/fd/<dirfd>/<name>.
 * The module is loaded lazily: a daemon that never attaches does not pay for it.
 */
import { openSync, closeSync, constants } from 'node:fs';
import { dirname, basename } from 'node:path';
import { createRequire } from 'node:module';
import type { SeqpacketSocket as NativeSocket } from 'node-unix-socket';

const SUN_PATH_MAX = 107;

let mod: typeof import('node-unix-socket') | undefined;
function native(): typeof import('node-unix-socket') {
  mod ??= createRequire(import.meta.url)('node-unix-socket') as typeof import('node-unix-socket');
  return mod;
}

export interface SeqpacketConn {
  /** One call per packet, boundaries kept. */
  onPacket(cb: (packet: Buffer) => void): void;
  /** The peer closed (EOF), or the socket failed, or close() was called: fires once. */
  onClose(cb: () => void): void;
  write(data: Buffer): void;
  /** Half-close: send EOF, keep reading. */
  end(): void;
  /** Close now-ish (deferred a tick, safe from inside any handler). Idempotent. */
  close(): void;
}

class Conn implements SeqpacketConn {
  private packetCbs: ((p: Buffer) => void)[] = [];
  private closeCbs: (() => void)[] = [];
  private closed = false;
  private ended = false;
  private sock: NativeSocket;

  constructor(sock: NativeSocket) {
    this.sock = sock;
    sock.on('data', (buf: Buffer) => { if (!this.closed) for (const cb of this.packetCbs) cb(buf); });
    sock.on('end', () => this.close());
    sock.on('error', () => this.close());
  }

  onPacket(cb: (packet: Buffer) => void): void { this.packetCbs.push(cb); }
  onClose(cb: () => void): void {
    if (this.closed) setImmediate(cb);
    else this.closeCbs.push(cb);
  }

  write(data: Buffer): void {
    if (this.closed || this.ended || data.length === 0) return;
    try { this.sock.write(data); } catch { this.close(); }
  }

  end(): void {
    if (this.closed || this.ended) return;
    this.ended = true;
    try { this.sock.end(); } catch { this.close(); }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    setImmediate(() => {
      try { this.sock.destroy(); } catch { /* already gone */ }
      const cbs = this.closeCbs;
      this.closeCbs = [];
      for (const cb of cbs) cb();
    });
  }
}

/** Connect to a SOCK_SEQPACKET unix socket. Rejects when nothing listens there. */
export function connectSeqpacket(path: string): Promise<SeqpacketConn> {
  const { SeqpacketSocket } = native();
  return new Promise((resolve, reject) => {
    let dirFd: number | undefined;
    let target = path;
    if (Buffer.byteLength(path) > SUN_PATH_MAX) {
      dirFd = openSync(dirname(path), constants.O_RDONLY | constants.O_DIRECTORY);
      target = `/proc/self/fd/${dirFd}/${basename(path)}`;
    }
    const sock = new SeqpacketSocket();
    let settled = false;
    const done = (err?: unknown) => {
      if (settled) return;
      settled = true;
      if (dirFd !== undefined) closeSync(dirFd);
      if (err) {
        setImmediate(() => { try { sock.destroy(); } catch { /* ignore */ } });
        reject(err instanceof Error ? err : new Error(String(err)));
      } else resolve(new Conn(sock));
    };
    sock.once('error', (e: Error) => done(e));
    try {
      sock.connect(target, () => done());
    } catch (e) {
      done(e);
    }
  });
}
