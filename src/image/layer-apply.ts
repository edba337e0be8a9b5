/**
 * Unpack one layer tar into an (empty) overlay2 diff dir, the way overlay2's ApplyDiff does:
 * `.wh.NAME` becomes an overlay whiteout (char device 0:0), `.wh..wh..opq` the xattr
 * trusted.overlay.opaque=y. Hostile entries (absolute paths, `..` escapes, writes through a symlink,
 * hardlinks out of the layer) are refused with InvalidArgumentError before anything is written for them.
 *
 * Everything here is synchronous (it runs in a worker thread, see layer-worker.ts): sync fs calls
 * are several times faster than promise-per-syscall for tens of thousands of small files.
 * Node has no mknod or setxattr: device nodes are made with `mknod` (whiteouts share one node made
 * per layer, hardlinked, as the kernel's own overlay whiteouts do), xattrs are set at the end in one
 * `setfattr --restore` batch.
 */
import {
  openSync, writeSync, closeSync, fchownSync, fchmodSync, futimesSync, mkdirSync, symlinkSync, lchownSync,
  lutimesSync, chmodSync, chownSync, utimesSync, linkSync, rmSync, unlinkSync, constants,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { InvalidArgumentError, SystemError } from '../lib/index.ts';
import type { TarHandler, TarHeader } from '../lib/index.ts';

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';
type Kind = 'dir' | 'file' | 'symlink' | 'other';

function refuse(name: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`refusing layer entry ${JSON.stringify(name)}: ${why}`);
}

/** Clean a tar path to components; throws on absolute paths and `..` escapes. '' = the layer root. */
export function cleanEntryPath(name: string, what = 'path'): string {
  if (name.startsWith('/')) throw refuse(name, `absolute ${what}`);
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (parts.length === 0) throw refuse(name, `${what} escapes the layer root`);
      parts.pop();
    } else parts.push(p);
  }
  return parts.join('/');
}

/** xattrs a layer may not set: overlayfs' own (they would change how the union is built). */
function xattrAllowed(name: string): boolean {
  return !name.startsWith('trusted.overlay.') && !name.startsWith('user.overlay.');
}

function quoteFattr(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte < 0x21 || byte > 0x7e || byte === 0x5c || byte === 0x3d) out += '\\' + byte.toString(8).padStart(3, '0');
    else out += String.fromCharCode(byte);
  }
  return out;
}

export class LayerWriter implements TarHandler {
  readonly root: string;
  /** Scratch path on the same filesystem for the shared whiteout node (outside root). */
  readonly #whiteoutTemplate: string;
  #haveTemplate = false;
  #kinds = new Map<string, Kind>();
  #sizes = new Map<string, number>();
  #dirTimes = new Map<string, number>();
  #xattrs: { path: string; name: string; value: Buffer }[] = [];
  #fd = -1;
  #cur: TarHeader | undefined;

  constructor(root: string, whiteoutTemplate: string) {
    this.root = root;
    this.#whiteoutTemplate = whiteoutTemplate;
    this.#kinds.set('', 'dir');
  }

  entry(h: TarHeader): void {
    const rel = cleanEntryPath(h.name);
    this.#cur = h;
    const slash = rel.lastIndexOf('/');
    const parent = slash === -1 ? '' : rel.slice(0, slash);
    const base = slash === -1 ? rel : rel.slice(slash + 1);
    this.#ensureParent(parent, h.name);

    if (base.startsWith(WH)) {
      this.#cur = undefined;
      if (base === OPAQUE) {
        this.#xattrs.push({ path: parent, name: 'trusted.overlay.opaque', value: Buffer.from('y') });
      } else if (!base.startsWith(WH + WH)) {
        const target = base.slice(WH.length);
        if (target === '' || target === '.' || target === '..') throw refuse(h.name, 'bad whiteout name');
        this.#whiteout(parent ? `${parent}/${target}` : target);
      }
      return;
    }
    if (rel === '') {
      if (h.type !== 'dir') throw refuse(h.name, 'the layer root must be a directory');
      this.#dirMeta(rel, h);
      this.#cur = undefined;
      return;
    }
    const full = join(this.root, rel);
    const existing = this.#kinds.get(rel);
    if (existing !== undefined && !(existing === 'dir' && h.type === 'dir')) this.#remove(rel);

    switch (h.type) {
      case 'dir':
        if (existing !== 'dir') {
          mkdirSync(full, 0o700);
          this.#kinds.set(rel, 'dir');
        }
        this.#dirMeta(rel, h);
        this.#cur = undefined;
        return;
      case 'file':
        this.#fd = openSync(full, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        this.#kinds.set(rel, 'file');
        this.#sizes.set(rel, h.size);
        break;
      case 'symlink':
        symlinkSync(h.linkname, full);
        this.#kinds.set(rel, 'symlink');
        this.#sizes.set(rel, Buffer.byteLength(h.linkname));
        lchownSync(full, h.uid, h.gid);
        lutimesSync(full, h.mtime, h.mtime);
        break;
      case 'link': {
        const target = cleanEntryPath(h.linkname, 'hardlink target');
        if (target === '') throw refuse(h.name, 'hardlink to the layer root');
        const t = target.lastIndexOf('/');
        this.#checkNoSymlinkParents(t === -1 ? '' : target.slice(0, t), h.name);
        const kind = this.#kinds.get(target);
        if (kind === undefined) throw refuse(h.name, `hardlink target ${JSON.stringify(h.linkname)} is not in this layer`);
        if (kind === 'dir') throw refuse(h.name, 'hardlink to a directory');
        linkSync(join(this.root, target), full);
        this.#kinds.set(rel, kind);
        break;
      }
      case 'char':
      case 'block':
      case 'fifo': {
        const args = h.type === 'fifo' ? [full, 'p'] : [full, h.type === 'char' ? 'c' : 'b', String(h.devmajor), String(h.devminor)];
        const r = spawnSync('mknod', args, { encoding: 'utf8' });
        if (r.status !== 0) throw new SystemError(`mknod ${rel}: ${r.error?.message ?? r.stderr.trim()}`);
        this.#kinds.set(rel, 'other');
        chownSync(full, h.uid, h.gid);
        chmodSync(full, h.mode & 0o7777);
        utimesSync(full, h.mtime, h.mtime);
        break;
      }
    }
    if (h.xattrs) for (const [name, value] of h.xattrs) if (xattrAllowed(name)) this.#xattrs.push({ path: rel, name, value });
    if (h.type !== 'file') this.#cur = undefined;
  }

