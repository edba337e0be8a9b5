/**
 * The build context: the tar the client sends (plain, gzip, bzip2 or xz), unpacked into a scratch directory.
 * Each regular file's content is hashed while it is written, so COPY's cache key costs no second read.
 * Names are confined to the directory: `..`, absolute names and paths through a symlink the archive
 * itself made are refused (the archive is the client's, the directory is the daemon's).
 */
import { mkdirSync, symlinkSync, linkSync, chmodSync, lutimesSync, utimesSync, rmSync, openSync, closeSync, writeSync, ftruncateSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { posix, join } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidArgumentError, TarParser } from '../lib/index.ts';
import { decompressedChunks } from './remote.ts';

export interface BuildContext {
  /** Host path of the unpacked context. */
  dir: string;
  /** Context path (`a/b.txt`, no leading slash) → sha256 hex of a regular file's content. */
  hashes: Map<string, string>;
  /**
   * Writes the content of the large files, which unpacking leaves as placeholders (right size, mode and mtime,
   * no data) while it keeps their data in memory: a build whose COPY steps all come from the cache never
   * writes them. Call before reading any file's content.
   */
  materialize(): void;
}

/** Files up to this size are written at once; larger ones wait for materialize() (while the total fits). */
const DEFER_MIN = 256 << 10;
const DEFER_MAX_TOTAL = 256 << 20;

/** Unpacks `input` into `dir` (which must not exist yet). */
export async function unpackContext(input: Readable, dir: string): Promise<BuildContext> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const hashes = new Map<string, string>();
  const links = new Set<string>();
  const dirTimes: [string, Date][] = [];
  // the current regular file: written with sync calls as its data arrives (no promise per chunk), or kept
  let file: { fd: number; name: string; host: string; hash: ReturnType<typeof createHash>; mode: number; mtime: Date; size: number; kept?: Buffer[] } | undefined;
  const deferred: { host: string; chunks: Buffer[]; mtime: Date }[] = [];
  let deferredBytes = 0;
  const parser = new TarParser({
    entry(h) {
      const name = cleanName(h.name);
      if (name === undefined) return;
      for (let p = posix.dirname(name); p !== '.'; p = posix.dirname(p)) {
        if (links.has(p)) throw new InvalidArgumentError(`invalid symlink "${p}" in the build context: "${name}" would be written through it`);
      }
      const host = join(dir, name);
      mkdirSync(posix.dirname(host), { recursive: true });
      const mode = h.mode & 0o7777;
      const mtime = new Date(h.mtime * 1000);
      switch (h.type) {
        case 'dir':
          mkdirSync(host, { recursive: true });
          chmodSync(host, mode);
          dirTimes.push([host, mtime]);
          break;
        case 'symlink':
          rmSync(host, { force: true, recursive: true });
          symlinkSync(h.linkname, host);
          links.add(name);
          lutimesSync(host, mtime, mtime);
          break;
        case 'link': {
          const target = cleanName(h.linkname);
          if (target === undefined) throw new InvalidArgumentError(`invalid hardlink "${h.linkname}" in the build context`);
          rmSync(host, { force: true });
          linkSync(join(dir, target), host);
          const hash = hashes.get(target);
          if (hash) hashes.set(name, hash);
          break;
        }
        case 'file':
          rmSync(host, { force: true, recursive: true });
          file = { fd: openSync(host, 'w', mode), name, host, hash: createHash('sha256'), mode, mtime, size: h.size };
          if (h.size >= DEFER_MIN && deferredBytes + h.size <= DEFER_MAX_TOTAL) { file.kept = []; deferredBytes += h.size; }
          break;
        default: // devices and fifos have no place in a build context
      }
    },
    data(chunk) {
      if (!file) return;
      file.hash.update(chunk);
      if (file.kept) file.kept.push(chunk);
      else for (let off = 0; off < chunk.length;) off += writeSync(file.fd, chunk, off);
    },
    endEntry() {
      if (!file) return;
      const f = file;
      file = undefined;
      if (f.kept) {
        ftruncateSync(f.fd, f.size);
        deferred.push({ host: f.host, chunks: f.kept, mtime: f.mtime });
      }
      closeSync(f.fd);
      chmodSync(f.host, f.mode);
      lutimesSync(f.host, f.mtime, f.mtime);
      hashes.set(f.name, f.hash.digest('hex'));
    },
  });
  try {
    for await (const chunk of await decompressedChunks(input)) parser.write(chunk);
    parser.finish({ lenient: true });
  } finally {
    if (file) closeSync(file.fd);
  }
  for (const [d, t] of dirTimes.reverse()) lutimesSync(d, t, t);
  return {
    dir, hashes,
    materialize() {
      for (const f of deferred.splice(0)) {
        const fd = openSync(f.host, 'r+');
        try {
          let pos = 0;
          for (const c of f.chunks) for (let off = 0; off < c.length;) { const n = writeSync(fd, c, off, c.length - off, pos); off += n; pos += n; }
        } finally { closeSync(fd); }
        utimesSync(f.host, f.mtime, f.mtime);
      }
    },
  };
}

/** `./a/../b/` → `b`, undefined for the root itself. Cleaned as if rooted, so no name leaves the directory. */
function cleanName(raw: string): string | undefined {
  return posix.normalize(`/${raw}`).slice(1).replace(/\/$/, '') || undefined;
}
