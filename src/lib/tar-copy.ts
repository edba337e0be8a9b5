/**
 * Tar in and out of a ScopedFs, with Docker's rules (pkg/archive: TarWithOptions with IncludeFiles and
 * RebaseNames, Unpack, RebaseArchiveEntries). Writing produces the bytes Go's archive/tar writes for
 * Docker (USTAR headers, PAX only when a field does not fit). Extracting never leaves the view: every
 * parent is resolved in scope before anything is created, so a hostile archive (absolute names, `..`,
 * symlink or hardlink escapes, a symlink followed by a file through it) writes only below the view's root,
 * as dockerd's chrooted untar does.
 */
import {
  closeSync, constants, fchmodSync, fchownSync, futimesSync, linkSync, lchownSync, lutimesSync, mkdirSync, openSync,
  readdirSync, readSync, rmSync, symlinkSync, chmodSync, utimesSync, writeSync, readlinkSync, unlinkSync, type Stats,
} from 'node:fs';
import { posix } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type * as TarStream from 'tar-stream';
import { ScopedFs, goClean, goPathError } from './scoped-fs.ts';

const BLOCK = 512;

/** tar-stream, loaded on first use (the CLI's other commands never pay for it). */
function tarStreamLib(): Promise<typeof TarStream> {
  return import('tar-stream') as Promise<typeof TarStream>;
}

export type TarType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHead {
  name: string;
  type: TarType;
  /** Permission bits (07777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Whole seconds. */
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** xattrs, written as PAX SCHILY.xattr.* records (values are bytes: security.capability is binary). */
  xattrs?: ReadonlyMap<string, Buffer>;
}

const TYPEFLAG: Record<TarType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
/** Go's fillGo18FileTypeBits: the c_IS* bits Docker puts in the mode field. */
const TYPEBITS: Record<TarType, number> = { file: 0o100000, link: 0o100000, symlink: 0o120000, char: 0o020000, block: 0o060000, dir: 0o040000, fifo: 0o010000 };

/** Go's formatOctal: zero-padded, leaving room for a NUL. */
function octal(b: Buffer, off: number, len: number, v: number): void {
  const s = v.toString(8).padStart(len - 1, '0');
  b.write(s, off, len - 1, 'ascii');
}

function fitsOctal(v: number, len: number): boolean {
  return v >= 0 && v < 8 ** (len - 1);
}

const ascii = (s: string) => /^[\x00-\x7f]*$/.test(s);

/** USTAR split of a long name into prefix (≤155) and name (≤100), as Go's splitUSTARPath. */
function splitUstar(name: string): [string, string] | undefined {
  const len = Buffer.byteLength(name);
  if (len <= 100) return undefined;
  let i = Math.min(len - 1, 155);
  while (i > 0 && name[i] !== '/') i--;
  if (i <= 0) return undefined;
  const prefix = name.slice(0, i);
  const suffix = name.slice(i + 1);
  if (!suffix || Buffer.byteLength(suffix) > 100) return undefined;
  return [prefix, suffix];
}

