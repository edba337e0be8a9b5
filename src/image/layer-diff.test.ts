/** overlayDiffTar: an overlay upper dir as Docker's overlay2 Diff writes it (root: mknod, trusted.* xattrs). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, linkSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { overlayDiffTar } from './layer-diff.ts';
import { TarParser, type TarHeader } from '../lib/index.ts';

const isRoot = process.getuid?.() === 0;

test('whiteouts, opaque dirs, hardlinks, symlinks and xattrs become Docker\'s tar entries, in a stable order', { skip: !isRoot && 'needs root (mknod, trusted.* xattrs)' }, async () => {
  const dir = mkdtempSync('/var/tmp/berth-diff-test-');
  try {
    const u = join(dir, 'upper');
    mkdirSync(join(u, 'etc/opaque'), { recursive: true });
    writeFileSync(join(u, 'etc/new.conf'), 'x=1\n');
    linkSync(join(u, 'etc/new.conf'), join(u, 'etc/hard'));
    symlinkSync('new.conf', join(u, 'etc/link'));
    writeFileSync(join(u, 'etc/opaque/kept'), '');
    execFileSync('mknod', [join(u, 'etc/gone'), 'c', '0', '0']);
    execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(u, 'etc/opaque')]);
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'hi', join(u, 'etc/new.conf')]);
    const chunks: Buffer[] = [];
    for await (const c of overlayDiffTar(u)) chunks.push(c);
    const tar = Buffer.concat(chunks);
    const seen: (Pick<TarHeader, 'name' | 'type' | 'linkname' | 'size'> & { x?: string })[] = [];
    let data = '';
    const p = new TarParser({
      entry: (h) => { seen.push({ name: h.name, type: h.type, linkname: h.linkname, size: h.size, ...(h.xattrs?.size ? { x: [...h.xattrs].map(([k, v]) => `${k}=${v}`).join(',') } : {}) }); },
      data: (c) => { data += c.toString(); },
      endEntry: () => {},
    });
    p.write(tar);
    p.finish();
    assert.deepEqual(seen, [
      { name: 'etc/', type: 'dir', linkname: '', size: 0 },
      { name: 'etc/.wh.gone', type: 'file', linkname: '', size: 0 },
      { name: 'etc/hard', type: 'file', linkname: '', size: 4 },
      { name: 'etc/link', type: 'symlink', linkname: 'new.conf', size: 0 },
      { name: 'etc/new.conf', type: 'link', linkname: 'etc/hard', size: 0 },
      { name: 'etc/opaque/', type: 'dir', linkname: '', size: 0 },
      { name: 'etc/opaque/.wh..wh..opq', type: 'file', linkname: '', size: 0 },
      { name: 'etc/opaque/kept', type: 'file', linkname: '', size: 0 },
    ].map((e) => (e.name === 'etc/hard' ? { ...e, x: 'user.note=hi' } : e)));
    assert.equal(data, 'x=1\n');
    // the same tree gives the same bytes (the diff ID is stable)
    const again: Buffer[] = [];
    for await (const c of overlayDiffTar(u)) again.push(c);
    assert.ok(Buffer.concat(again).equals(tar));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