  data(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) off += writeSync(this.#fd, chunk, off, chunk.length - off);
  }

  endEntry(): void {
    const h = this.#cur;
    if (!h || h.type !== 'file' || this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    try {
      fchownSync(fd, h.uid, h.gid);
      fchmodSync(fd, h.mode & 0o7777);
      futimesSync(fd, h.mtime, h.mtime);
    } finally {
      closeSync(fd);
    }
    this.#cur = undefined;
  }

  /** After the last entry: xattrs, directory times; returns the layer size (Docker's directory.Size). */
  finish(): number {
    if (this.#fd >= 0) { closeSync(this.#fd); this.#fd = -1; }
    if (this.#haveTemplate) unlinkSync(this.#whiteoutTemplate);
    if (this.#xattrs.length) this.#applyXattrs();
    for (const [rel, t] of this.#dirTimes) utimesSync(rel ? join(this.root, rel) : this.root, t, t);
    let size = 0;
    for (const s of this.#sizes.values()) size += s;
    return size;
  }

  /** Close what is open (after an error). */
  abort(): void {
    if (this.#fd >= 0) { try { closeSync(this.#fd); } catch { /* already failing */ } this.#fd = -1; }
  }

  #dirMeta(rel: string, h: TarHeader): void {
    const full = rel ? join(this.root, rel) : this.root;
    chownSync(full, h.uid, h.gid);
    chmodSync(full, h.mode & 0o7777);
    this.#dirTimes.set(rel, h.mtime);
    if (h.xattrs) for (const [name, value] of h.xattrs) if (xattrAllowed(name)) this.#xattrs.push({ path: rel, name, value });
  }

  #checkNoSymlinkParents(parent: string, name: string): void {
    if (parent === '') return;
    let i = -1;
    do {
      i = parent.indexOf('/', i + 1);
      const p = i === -1 ? parent : parent.slice(0, i);
      const k = this.#kinds.get(p);
      if (k === 'symlink') throw refuse(name, `${JSON.stringify(p)} is a symbolic link (write through a link)`);
      if (k !== undefined && k !== 'dir') throw refuse(name, `${JSON.stringify(p)} is not a directory`);
    } while (i !== -1);
  }

  /** Make sure every parent directory exists (implicit ones get 0755), and none is a symlink. */
  #ensureParent(parent: string, name: string): void {
    if (this.#kinds.get(parent) === 'dir') return;
    this.#checkNoSymlinkParents(parent, name);
    let i = -1;
    do {
      i = parent.indexOf('/', i + 1);
      const p = i === -1 ? parent : parent.slice(0, i);
      if (this.#kinds.get(p) === undefined) {
        mkdirSync(join(this.root, p), 0o755);
        this.#kinds.set(p, 'dir');
      }
    } while (i !== -1);
  }

  #remove(rel: string): void {
    rmSync(join(this.root, rel), { recursive: true, force: true });
    const prefix = rel + '/';
    for (const m of [this.#kinds, this.#sizes, this.#dirTimes] as Map<string, unknown>[]) {
      m.delete(rel);
      for (const k of m.keys()) if (k.startsWith(prefix)) m.delete(k);
    }
    this.#xattrs = this.#xattrs.filter((x) => x.path !== rel && !x.path.startsWith(prefix));
  }

  #whiteout(rel: string): void {
    if (this.#kinds.has(rel)) this.#remove(rel);
    if (!this.#haveTemplate) {
      const r = spawnSync('mknod', ['-m', '000', this.#whiteoutTemplate, 'c', '0', '0'], { encoding: 'utf8' });
      if (r.status !== 0) throw new SystemError(`mknod whiteout: ${r.error?.message ?? r.stderr.trim()}`);
      this.#haveTemplate = true;
    }
    linkSync(this.#whiteoutTemplate, join(this.root, rel));
    this.#kinds.set(rel, 'other');
  }

  #applyXattrs(): void {
    let dump = '';
    for (const x of this.#xattrs) {
      dump += `# file: ${quoteFattr(x.path || '.')}\n${quoteFattr(x.name)}=0s${x.value.toString('base64')}\n\n`;
    }
    const r = spawnSync('setfattr', ['-h', '--restore=-'], { cwd: this.root, input: dump, encoding: 'utf8' });
    if (r.error) throw new SystemError(`setfattr: ${r.error.message}`);
    if (r.status !== 0) throw new SystemError(`setfattr: ${r.stderr.trim()}`);
  }
}