function paxRecord(k: string, v: string | Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${k}=`), typeof v === 'string' ? Buffer.from(v) : v, Buffer.from('\n')]);
  let n = body.length + 1;
  while (String(n).length + body.length !== n) n = String(n).length + body.length;
  return Buffer.concat([Buffer.from(String(n)), body]);
}

function rawHeader(h: TarHead, flag: string, name: string, prefix: string): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name, 0, 100, 'utf8');
  octal(b, 100, 8, fitsOctal(h.mode, 8) ? h.mode : 0);
  octal(b, 108, 8, fitsOctal(h.uid, 8) ? h.uid : 0);
  octal(b, 116, 8, fitsOctal(h.gid, 8) ? h.gid : 0);
  octal(b, 124, 12, fitsOctal(h.size, 12) ? h.size : 0);
  octal(b, 136, 12, fitsOctal(h.mtime, 12) ? h.mtime : 0);
  b.write(flag, 156, 1, 'ascii');
  b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\x0000', 257, 8, 'binary');
  b.write(h.uname, 265, 32, 'utf8');
  b.write(h.gname, 297, 32, 'utf8');
  octal(b, 329, 8, h.devmajor);
  octal(b, 337, 8, h.devminor);
  b.write(prefix, 345, 155, 'utf8');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.fill(0, 148, 156);
  octal(b, 148, 7, sum);
  b[155] = 0x20;
  return b;
}

/** The header block(s) for one entry: USTAR, with a PAX header before it for what USTAR cannot hold. */
export function encodeHeader(h: TarHead): Buffer {
  const full: TarHead = { ...h, mode: (h.mode & 0o7777) | TYPEBITS[h.type] };
  let name = h.name;
  let prefix = '';
  const pax: Buffer[] = [];
  if (!ascii(name)) pax.push(paxRecord('path', name));
  else if (Buffer.byteLength(name) > 100) {
    const s = splitUstar(name);
    if (s) [prefix, name] = s;
    else pax.push(paxRecord('path', name));
  }
  if (!ascii(h.linkname) || Buffer.byteLength(h.linkname) > 100) pax.push(paxRecord('linkpath', h.linkname));
  if (!fitsOctal(h.size, 12)) pax.push(paxRecord('size', String(h.size)));
  if (!fitsOctal(h.uid, 8)) pax.push(paxRecord('uid', String(h.uid)));
  if (!fitsOctal(h.gid, 8)) pax.push(paxRecord('gid', String(h.gid)));
  const longPath = pax.some((r) => r.includes(' path='));
  for (const [k, v] of [...(h.xattrs ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const main = rawHeader(full, TYPEFLAG[h.type], longPath ? name.slice(0, 100) : name, prefix);
  if (!pax.length) return main;
  const body = Buffer.concat(pax);
  const dir = posix.dirname(h.name.replace(/\/$/, ''));
  const paxName = posix.join(dir === '.' ? '' : dir, 'PaxHeaders.0', posix.basename(h.name)).slice(0, 99);
  const ph = rawHeader({ ...full, name: paxName, size: body.length, linkname: '', mode: 0, uid: 0, gid: 0, uname: '', gname: '' }, 'x', paxName, '');
  return Buffer.concat([ph, body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK), main]);
}

// ───────────────────────── writing a tar of a path ─────────────────────────

/** The tar type of a file (undefined for sockets, which Docker's archive code skips). */
export function tarTypeOf(st: Stats): TarType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return undefined; // sockets: Docker skips them
}

const major = (rdev: number) => ((rdev >> 8) & 0xfff) | ((rdev >>> 20) & ~0xfff);
const minor = (rdev: number) => (rdev & 0xff) | ((rdev >>> 12) & ~0xff);

export interface PackOptions {
  /** Directory (view path) the included name is relative to. */
  dir: string;
  /** The entry of `dir` to archive ('.' for the directory itself). */
  base: string;
  /** Docker's RebaseNames[base]: the name the top entry gets ('' keeps it; '/' drops it). */
  rebase?: string;
  /** uid/gid → names for the header (Docker fills them from the host's user database). */
  names?: (uid: number, gid: number) => { uname: string; gname: string };
}

const gone = () => new Error('the reader of the archive went away');

/** Collects small pieces (headers, small files) and writes them in large chunks, with back-pressure. */
class Sink {
  readonly #out: Writable;
  #parts: Buffer[] = [];
  #size = 0;
  constructor(out: Writable) { this.#out = out; }

  async push(b: Buffer): Promise<void> {
    this.#parts.push(b);
    this.#size += b.length;
    if (this.#size >= 256 * 1024) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.#size) return;
    const b = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#size);
    this.#parts = [];
    this.#size = 0;
    const out = this.#out;
    if (out.destroyed || out.closed) throw gone();
    if (out.write(b)) return;
    await new Promise<void>((resolve, reject) => {
      const off = () => { out.off('drain', ok); out.off('close', bad); out.off('error', bad); };
      const ok = () => { off(); resolve(); };
      const bad = () => { off(); reject(gone()); };
      out.on('drain', ok);
      out.on('close', bad);
      out.on('error', bad);
      if (out.destroyed || out.closed) bad();
    });
  }
}

/**
 * TarWithOptions(dir, {IncludeFiles: [base], IncludeSourceDir: true, RebaseNames: {base: rebase}}) into `out`
 * (not ended). Entries in filepath.Walk order; hardlinked files after the first become link entries.
 */
export async function packPath(fs: ScopedFs, o: PackOptions, out: Writable): Promise<void> {
  const names = o.names ?? ((uid: number, gid: number) => ({ uname: uid === 0 ? 'root' : '', gname: gid === 0 ? 'root' : '' }));
  const seen = new Map<string, string>();
  const walkRoot = goClean(posix.join(o.dir, o.base));
  const rebase = o.rebase ?? '';
  const sink = new Sink(out);
  const buf = Buffer.allocUnsafe(1 << 20);

  const nameOf = (view: string): string => {
    let rel = posix.relative(o.dir, view) || '.';
    if (o.base === '.' && rel !== '.') rel = `./${rel}`;
    if (rebase) rel = rel.replace(o.base, rebase === '/' ? '' : rebase);
    return rel;
  };

  /** The file's bytes, exactly `size` of them (zero-padded if it shrank), then the block padding. */
  const copyFile = async (view: string, size: number): Promise<void> => {
    const fd = openSync(fs.host(view), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      if (!fs.fdInside(fd)) throw new Error(`${view}: the path left the container's filesystem while it was read`);
      let left = size;
      while (left > 0) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, left), null);
        if (n === 0) break;
        await sink.push(Buffer.from(buf.subarray(0, n)));
        left -= n;
      }
      if (left > 0) await sink.push(Buffer.alloc(left));
    } finally {
      closeSync(fd);
    }
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad) await sink.push(Buffer.alloc(pad));
  };

  const visit = async (view: string): Promise<void> => {
    let st: Stats;
    try { st = fs.lstat(view); } catch { return; }
    const type = tarTypeOf(st);
    if (!type) return;
    let name = nameOf(view);
    if (type === 'dir' && !name.endsWith('/')) name += '/';
    const h: TarHead = {
      name, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: type === 'file' ? st.size : 0,
      mtime: Math.floor(st.mtimeMs / 1000), linkname: '', ...names(st.uid, st.gid),
      devmajor: type === 'char' || type === 'block' ? major(st.rdev) : 0, devminor: type === 'char' || type === 'block' ? minor(st.rdev) : 0,
    };
    if (type === 'symlink') h.linkname = readlinkSync(fs.host(view));
    if (type === 'file' && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = seen.get(key);
      if (first !== undefined) { h.type = 'link'; h.linkname = first; h.size = 0; } else seen.set(key, name);
    }
    await sink.push(encodeHeader(h));
    if (h.type === 'file' && h.size > 0) await copyFile(view, h.size);
    if (type === 'dir') {
      let kids: string[];
      try { kids = readdirSync(fs.host(view)); } catch { return; }
      kids.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (const k of kids) await visit(view === '/' ? `/${k}` : `${view}/${k}`);
    }
  };
  await visit(walkRoot);
  await sink.push(Buffer.alloc(BLOCK * 2));
  await sink.flush();
}

