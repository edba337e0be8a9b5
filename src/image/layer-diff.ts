/**
 * A layer tar from an overlay upper dir (docker commit; the builder's steps), as Docker's overlay2 Diff
 * writes it: whiteouts (char devices 0:0) become `.wh.NAME` files, opaque dirs (trusted.overlay.opaque=y)
 * get a `.wh..wh..opq` entry, hardlinks within the layer are links, other xattrs ride along as PAX records.
 * Entries come parents first, names sorted, so the same tree always gives the same tar (and diff ID).
 */
import { lstatSync, readdirSync, readlinkSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { encodeHeader, runInHelper, type TarHead } from '../lib/index.ts';

const padding = (size: number) => Buffer.alloc((512 - (size % 512)) % 512);
const END_OF_ARCHIVE = Buffer.alloc(1024);

/** Every xattr under dir, by absolute path (one getfattr for the whole tree; Node cannot read xattrs). */
async function readXattrs(dir: string): Promise<Map<string, Map<string, Buffer>>> {
  const out = new Map<string, Map<string, Buffer>>();
  // through the shell helper: a fork of the daemon itself costs more than getfattr (its stderr lines are ignored below)
  const r = await runInHelper('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', dir]);
  let cur: Map<string, Buffer> | undefined;
  for (const line of r.output.split('\n')) {
    if (line.startsWith('getfattr: ')) continue;
    if (line.startsWith('# file: ')) {
      const path = line.slice(8).replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
      cur = new Map();
      out.set(Buffer.from(path, 'latin1').toString('utf8'), cur);
      continue;
    }
    const eq = line.indexOf('=');
    if (!cur || eq <= 0) continue;
    const v = line.slice(eq + 1);
    cur.set(line.slice(0, eq), v.startsWith('0x') ? Buffer.from(v.slice(2), 'hex') : Buffer.from(v.replace(/^"|"$/g, '')));
  }
  return out;
}

/** xattrs that do not belong in a layer tar: overlayfs' own. */
function keepXattr(name: string): boolean {
  return !name.startsWith('trusted.overlay.');
}

/** `counted.size` ends as Docker's directory.Size of the tree (every non-directory once, hardlinks once). */
export async function* overlayDiffTar(upper: string, counted: { size: number } = { size: 0 }): AsyncGenerator<Buffer> {
  const xattrs = await readXattrs(upper);
  const seen = new Map<string, string>(); // dev:ino → first name (hardlinks)
  const sized = new Set<string>();
  const buf = Buffer.allocUnsafe(1 << 20);

  function* walk(rel: string): Generator<{ rel: string; abs: string }> {
    const abs = rel ? join(upper, rel) : upper;
    for (const name of readdirSync(abs).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      yield { rel: r, abs: join(upper, r) };
      const st = lstatSync(join(upper, r));
      if (st.isDirectory()) yield* walk(r);
    }
  }

  for (const { rel, abs } of walk('')) {
    const st = lstatSync(abs, { bigint: true });
    const mode = Number(st.mode);
    const base = { uid: Number(st.uid), gid: Number(st.gid), mtime: Math.floor(Number(st.mtimeMs) / 1000), linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0, size: 0 };
    if (!st.isDirectory() && !sized.has(`${st.dev}:${st.ino}`)) { sized.add(`${st.dev}:${st.ino}`); counted.size += Number(st.size); }
    const xa = new Map([...(xattrs.get(abs) ?? new Map<string, Buffer>())].filter(([k]) => keepXattr(k)));
    const withX = (h: TarHead): TarHead => (xa.size ? { ...h, xattrs: xa } : h);
    if (st.isCharacterDevice() && st.rdev === 0n) {
      const slash = rel.lastIndexOf('/');
      const name = slash < 0 ? `.wh.${rel}` : `${rel.slice(0, slash)}/.wh.${rel.slice(slash + 1)}`;
      yield encodeHeader({ ...base, name, type: 'file', mode: 0o600 });
      continue;
    }
    if (st.isDirectory()) {
      yield encodeHeader(withX({ ...base, name: `${rel}/`, type: 'dir', mode: mode & 0o7777 }));
      if (xattrs.get(abs)?.get('trusted.overlay.opaque')?.toString() === 'y') {
        yield encodeHeader({ ...base, name: `${rel}/.wh..wh..opq`, type: 'file', mode: mode & 0o777 });
      }
      continue;
    }
    if (st.isSymbolicLink()) {
      yield encodeHeader(withX({ ...base, name: rel, type: 'symlink', mode: mode & 0o7777, linkname: readlinkSync(abs) }));
      continue;
    }
    if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
      const rdev = Number(st.rdev);
      yield encodeHeader(withX({
        ...base, name: rel, type: st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : 'block', mode: mode & 0o7777,
        devmajor: (rdev >> 8) & 0xfff, devminor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00),
      }));
      continue;
    }
    if (!st.isFile()) continue; // sockets: Docker skips them too
    const key = `${st.dev}:${st.ino}`;
    if (st.nlink > 1n) {
      const first = seen.get(key);
      if (first !== undefined) {
        yield encodeHeader({ ...base, name: rel, type: 'link', mode: mode & 0o7777, linkname: first });
        continue;
      }
      seen.set(key, rel);
    }
    const size = Number(st.size);
    yield encodeHeader(withX({ ...base, name: rel, type: 'file', mode: mode & 0o7777, size }));
    const fd = openSync(abs, 'r');
    try {
      let left = size;
      let pos = 0;
      while (left > 0) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, left), pos);
        if (n === 0) break;
        yield Buffer.from(buf.subarray(0, n));
        left -= n;
        pos += n;
      }
      if (left > 0) yield Buffer.alloc(left); // the file shrank while we read it: keep the header honest
    } finally {
      closeSync(fd);
    }
    yield padding(size);
  }
  yield END_OF_ARCHIVE;
}
