import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, readdirSync, readFileSync, lstatSync, readlinkSync, rmSync, linkSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { ScopedFs, preserveTrailingDotOrSeparator } from './scoped-fs.ts';
import { encodeHeader, extractTar, packPath, rebaseTar, type TarHead } from './tar-copy.ts';

const root = process.getuid?.() === 0;

function head(name: string, type: TarHead['type'], extra: Partial<TarHead> = {}): TarHead {
  return { name, type, mode: type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, size: 0, mtime: 1_700_000_000, linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0, ...extra };
}

/** A tar from entries (file data given as strings). */
function tar(entries: [TarHead, string?][]): Buffer {
  const parts: Buffer[] = [];
  for (const [h, data = ''] of entries) {
    const body = Buffer.from(data);
    parts.push(encodeHeader({ ...h, size: h.type === 'file' ? body.length : 0 }));
    if (h.type === 'file' && body.length) parts.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** Every path below dir (relative), sorted. */
function listAll(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const n of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${n}` : n;
    out.push(r);
    if (lstatSync(join(dir, r)).isDirectory()) out.push(...listAll(dir, r));
  }
  return out;
}

test('encodeHeader writes the bytes Go writes for Docker (GET archive of /etc/hostname)', () => {
  const b = encodeHeader(head('hostname', 'file', { size: 13, mtime: 0o15301045042, uname: 'root', gname: 'root' }));
  assert.equal(b.length, 512);
  assert.equal(b.toString('latin1', 0, 9), 'hostname\0');
  assert.equal(b.toString('latin1', 100, 157), '0100644\x000000000\x000000000\x0000000000015\x0015301045042\x00012604\x00 0');
  assert.equal(b.toString('latin1', 257, 265), 'ustar\x0000');
  assert.equal(b.toString('latin1', 265, 270), 'root\0');
  assert.equal(b.toString('latin1', 297, 302), 'root\0');
  assert.equal(b.toString('latin1', 329, 345), '0000000\x000000000\0');
});

test('long names use the USTAR prefix, then PAX', () => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(90)}`;
  const b = encodeHeader(head(long, 'file'));
  assert.equal(b.length, 512);
  assert.equal(b.toString('latin1', 345, 345 + 120), 'd'.repeat(120));
  const huge = 'x'.repeat(300);
  const p = encodeHeader(head(huge, 'file'));
  assert.ok(p.length > 512);
  assert.equal(p[156], 'x'.charCodeAt(0));
  assert.match(p.toString('latin1', 512, 1024), new RegExp(`path=${huge}\n`));
});

test('preserveTrailingDotOrSeparator', () => {
  assert.equal(preserveTrailingDotOrSeparator('/a', '/a/'), '/a/');
  assert.equal(preserveTrailingDotOrSeparator('/a', '/a/.'), '/a/.');
  assert.equal(preserveTrailingDotOrSeparator('/', '/.'), '/.');
  assert.equal(preserveTrailingDotOrSeparator('/a', 'a'), '/a');
});

describe('ScopedFs', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-scoped-'));
    mkdirSync(join(dir, 'etc'));
    writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
    symlinkSync('/etc', join(dir, 'abs'));
    symlinkSync('../../../../..', join(dir, 'up'));
    symlinkSync('loop', join(dir, 'loop'));
    mkdirSync(join(dir, 'vol'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('symlinks and .. resolve inside the root', () => {
    const fs = new ScopedFs(dir);
    assert.equal(fs.resolve('/abs/passwd'), '/etc/passwd');
    assert.equal(fs.resolve('/up/etc/passwd'), '/etc/passwd');
    assert.equal(fs.resolve('/../../../etc'), '/etc');
    assert.equal(fs.resolve('/nonexistent/../abs'), '/etc');
    assert.equal(fs.host(fs.resolve('/up')), dir);
    assert.throws(() => fs.resolve('/loop'), /too many links/);
  });

  test('resolvePath keeps the last element and the trailer', () => {
    const fs = new ScopedFs(dir);
    assert.deepEqual(fs.resolvePath('abs'), { resolved: '/abs', abs: '/abs' });
    assert.deepEqual(fs.resolvePath('/abs/passwd'), { resolved: '/etc/passwd', abs: '/abs/passwd' });
    assert.deepEqual(fs.resolvePath('/abs/'), { resolved: '/etc/', abs: '/abs/' });
    assert.deepEqual(fs.resolvePath('/abs/.'), { resolved: '/etc/.', abs: '/abs/.' });
  });

  test('mounts replace parts of the tree', () => {
    const src = join(dir, 'vol');
    const fs = new ScopedFs(dir, [{ destination: '/etc/hosts', source: join(dir, 'etc/passwd') }, { destination: '/data', source: src }]);
    assert.equal(fs.host('/etc/hosts'), join(dir, 'etc/passwd'));
    assert.equal(fs.host('/data/x'), join(src, 'x'));
    assert.equal(fs.host('/database'), join(dir, 'database'));
  });
});

describe('extractTar: a hostile archive writes nothing outside the root', () => {
  let base = '';
  let rootfs = '';
  let outside = '';
  const opts = { noOverwriteDirNonDir: true, noLchown: !root };
  before(() => {
    base = mkdtempSync(join(tmpdir(), 'berth-hostile-'));
    rootfs = join(base, 'rootfs');
    outside = join(base, 'outside');
    mkdirSync(join(rootfs, 'tmp'), { recursive: true });
    mkdirSync(outside);
    // a symlink the container made, pointing at the host's view of "outside"
    symlinkSync(outside, join(rootfs, 'tmp', 'out'));
    symlinkSync('../../..', join(rootfs, 'tmp', 'rel'));
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  const put = (entries: [TarHead, string?][], dest = '/tmp') => extractTar(Readable.from([tar(entries)]), new ScopedFs(rootfs), dest, opts);

  test('absolute names land below the destination', async () => {
    await put([[head('/abs.txt', 'file'), 'a']]);
    assert.equal(readFileSync(join(rootfs, 'tmp/abs.txt'), 'utf8'), 'a');
  });

  test('.. out of the destination is refused', async () => {
    await assert.rejects(put([[head('../../../../escape.txt', 'file'), 'x']]), /"\.\.\/\.\.\/\.\.\/\.\.\/escape\.txt" is outside of "\/tmp"/);
    assert.ok(!existsSync(join(base, 'escape.txt')));
  });

  test('a symlink escaping the destination is refused; an absolute one is made but resolves in the root', async () => {
    await assert.rejects(put([[head('up', 'symlink', { linkname: '../../../../..' })]]), /invalid symlink "\/tmp\/up" -> "\.\.\/\.\.\/\.\.\/\.\.\/\.\."/);
    await put([[head('root', 'symlink', { linkname: '/' })], [head('root/pwned', 'file'), 'p'], [head('root/etc/shadow', 'file'), 's']]);
    assert.equal(readlinkSync(join(rootfs, 'tmp/root')), '/');
    assert.equal(readFileSync(join(rootfs, 'pwned'), 'utf8'), 'p');
    assert.equal(readFileSync(join(rootfs, 'etc/shadow'), 'utf8'), 's');
  });

  test('writing through symlinks already in the rootfs stays in the rootfs', async () => {
    await put([[head('out/file', 'file'), 'o'], [head('rel/relfile', 'file'), 'r']]);
    assert.deepEqual(readdirSync(outside), []);
    assert.equal(readFileSync(join(rootfs, outside, 'file'), 'utf8'), 'o');
    assert.equal(readFileSync(join(rootfs, 'relfile'), 'utf8'), 'r');
  });

  test('hardlinks out of the destination are refused; absolute ones stay inside', async () => {
    await assert.rejects(put([[head('hl', 'link', { linkname: '../../etc/passwd' })]]), /invalid hardlink/);
    writeFileSync(join(rootfs, 'tmp/target'), 't');
    await put([[head('hl2', 'link', { linkname: '/target' })]]);
    assert.equal(lstatSync(join(rootfs, 'tmp/hl2')).ino, lstatSync(join(rootfs, 'tmp/target')).ino);
    await assert.rejects(put([[head('hl3', 'link', { linkname: '/../../../../etc/hostname' })]]), /invalid hardlink "\/etc\/hostname"/);
    await assert.rejects(put([[head('hl4', 'link', { linkname: 'nosuch' })]]), /no such file or directory/);
  });

  test('nothing at all appeared outside the rootfs', () => {
    assert.deepEqual(readdirSync(base).sort(), ['outside', 'rootfs']);
    assert.deepEqual(readdirSync(outside), []);
  });

  test('noOverwriteDirNonDir keeps a directory from becoming a file', async () => {
    mkdirSync(join(rootfs, 'tmp/adir'));
    await assert.rejects(put([[head('adir', 'file'), 'x']]), /cannot overwrite directory "\/tmp\/adir" with non-directory "\/tmp"/);
  });
});

test('packPath and extractTar round-trip a tree with modes, symlinks and hardlinks', async () => {
  const base = mkdtempSync(join(tmpdir(), 'berth-roundtrip-'));
  try {
    const src = join(base, 'src');
    mkdirSync(join(src, 'tree/sub'), { recursive: true });
    writeFileSync(join(src, 'tree/a.txt'), 'alpha');
    chmodSync(join(src, 'tree/a.txt'), 0o640);
    writeFileSync(join(src, 'tree/sub/run.sh'), '#!/bin/sh\n');
    chmodSync(join(src, 'tree/sub/run.sh'), 0o755);
    chmodSync(join(src, 'tree/sub'), 0o700);
    symlinkSync('../a.txt', join(src, 'tree/sub/link'));
    symlinkSync('/etc/passwd', join(src, 'tree/abs'));
    linkSync(join(src, 'tree/a.txt'), join(src, 'tree/hard'));
    const out = new PassThrough();
    const fs = new ScopedFs(base);
    const packed = packPath(fs, { dir: '/src', base: 'tree', rebase: 'copy' }, out).then(() => out.end());
    const dst = join(base, 'dst');
    mkdirSync(dst);
    await Promise.all([packed, extractTar(out, fs, '/dst', { noOverwriteDirNonDir: true, noLchown: !root })]);
    assert.deepEqual(listAll(join(dst, 'copy')), listAll(join(src, 'tree')));
    for (const p of listAll(join(src, 'tree'))) {
      const a = lstatSync(join(src, 'tree', p));
      const b = lstatSync(join(dst, 'copy', p));
      assert.equal(b.mode, a.mode, p);
      if (a.isSymbolicLink()) assert.equal(readlinkSync(join(dst, 'copy', p)), readlinkSync(join(src, 'tree', p)));
      else if (a.isFile()) {
        assert.equal(readFileSync(join(dst, 'copy', p), 'utf8'), readFileSync(join(src, 'tree', p), 'utf8'));
        assert.equal(Math.floor(b.mtimeMs / 1000), Math.floor(a.mtimeMs / 1000), p);
      }
    }
    assert.equal(lstatSync(join(dst, 'copy/hard')).ino, lstatSync(join(dst, 'copy/a.txt')).ino);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('rebaseTar renames the first path element', async () => {
  const r = await rebaseTar(Readable.from([tar([[head('old/', 'dir')], [head('old/f', 'file'), 'x']])]), 'old', 'new');
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  const b = Buffer.concat(chunks);
  assert.equal(b.toString('latin1', 0, 4), 'new/');
  assert.equal(b.toString('latin1', 512, 517), 'new/f');
});
