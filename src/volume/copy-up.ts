/**
 * Copy-up: the first mount of an empty volume gets the image's content at the mount path (Docker's
 * CopyImagePathContent). `cp -a` keeps ownership, modes, times, symlinks, hard links and xattrs, and gives the
 * volume's root the directory's own mode and owner.
 */
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SystemError, errno, runInHelper } from '../lib/index.ts';

/**
 * Resolve `path` inside `root` as the container would see it: symlinks are followed with `root` as `/`,
 * so nothing resolves outside root (FollowSymlinkInScope). Returns the host path (which may not exist).
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const todo = path.split('/').filter((p) => p && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '..') { done.pop(); continue; }
    const host = join(root, ...done, part);
    let st;
    try { st = await lstat(host); } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return join(root, ...done, part, ...todo);
      throw err;
    }
    if (!st.isSymbolicLink()) { done.push(part); continue; }
    if (++links > 255) throw new SystemError(`too many links resolving ${path}`);
    const target = await readlink(host);
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...target.split('/').filter((p) => p && p !== '.'));
  }
  return done.length ? join(root, ...done) : root;
}

async function isEmptyDir(p: string): Promise<boolean> {
  try {
    return (await readdir(p)).length === 0;
  } catch (err) {
    if (errno(err) === 'ENOENT') return true;
    throw err;
  }
}

/**
 * Fill `volumeDir` with what `rootfs` has at `destination`, if volumeDir is empty and the image has a directory
 * there. Returns whether anything was copied.
 */
export async function copyUp(rootfs: string, destination: string, volumeDir: string): Promise<boolean> {
  const src = await resolveInRoot(rootfs, destination);
  const st = await lstat(src).catch(() => undefined);
  if (!st?.isDirectory()) return false;
  if (!(await isEmptyDir(volumeDir))) return false;
  const r = await runInHelper('cp', ['-a', '--', `${src}/.`, `${volumeDir}/`]);
  if (r.code !== 0) throw new SystemError(`copying image data to the volume: ${r.output.trim()}`);
  return true;
}