// ───────────────────────── extracting ─────────────────────────

export interface ExtractOptions {
  /** An existing directory must not become a non-directory, nor a non-directory a directory. */
  noOverwriteDirNonDir: boolean;
  /** Keep the owner of the files (lchown) unless this is set (the client side of `cp` does not chown). */
  noLchown?: boolean;
  /** Owner for everything extracted (copyUIDGID with a container user). */
  chown?: { uid: number; gid: number };
}

type Entry = AsyncIterable<unknown> & { header: TarStream.Header; resume(): unknown };

function entryType(t: TarStream.Header['type'] | undefined): TarType | undefined {
  switch (t) {
    case 'file': case 'contiguous-file': case undefined: return 'file';
    case 'directory': return 'dir';
    case 'symlink': return 'symlink';
    case 'link': return 'link';
    case 'character-device': return 'char';
    case 'block-device': return 'block';
    case 'fifo': return 'fifo';
    default: return undefined;
  }
}

const q = (s: string) => JSON.stringify(s);

/** Error for an entry that would leave the extraction directory (Docker's breakoutError). */
export class BreakoutError extends Error {
  override name = 'BreakoutError';
}

/**
 * Docker's archive.Unpack into `dest` (a view path of an existing directory, already resolved), confined to the view.
 * Errors carry Docker's texts; paths in them are view paths (what the chrooted dockerd prints).
 */
