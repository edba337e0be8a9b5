/**
 * Layer application into a temp dir, without root where possible (entries owned by the caller).
 * Hostile layers must be refused and must write nothing outside the layer dir.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, lstatSync, readlinkSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { applyTarStream } from './layer-unpack.ts';
import { mkTar, type TarEntrySpec as E } from './testing.ts';

const isRoot = process.getuid?.() === 0;

let base: string;
let outside: string;
before(() => {
  base = mkdtempSync('/var/tmp/berth-apply-');
  outside = join(base, 'outside');
  mkdirSync(outside);
});
after(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
async function apply(buf: Buffer): Promise<{ dir: string; diffId: string; size: number }> {
  const dir = join(base, `layer${n++}`);
  mkdirSync(join(dir, 'diff'), { recursive: true });
  const r = await applyTarStream(Readable.from([buf]), join(dir, 'diff'), join(dir, 'wh'));
  return { dir: join(dir, 'diff'), ...r };
}

test('files, dirs, symlinks and hardlinks land with modes, times, diff ID and Docker\'s size', async () => {
  const buf = await mkTar([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/passwd', content: 'root:x:0:0\n', mode: 0o640 },
    { name: 'bin/tool', content: '#!/bin/sh\n', mode: 0o4755 },
    { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' },
    { name: 'bin/tool2', type: 'link', linkname: 'bin/tool' },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
  ]);
  const r = await apply(buf);
  assert.equal(r.diffId, 'sha256:' + createHash('sha256').update(buf).digest('hex'));
  // directory.Size: file bytes + symlink target bytes, hardlinks once, dirs not counted
  assert.equal(r.size, 11 + 10 + '/bin/busybox'.length);
  assert.equal(readFileSync(join(r.dir, 'etc/passwd'), 'utf8'), 'root:x:0:0\n');
  assert.equal(lstatSync(join(r.dir, 'etc/passwd')).mode & 0o7777, 0o640);
  assert.equal(lstatSync(join(r.dir, 'bin/tool')).mode & 0o7777, 0o4755);
  assert.equal(lstatSync(join(r.dir, 'tmp')).mode & 0o7777, 0o1777);
  assert.equal(readlinkSync(join(r.dir, 'bin/sh')), '/bin/busybox');
  assert.equal(lstatSync(join(r.dir, 'bin/tool2')).ino, lstatSync(join(r.dir, 'bin/tool')).ino);
  assert.equal(lstatSync(join(r.dir, 'bin/tool')).nlink, 2);
  assert.equal(lstatSync(join(r.dir, 'etc')).mtimeMs, 1795392000 * 1000);
  assert.equal(lstatSync(join(r.dir, 'bin')).mode & 0o7777, 0o755, 'implicit parent dirs are 0755');
});

test('a later entry replaces an earlier one; a file can become a directory', async () => {
  const r = await apply(await mkTar([
    { name: 'a', content: 'file' },
    { name: 'a/', type: 'directory' },
    { name: 'a/in', content: 'x' },
    { name: 'l', type: 'symlink', linkname: '/etc/passwd' },
    { name: 'l', content: 'now a file' },
  ]));
  assert.ok(lstatSync(join(r.dir, 'a')).isDirectory());
  assert.equal(readFileSync(join(r.dir, 'l'), 'utf8'), 'now a file');
  assert.equal(r.size, 1 + 10);
});

test('user xattrs from PAX SCHILY.xattr records are set', async () => {
  const r = await apply(await mkTar([{ name: 'x.txt', content: 'hi', pax: { 'SCHILY.xattr.user.fixture': 'hello' } }]));
  const out = execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'user.fixture', join(r.dir, 'x.txt')]).toString();
  assert.equal(out, 'hello');
});

test('whiteouts become 0:0 char devices and .wh..wh..opq the opaque xattr', { skip: !isRoot && 'needs root (mknod, trusted.* xattrs)' }, async () => {
  const r = await apply(await mkTar([
    { name: 'd/', type: 'directory' },
    { name: 'd/.wh.gone', content: '' },
    { name: 'd/.wh.gone2', content: '' },
    { name: 'o/', type: 'directory' },
    { name: 'o/.wh..wh..opq', content: '' },
    { name: 'o/new', content: 'n' },
  ]));
  for (const w of ['d/gone', 'd/gone2']) {
    const st = lstatSync(join(r.dir, w));
    assert.ok(st.isCharacterDevice(), `${w} is a char device`);
    assert.equal(st.rdev, 0);
  }
  assert.deepEqual(readdirSync(join(r.dir, 'd')).sort(), ['gone', 'gone2']);
  assert.deepEqual(readdirSync(join(r.dir, 'o')), ['new']);
  assert.equal(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'trusted.overlay.opaque', join(r.dir, 'o')]).toString(), 'y');
  assert.deepEqual(readdirSync(join(r.dir, '..')).sort(), ['diff'], 'the whiteout template is gone');
});

const hostile: [string, E[]][] = [
  ['absolute path', [{ name: '/etc/evil', content: 'x' }]],
  ['.. escape', [{ name: '../outside/evil', content: 'x' }]],
  ['.. escape after a component', [{ name: 'a/../../outside/evil', content: 'x' }]],
  ['write through a symlink to outside', [{ name: 'l', type: 'symlink', linkname: '../../outside' }, { name: 'l/evil', content: 'x' }]],
  ['write through an absolute symlink', [{ name: 'l', type: 'symlink', linkname: '/' }, { name: 'l/evil', content: 'x' }]],
  ['hardlink out of the layer', [{ name: 'h', type: 'link', linkname: '../outside/target' }]],
  ['hardlink to an absolute path', [{ name: 'h', type: 'link', linkname: '/etc/passwd' }]],
  ['hardlink through a symlinked dir', [{ name: 'l', type: 'symlink', linkname: '/etc' }, { name: 'h', type: 'link', linkname: 'l/passwd' }]],
  ['hardlink to something not in the layer', [{ name: 'h', type: 'link', linkname: 'nope' }]],
  ['whiteout through a symlink', [{ name: 'l', type: 'symlink', linkname: '/etc' }, { name: 'l/.wh.passwd', content: '' }]],
];

for (const [what, entries] of hostile) {
  test(`refuses a hostile layer: ${what}`, async () => {
    await assert.rejects(apply(await mkTar(entries)), (e: Error) => {
      assert.equal(e.name, 'InvalidArgumentError');
      assert.match(e.message, /^refusing layer entry /);
      return true;
    });
    assert.deepEqual(readdirSync(outside), [], 'nothing written outside');
  });
}

test('a truncated tar is refused', async () => {
  const buf = await mkTar([{ name: 'a', content: 'x'.repeat(5000) }]);
  await assert.rejects(apply(buf.subarray(0, 2048)), { name: 'InvalidArgumentError', message: /truncated/ });
});

test('a corrupted tar header is refused', async () => {
  const buf = Buffer.from(await mkTar([{ name: 'a', content: 'x' }]));
  buf[10] = 0x41;
  await assert.rejects(apply(buf), { name: 'InvalidArgumentError', message: /bad checksum/ });
});

test('gzip layers: applyTarStream takes the decompressed stream; bad gzip is an InvalidArgumentError via unpackFile', async () => {
  const { unpackFile } = await import('./layer-unpack.ts');
  const { writeFileSync } = await import('node:fs');
  const plain = await mkTar([{ name: 'f', content: 'gz' }]);
  const good = join(base, 'good.tgz');
  writeFileSync(good, gzipSync(plain));
  mkdirSync(join(base, 'gz1/diff'), { recursive: true });
  const r = await unpackFile(good, join(base, 'gz1/diff'), join(base, 'gz1/wh'));
  assert.equal(r.diffId, 'sha256:' + createHash('sha256').update(plain).digest('hex'));
  const bad = join(base, 'bad.tgz');
  const z = gzipSync(plain);
  writeFileSync(bad, z.subarray(0, z.length - 12));
  mkdirSync(join(base, 'gz2/diff'), { recursive: true });
  await assert.rejects(unpackFile(bad, join(base, 'gz2/diff'), join(base, 'gz2/wh')), { name: 'InvalidArgumentError' });
});
