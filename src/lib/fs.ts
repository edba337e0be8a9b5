import { open, rename, readFile, mkdir, unlink, rm } from 'node:fs/promises';
import { openSync, writeSync, fsyncSync, closeSync, renameSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { errno, InvalidArgumentError } from './errdefs.ts';

/** Temp names unique per process and call (no crypto needed: the pid tells processes apart). */
let tmpSeq = 0;
const tmpName = (path: string): string => `${path}.tmp-${process.pid}-${++tmpSeq}`;

/** Write a file so that readers see either the old or the new content, never a torn one: tmp + fsync + rename. */
export async function atomicWriteFile(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = tmpName(path);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

export function atomicWriteFileSync(path: string, data: string | Uint8Array, mode = 0o644): void {
  const tmp = tmpName(path);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export async function atomicWriteJson(path: string, value: unknown, mode = 0o644): Promise<void> {
  await atomicWriteFile(path, JSON.stringify(value), mode);
}

/** Read and parse a JSON file; undefined when it does not exist. */
export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (e) {
    if (errno(e) === 'ENOENT') return undefined;
    throw e;
  }
}

export async function ensureDir(path: string, mode = 0o755): Promise<void> {
  await mkdir(path, { recursive: true, mode });
}

export async function removeAll(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true, maxRetries: 3 });
}

export async function exists(path: string): Promise<boolean> {
  try {
    await (await open(path, 'r')).close();
    return true;
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return false;
    if (errno(e) === 'EISDIR') return true;
    throw e;
  }
}

/**
 * Join a path that comes from untrusted input (a tar entry, an API parameter) below root,
 * lexically: `..` cannot climb above root. Symlinks inside root are the caller's concern.
 */
export function lexicalJoin(root: string, untrusted: string): string {
  const parts: string[] = [];
  for (const p of untrusted.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return parts.length ? join(root, ...parts) : root;
}

/** Is `child` equal to or below `parent` (both absolute, normalised)? */
export function isWithin(parent: string, child: string): boolean {
  const p = resolve(parent);
  const c = resolve(child);
  return c === p || c.startsWith(p.endsWith(sep) ? p : p + sep);
}

/** Reject a relative path from a hostile source that would leave its root. */
export function assertRelativeInside(name: string): string {
  if (name.startsWith('/')) throw new InvalidArgumentError(`invalid path ${JSON.stringify(name)}: absolute path`);
  const parts = name.split('/');
  let depth = 0;
  for (const p of parts) {
    if (p === '..') depth--;
    else if (p !== '' && p !== '.') depth++;
    if (depth < 0) throw new InvalidArgumentError(`invalid path ${JSON.stringify(name)}: it escapes the archive root`);
  }
  return name;
}

export { dirname };