export async function extractTar(input: Readable, fs: ScopedFs, dest: string, o: ExtractOptions): Promise<void> {
  const ex = (await tarStreamLib()).extract();
  const dirs: { view: string; mtime: number }[] = [];
  const resolved = new Map<string, string>();
  pump(input, ex);
  for await (const entry of ex as unknown as AsyncIterable<Entry>) {
    const h = entry.header;
    const type = entryType(h.type);
    if (type === undefined) { entry.resume(); continue; }
    try {
      const d = await extractEntry(fs, dest, h, type, entry, o, resolved);
      if (d) dirs.push(d);
    } catch (err) {
      entry.resume();
      input.resume();
      throw goPathError(err);
    }
  }
  for (const d of dirs) {
    try { utimesSync(fs.host(d.view), d.mtime, d.mtime); } catch (err) { throw goPathError(err); }
  }
}

/** mkdir -p in scope, like MkdirAll on a chrooted path. */
function mkdirAllScoped(fs: ScopedFs, view: string): void {
  const r = fs.resolve(view);
  const st = fs.tryLstat(r);
  if (st) {
    if (!st.isDirectory()) throw Object.assign(new Error(`mkdir ${view}: not a directory`), { code: 'ENOTDIR' });
    return;
  }
  if (r !== '/') mkdirAllScoped(fs, posix.dirname(r));
  try {
    mkdirSync(fs.host(fs.resolve(r)), 0o755);
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
  }
}

/** `parent/base` with the parent resolved in scope; `.` and `..` as the last element are resolved too. */
function target(fs: ScopedFs, view: string): string {
  const base = posix.basename(view);
  if (view === '/' || base === '.' || base === '..') return fs.resolve(view);
  const parent = fs.resolve(posix.dirname(view));
  return parent === '/' ? `/${base}` : `${parent}/${base}`;
}

/**
 * One entry. `resolved` caches directories (lexical view path → resolved view path) known to exist; it is cleared
 * whenever something is removed or a symlink made, since either can change what a path resolves to.
 */
