/**
 * Tar headers for the layers berth writes itself (commit, and the builder's steps): ustar, with a PAX
 * extended header when a name or link is too long, a number too large, or xattrs ride along (SCHILY.xattr.*),
 * as Go's archive/tar writes them.
 */
import type { TarHeader } from './tar-parser.ts';

const TYPE: Record<TarHeader['type'], string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' } as Record<TarHeader['type'], string>;

function octal(b: Buffer, off: number, len: number, v: number): boolean {
  const s = Math.trunc(v).toString(8);
  if (s.length > len - 1) return false;
  b.write(s.padStart(len - 1, '0') + '\0', off, len, 'ascii');
  return true;
}

function paxRecord(key: string, value: Buffer): Buffer {
  // "<len> <key>=<value>\n", where len counts itself
  const rest = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = rest.length + 1;
  while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
  return Buffer.concat([Buffer.from(String(len)), rest]);
}

function block(name: string, type: string, mode: number, uid: number, gid: number, size: number, mtime: number, linkname: string, major: number, minor: number): { b: Buffer; ok: boolean } {
  const b = Buffer.alloc(512);
  let ok = Buffer.byteLength(name) <= 100 && Buffer.byteLength(linkname) <= 100;
  b.write(name, 0, 100, 'utf8');
  ok = octal(b, 100, 8, mode & 0o7777) && ok;
  ok = octal(b, 108, 8, uid) && ok;
  ok = octal(b, 116, 8, gid) && ok;
  ok = octal(b, 124, 12, size) && ok;
  ok = octal(b, 136, 12, mtime) && ok;
  b.write(type, 156, 1, 'ascii');
  b.write(linkname, 157, 100, 'utf8');
  b.write('ustar\0' + '00', 257, 'latin1');
  octal(b, 329, 8, major);
  octal(b, 337, 8, minor);
  b.write('        ', 148, 'ascii');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return { b, ok };
}

/** The header block(s) of one entry; its data (h.size bytes, then padding to 512) follows. */
export function encodeHeader(h: TarHeader): Buffer {
  const t = TYPE[h.type];
  const mtime = Math.floor(h.mtime);
  const main = block(h.name, t, h.mode, h.uid, h.gid, h.size, mtime, h.linkname, h.devmajor, h.devminor);
  if (main.ok && !h.xattrs?.size) return main.b;
  const recs: Buffer[] = [];
  if (Buffer.byteLength(h.name) > 100) recs.push(paxRecord('path', Buffer.from(h.name)));
  if (Buffer.byteLength(h.linkname) > 100) recs.push(paxRecord('linkpath', Buffer.from(h.linkname)));
  if (h.uid > 0o7777777) recs.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if (h.gid > 0o7777777) recs.push(paxRecord('gid', Buffer.from(String(h.gid))));
  if (h.size > 0o77777777777) recs.push(paxRecord('size', Buffer.from(String(h.size))));
  for (const [k, v] of [...(h.xattrs ?? new Map<string, Buffer>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) recs.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const body = Buffer.concat(recs);
  const paxName = `PaxHeaders.0/${h.name.replace(/\/$/, '').split('/').pop()}`.slice(0, 100);
  const pax = block(paxName, 'x', 0o644, 0, 0, body.length, mtime, '', 0, 0).b;
  const fit = (n: number) => Math.min(n, 0o7777777);
  const short = block(h.name.slice(0, 100), t, h.mode, fit(h.uid), fit(h.gid), h.size > 0o77777777777 ? 0 : h.size, mtime, h.linkname.slice(0, 100), h.devmajor, h.devminor).b;
  return Buffer.concat([pax, body, Buffer.alloc((512 - (body.length % 512)) % 512), short]);
}

export function padding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(1024);
