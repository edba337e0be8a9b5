/**
 * berthd's single-instance guard (a pid file written with O_EXCL, stale pids replaced) and systemd's
 * sd_notify (a datagram on NOTIFY_SOCKET; node:dgram has no unix sockets, node-unix-socket has).
 */
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DaemonConfigError } from './daemon-config.ts';

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A reused pid of some other program does not hold the lock.
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /berthd|daemon\.js/.test(cmd);
  } catch {
    return false;
  }
}

/** Create `path` holding our pid; refuse when a live berthd holds it; replace a stale one. */
export function acquirePidFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let pid = NaN;
    try {
      pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    } catch { /* vanished meanwhile: retry */ }
    if (pid !== process.pid && alive(pid)) {
      throw new DaemonConfigError(`failed to start daemon: pid file found, ensure berthd is not running or delete ${path}`);
    }
    try {
      unlinkSync(path);
    } catch { /* raced with another remover */ }
  }
  throw new DaemonConfigError(`failed to start daemon: pid file found, ensure berthd is not running or delete ${path}`);
}

/** Remove our pid file (only if it still holds our pid). */
export function releasePidFile(path: string): void {
  try {
    if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
  } catch { /* already gone */ }
}

/**
 * sd_notify(3): send `state` (e.g. `READY=1`) to $NOTIFY_SOCKET. Resolves false when no socket is set.
 * An abstract socket (`@name`) is addressed with a leading NUL.
 */
export async function sdNotify(state: string, socketPath = process.env.NOTIFY_SOCKET): Promise<boolean> {
  if (!socketPath) return false;
  const dest = socketPath.startsWith('@') ? `\0${socketPath.slice(1)}` : socketPath;
  const mod = (await import('node-unix-socket')) as typeof import('node-unix-socket') & { default?: typeof import('node-unix-socket') };
  const DgramSocket = mod.DgramSocket ?? mod.default!.DgramSocket;
  const sock = new DgramSocket();
  const buf = Buffer.from(state);
  try {
    await new Promise<void>((resolve, reject) => sock.sendTo(buf, 0, buf.length, dest, (err) => (err ? reject(err) : resolve())));
  } finally {
    sock.close();
  }
  return true;
}
