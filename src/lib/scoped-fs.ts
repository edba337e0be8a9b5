/**
 * A directory tree seen the way a process chrooted into it sees it. Paths are absolute "view" paths
 * ('/etc/hosts'); they map to host paths below `root`, or below a mount's source when they fall under a
 * mount's destination (a container's bind-mounted /etc/hosts, its volumes). `resolve` evaluates symlinks
 * in scope (Docker's FollowSymlinkInScope): an absolute target starts again at the view's root, `..` stops
 * there, so no path ever leaves the root or a mount source.
 *
 * Used by the archive API (engine) and by `cp` on the host side (cli, with root '/').
 */
import { lstatSync, readlinkSync, realpathSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { errno } from './errdefs.ts';

export interface ViewMount { destination: string; source: string }

const GO_ERRNO: Record<string, string> = {
  ENOENT: 'no such file or directory', ENOTDIR: 'not a directory', EACCES: 'permission denied', EPERM: 'operation not permitted',
  EEXIST: 'file exists', EISDIR: 'is a directory', ELOOP: 'too many levels of symbolic links', ENOTEMPTY: 'directory not empty',
  EXDEV: 'invalid cross-device link', EROFS: 'read-only file system', ENOSPC: 'no space left on device', EINVAL: 'invalid argument',
};

/** A Node fs error as Go prints its PathError: `lstat /x/y: not a directory`. Other values pass through. */
export function goPathError(err: unknown): unknown {
  const code = errno(err);
  const e = err as { syscall?: string; path?: string };
  if (!code || !e.syscall || !GO_ERRNO[code]) return err;
  const out = new Error(`${e.syscall} ${e.path ?? ''}: ${GO_ERRNO[code]}`) as Error & { code: string };
  out.code = code;
  return out;
}

/** Go's path.Clean for slash paths ('' → '.'). */
export function goClean(p: string): string {
  if (p === '') return '.';
  const c = posix.normalize(p);
  return c.length > 1 && c.endsWith('/') ? c.slice(0, -1) : c;
}

export class ScopedFs {
  readonly root: string;
  /** Longest destination first, so nested mounts win. */
  readonly mounts: readonly ViewMount[];
  #realRoots: string[] | undefined;

  constructor(root: string, mounts: readonly ViewMount[] = []) {
    this.root = root === '/' ? '/' : root.replace(/\/+$/, '');
    this.mounts = mounts
      .map((m) => ({ destination: goClean(posix.join('/', m.destination)), source: m.source.replace(/\/+$/, '') || '/' }))
      .filter((m) => m.destination !== '/')
      .sort((a, b) => b.destination.length - a.destination.length);
  }

  /** The host path of a view path (lexically cleaned first; no symlink is evaluated). */
  host(p: string): string {
    const v = goClean(posix.join('/', p));
    for (const m of this.mounts) {
      if (v === m.destination) return m.source;
      if (v.startsWith(m.destination + '/')) return (m.source === '/' ? '' : m.source) + v.slice(m.destination.length);
    }
    if (this.root === '/') return v;
    return v === '/' ? this.root : this.root + v;
  }

  /** Is this view path exactly a mount's destination (a bind-mounted file or directory)? */
  isMountPoint(p: string): boolean {
    const v = goClean(posix.join('/', p));
    return this.mounts.some((m) => m.destination === v);
  }

  lstat(p: string): Stats {
    try {
      return lstatSync(this.host(p));
    } catch (err) {
      throw goPathError(err);
    }
  }

  /** lstat, or undefined when the path does not exist. */
  tryLstat(p: string): Stats | undefined {
    try {
      return lstatSync(this.host(p));
    } catch (err) {
      const c = errno(err);
      if (c === 'ENOENT') return undefined;
      throw goPathError(err);
    }
  }

  /** FollowSymlinkInScope: `path` with every symlink evaluated inside the view. Missing components are kept as they are. */
  resolve(path: string): string {
    let rest = goClean(posix.join('/', path));
    let b = ''; // resolved so far, relative to the root, with a trailing '/'
    let n = 0;
    while (rest !== '') {
      if (++n > 255) throw new Error(`evalSymlinksInScope: too many links in ${path}`);
      const i = rest.indexOf('/');
      let p: string;
      if (i === -1) { p = rest; rest = ''; } else { p = rest.slice(0, i); rest = rest.slice(i + 1); }
      if (p === '') continue;
      const cleanP = goClean(`/${b}${p}`);
      if (cleanP === '/') { b = ''; continue; }
      const st = this.tryLstat(cleanP);
      if (!st || !st.isSymbolicLink()) { b = `${cleanP.slice(1)}/`; continue; }
      const dest = readlinkSync(this.host(cleanP));
      if (dest.startsWith('/')) b = '';
      rest = rest ? `${dest}/${rest}` : dest;
    }
    return goClean(`/${b}`);
  }

  /**
   * Docker's container.ResolvePath: the directory part resolved in scope, the last element kept as it is
   * (a trailing `/` or `/.` kept too). `abs` is the path as Docker reports it (joined to '/', cleaned, trailer kept).
   */
  resolvePath(path: string): { resolved: string; abs: string } {
    const abs = preserveTrailingDotOrSeparator(goClean(posix.join('/', path)), path);
    const cut = abs.lastIndexOf('/');
    const dir = abs.slice(0, cut + 1);
    const base = abs.slice(cut + 1);
    const rdir = this.resolve(dir);
    return { resolved: rdir === '/' ? `/${base}` : `${rdir}/${base}`, abs };
  }

  /** Real paths a file opened through this view may have (the root and the mount sources). */
  #reals(): string[] {
    this.#realRoots ??= [this.root, ...this.mounts.map((m) => m.source)].map((p) => { try { return realpathSync(p); } catch { return p; } });
    return this.#realRoots;
  }

  /**
   * Did an open file descriptor really land inside the view? A running container can swap a directory for a
   * symlink between our lookup and the open; /proc/self/fd tells where the kernel went.
   */
  fdInside(fd: number): boolean {
    if (this.root === '/' && this.mounts.length === 0) return true;
    let real: string;
    try { real = readlinkSync(`/proc/self/fd/${fd}`); } catch { return false; }
    return this.#reals().some((r) => r === '/' || real === r || real.startsWith(r + '/'));
  }
}

/** Docker's archive.PreserveTrailingDotOrSeparator for '/' paths. */
export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  const curDir = (p: string) => posix.basename(p) === '.';
  if (!curDir(cleaned) && curDir(original)) {
    if (!cleaned.endsWith('/')) cleaned += '/';
    cleaned += '.';
  }
  if (!cleaned.endsWith('/') && original.endsWith('/')) cleaned += '/';
  return cleaned;
}