async function extractEntry(fs: ScopedFs, dest: string, h: TarStream.Header, type: TarType, entry: Entry, o: ExtractOptions, resolved: Map<string, string>): Promise<{ view: string; mtime: number } | undefined> {
  const name = goClean(h.name);
  const path = posix.join(dest, name);
  const base = posix.basename(path);
  let tgt: string;
  if (path === '/' || base === '.' || base === '..') {
    tgt = fs.resolve(path);
  } else {
    const pv = posix.dirname(path);
    let rp = resolved.get(pv);
    if (rp === undefined) {
      rp = fs.resolve(pv);
      if (!fs.tryLstat(rp)) { mkdirAllScoped(fs, pv); rp = fs.resolve(pv); }
      resolved.set(pv, rp);
    }
    tgt = rp === '/' ? `/${base}` : `${rp}/${base}`;
  }
  const rel = posix.relative(dest, path);
  if (rel === '..' || rel.startsWith('../')) throw new BreakoutError(`${q(h.name)} is outside of ${q(dest)}`);
  const host = fs.host(tgt);
  const existing = fs.tryLstat(tgt);
  if (existing) {
    if (o.noOverwriteDirNonDir && existing.isDirectory() && type !== 'dir') throw new Error(`cannot overwrite directory ${q(path)} with non-directory ${q(dest)}`);
    if (o.noOverwriteDirNonDir && !existing.isDirectory() && type === 'dir') throw new Error(`cannot overwrite non-directory ${q(path)} with directory ${q(dest)}`);
    if (existing.isDirectory() && name === '.') { entry.resume(); return undefined; }
    if (!(existing.isDirectory() && type === 'dir')) {
      // a mount point cannot be unlinked (dockerd gets EBUSY); removing its source would detach it silently
      if (fs.isMountPoint(tgt)) throw new Error(`unlinkat ${tgt}: device or resource busy`);
      rmSync(host, { recursive: true, force: true });
      resolved.clear();
    }
  }
  const mode = (h.mode ?? 0o644) & 0o7777;
  const mtime = Math.floor((h.mtime?.getTime() ?? 0) / 1000);
  const uid = o.chown ? o.chown.uid : h.uid ?? 0;
  const gid = o.chown ? o.chown.gid : h.gid ?? 0;
  const chown = !o.noLchown;
  switch (type) {
    case 'dir': {
      const st = fs.tryLstat(tgt);
      if (!st || !st.isDirectory()) mkdirSync(host, mode);
      break;
    }
    case 'file': {
      const fd = openSync(host, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, mode);
      try {
        if (!fs.fdInside(fd)) {
          try { unlinkSync(readlinkSync(`/proc/self/fd/${fd}`)); } catch { /* best effort */ }
          throw new BreakoutError(`invalid path ${q(h.name)}: it left ${q(dest)} while being written`);
        }
        for await (const chunk of entry) {
          const c = chunk as Buffer;
          let off = 0;
          while (off < c.length) off += writeSync(fd, c, off, c.length - off);
        }
        if (chown) fchownSync(fd, uid, gid);
        fchmodSync(fd, mode);
        futimesSync(fd, mtime, mtime);
      } finally {
        closeSync(fd);
      }
      return undefined;
    }
    case 'link': {
      const lt = goClean(posix.join(dest, h.linkname ?? ''));
      if (!(lt === dest || lt.startsWith(dest === '/' ? '/' : `${dest}/`))) throw new BreakoutError(`invalid hardlink ${q(lt)} -> ${q(h.linkname ?? '')}`);
      linkSync(fs.host(target(fs, lt)), host);
      break;
    }
    case 'symlink': {
      const lt = goClean(posix.join(posix.dirname(path), h.linkname ?? ''));
      if (!(lt === dest || lt.startsWith(dest === '/' ? '/' : `${dest}/`))) throw new BreakoutError(`invalid symlink ${q(path)} -> ${q(h.linkname ?? '')}`);
      symlinkSync(h.linkname ?? '', host);
      resolved.clear();
      break;
    }
    case 'char': case 'block': case 'fifo': {
      const args = type === 'fifo' ? [host, 'p'] : [host, type === 'char' ? 'c' : 'b', String(h.devmajor ?? 0), String(h.devminor ?? 0)];
      // node:child_process loads on first use (importing lib stays cheap for the CLI)
      const r = process.getBuiltinModule('node:child_process').spawnSync('mknod', args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`mknod ${path}: ${r.error?.message ?? r.stderr.trim()}`);
      break;
    }
  }
  entry.resume();
  if (chown) lchownSync(host, uid, gid);
  if (type === 'link') {
    // Docker chmods a hardlink unless its target is a symlink
    if (!fs.lstat(tgt).isSymbolicLink()) chmodSync(host, mode);
  } else if (type !== 'symlink') chmodSync(host, mode);
  if (type === 'dir') {
    resolved.set(path, tgt);
    return { view: tgt, mtime };
  }
  if (type === 'symlink') lutimesSync(host, mtime, mtime);
  else utimesSync(host, mtime, mtime);
  return undefined;
}

/** Docker's RebaseArchiveEntries: the first occurrence of oldBase in each name (and hardlink target) becomes newBase. */
export async function rebaseTar(input: Readable, oldBase: string, newBase: string): Promise<Readable> {
  const from = oldBase === '/' ? '' : oldBase;
  const lib = await tarStreamLib();
  const ex = lib.extract();
  const pack = lib.pack();
  ex.on('entry', (h, stream, next) => {
    const nh: TarStream.Header = { ...h, name: h.name.replace(from, newBase) };
    if (h.type === 'link' && h.linkname) nh.linkname = h.linkname.replace(from, newBase);
    const w = pack.entry(nh, (err) => next(err));
    stream.pipe(w);
  });
  ex.on('finish', () => pack.finalize());
  ex.on('error', (e: Error) => pack.destroy(e));
  pump(input, ex);
  return process.getBuiltinModule('node:stream').Readable.from(pack);
}

/** Feed a Node stream into a streamx writable, with back-pressure; errors end up in the writable. */
function pump(input: Readable, w: TarStream.Extract): void {
  void (async () => {
    try {
      for await (const c of input) {
        if (!w.write(c as Buffer)) {
          await new Promise<void>((r) => {
            const done = () => { w.off('drain', done); w.off('close', done); r(); };
            w.on('drain', done);
            w.on('close', done);
          });
        }
        if (w.destroyed) return;
      }
      (w as unknown as { end(): void }).end();
    } catch (e) {
      w.destroy(e as Error);
    }
  })();
}
