/**
 * A synchronous push parser for tar streams (ustar, GNU and PAX): feed it chunks, it calls back with
 * headers and file data. Synchronous on purpose: the layer applier writes with sync fs calls inside a
 * worker, and a parser without promises per entry is several times faster than a stream-per-entry one.
 * PAX values stay bytes (binary xattrs such as security.capability survive).
 */
import { InvalidArgumentError } from './errdefs.ts';

export type EntryType = 'file' | 'dir' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';

export interface TarHeader {
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (fractional from PAX). */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** SCHILY.xattr.* records. */
  xattrs?: Map<string, Buffer>;
}

export interface TarHandler {
  entry(h: TarHeader): void;
  data(chunk: Buffer): void;
  endEntry(): void;
}

const BLOCK = 512;
const enum_ = { HEADER: 0, DATA: 1, EXT: 2, END: 3 } as const;
type State = (typeof enum_)[keyof typeof enum_];

function bad(msg: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid tar archive: ${msg}`);
}

function cstr(b: Buffer, start: number, end: number): string {
  let e = start;
  while (e < end && b[e] !== 0) e++;
  return b.toString('utf8', start, e);
}

function octal(b: Buffer, start: number, end: number, what: string): number {
  if (b[start]! & 0x80) {
    // base-256 (GNU): big-endian two's complement; we only accept non-negative values
    if (b[start]! & 0x40) throw bad(`negative ${what}`);
    let v = b[start]! & 0x3f;
    for (let i = start + 1; i < end; i++) v = v * 256 + b[i]!;
    return v;
  }
  let i = start;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  let v = 0;
  let any = false;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) throw bad(`bad number in ${what} field`);
    v = v * 8 + (c - 0x30);
    any = true;
  }
  return any ? v : 0;
}

function checksumOk(b: Buffer, off: number): boolean {
  const want = octal(b, off + 148, off + 156, 'checksum');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : b[off + i]!;
  return sum === want;
}

function isZero(b: Buffer, off: number): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[off + i] !== 0) return false;
  return true;
}

function parsePax(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < buf.length) {
    let sp = off;
    while (sp < buf.length && buf[sp] !== 0x20) sp++;
    const len = parseInt(buf.toString('ascii', off, sp), 10);
    if (!(len > 0) || off + len > buf.length || buf[off + len - 1] !== 0x0a) throw bad('malformed PAX record');
    const rec = buf.subarray(sp + 1, off + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw bad('malformed PAX record');
    out.set(rec.toString('utf8', 0, eq), Buffer.from(rec.subarray(eq + 1)));
    off += len;
  }
  return out;
}

export class TarParser {
  #h: TarHandler;
  #state: State = enum_.HEADER;
  #buf: Buffer = Buffer.alloc(0);
  /** Bytes of the current entry's data still to deliver (DATA) or to collect (EXT). */
  #remaining = 0;
  /** Padding to skip after the data. */
  #pad = 0;
  #ext: Buffer[] = [];
  #extType = 0;
  #pax: Map<string, Buffer> | undefined;
  #longName: string | undefined;
  #longLink: string | undefined;
  #zeroBlocks = 0;
  #sawEntry = false;

  constructor(handler: TarHandler) {
    this.#h = handler;
  }

  write(chunk: Buffer): void {
    let b = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    let off = 0;
    for (;;) {
      if (this.#state === enum_.END) { this.#buf = Buffer.alloc(0); return; }
      if (this.#state === enum_.DATA || this.#state === enum_.EXT) {
        if (this.#remaining > 0) {
          const n = Math.min(this.#remaining, b.length - off);
          if (n === 0) break;
          const part = b.subarray(off, off + n);
          if (this.#state === enum_.DATA) this.#h.data(part);
          else this.#ext.push(Buffer.from(part));
          this.#remaining -= n;
          off += n;
          if (this.#remaining > 0) break;
        }
        if (this.#pad > 0) {
          const n = Math.min(this.#pad, b.length - off);
          this.#pad -= n;
          off += n;
          if (this.#pad > 0) break;
        }
        if (this.#state === enum_.DATA) this.#h.endEntry();
        else this.#finishExt();
        this.#state = enum_.HEADER;
        continue;
      }
      // HEADER
      if (b.length - off < BLOCK) break;
      this.#header(b, off);
      off += BLOCK;
    }
    this.#buf = off < b.length ? Buffer.from(b.subarray(off)) : Buffer.alloc(0);
  }

  /** The input ended: throw unless we stopped at an entry boundary. */
  finish(opts: { lenient?: boolean } = {}): void {
    if (this.#state === enum_.END) return;
    // Go's archive/tar reader takes an archive that stops right after an entry's data (no padding, no end
    // blocks), as the docker CLI writes for `build -f -`; so does a lenient finish
    if (opts.lenient && this.#state === enum_.DATA && this.#remaining === 0 && this.#buf.length === 0) {
      this.#h.endEntry();
      this.#state = enum_.END;
      return;
    }
    if (opts.lenient && this.#state === enum_.HEADER && this.#buf.length === 0 && this.#sawEntry) return;
    if (this.#state !== enum_.HEADER || this.#buf.length > 0 || this.#ext.length || this.#pax || this.#longName !== undefined) {
      throw bad('unexpected end of archive (truncated)');
    }
    if (!this.#sawEntry && this.#zeroBlocks === 0) throw bad('empty input');
  }

  #finishExt(): void {
    const data = Buffer.concat(this.#ext);
    this.#ext = [];
    switch (this.#extType) {
      case 0x78: // 'x'
        this.#pax = parsePax(data);
        break;
      case 0x67: // 'g': global header; its fields are not applied (as Docker's loader)
        parsePax(data);
        break;
      case 0x4c: // 'L'
        this.#longName = cstr(data, 0, data.length);
        break;
      case 0x4b: // 'K'
        this.#longLink = cstr(data, 0, data.length);
        break;
    }
  }

  #header(b: Buffer, off: number): void {
    if (isZero(b, off)) {
      this.#zeroBlocks++;
      if (this.#zeroBlocks >= 2) this.#state = enum_.END;
      return;
    }
    if (this.#zeroBlocks > 0) throw bad('data after end-of-archive marker');
    if (!checksumOk(b, off)) throw bad('invalid tar header (bad checksum)');
    const flag = b[off + 156]!;
    const size = octal(b, off + 124, off + 136, 'size');
    if (flag === 0x78 || flag === 0x67 || flag === 0x4c || flag === 0x4b) {
      if (size > 1 << 20) throw bad('oversized extended header');
      this.#extType = flag;
      this.#state = enum_.EXT;
      this.#remaining = size;
      this.#pad = (BLOCK - (size % BLOCK)) % BLOCK;
      return;
    }
    const ustar = b.toString('latin1', off + 257, off + 263) === 'ustar\0';
    let name = cstr(b, off, off + 100);
    if (ustar) {
      const prefix = cstr(b, off + 345, off + 500);
      if (prefix) name = prefix + '/' + name;
    }
    let linkname = cstr(b, off + 157, off + 257);
    let type: EntryType;
    switch (flag) {
      case 0: case 0x30: case 0x37: type = 'file'; break;
      case 0x31: type = 'link'; break;
      case 0x32: type = 'symlink'; break;
      case 0x33: type = 'char'; break;
      case 0x34: type = 'block'; break;
      case 0x35: type = 'dir'; break;
      case 0x36: type = 'fifo'; break;
      default: throw bad(`unsupported entry type ${JSON.stringify(String.fromCharCode(flag))} for ${JSON.stringify(name)}`);
    }
    // Old-style archives mark directories only by a trailing slash.
    if (type === 'file' && name.endsWith('/')) type = 'dir';
    const h: TarHeader = {
      name,
      type,
      mode: octal(b, off + 100, off + 108, 'mode'),
      uid: octal(b, off + 108, off + 116, 'uid'),
      gid: octal(b, off + 116, off + 124, 'gid'),
      size: type === 'file' ? size : 0,
      mtime: octal(b, off + 136, off + 148, 'mtime'),
      linkname,
      devmajor: type === 'char' || type === 'block' ? octal(b, off + 329, off + 337, 'devmajor') : 0,
      devminor: type === 'char' || type === 'block' ? octal(b, off + 337, off + 345, 'devminor') : 0,
    };
    if (this.#longName !== undefined) { h.name = this.#longName; this.#longName = undefined; }
    if (this.#longLink !== undefined) { h.linkname = this.#longLink; this.#longLink = undefined; }
    const pax = this.#pax;
    this.#pax = undefined;
    if (pax) {
      for (const [k, v] of pax) {
        switch (k) {
          case 'path': h.name = v.toString('utf8'); break;
          case 'linkpath': h.linkname = v.toString('utf8'); break;
          case 'size': if (type === 'file') h.size = Number(v.toString()); break;
          case 'uid': h.uid = Number(v.toString()); break;
          case 'gid': h.gid = Number(v.toString()); break;
          case 'mtime': h.mtime = Number(v.toString()); break;
          default:
            if (k.startsWith('SCHILY.xattr.')) (h.xattrs ??= new Map()).set(k.slice(13), v);
        }
      }
      if (!Number.isSafeInteger(h.size) || h.size < 0) throw bad(`bad size for ${JSON.stringify(h.name)}`);
      if (!Number.isFinite(h.mtime)) h.mtime = 0;
    }
    this.#sawEntry = true;
    this.#h.entry(h);

    this.#remaining = h.size;
    this.#pad = (BLOCK - (h.size % BLOCK)) % BLOCK;
    this.#state = enum_.DATA;
  }
}
