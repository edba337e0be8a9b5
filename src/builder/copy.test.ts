/**
 * COPY/ADD on temp directories (planCopy → runCopy): Docker's destination rules, wildcards, errors,
 * ownership and modes, archives, and writes that stay inside the image's root through its symlinks.
 * Ownership is set with lchown (root in CI); the ownership checks skip when not root.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, chmodSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { ScopedFs, InvalidArgumentError, NotFoundError } from '../lib/index.ts';
import { planCopy, runCopy, lookupOwner, chmodValue, type CopySource } from './copy.ts';
import { writeTree, ctxTar, BUSYBOX_PASSWD, BUSYBOX_GROUP } from './fake-backend.test.ts';

const root = process.getuid?.() === 0;

describe('copy: planCopy and runCopy', () => {
  let tmp: string;
  let ctxDir: string;
  let rootfs: string;
  let src: CopySource;
  let dst: ScopedFs;

  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'berth-copy-test-'));
    ctxDir = join(tmp, 'ctx');
    rootfs = join(tmp, 'rootfs');
    mkdirSync(ctxDir);
    mkdirSync(rootfs);
    writeTree(ctxDir, { 'a.txt': 'a\n', 'b.txt': 'b\n', 'c.md': 'c\n', 'dir/x/y.txt': 'y\n', 'dir/top.txt': 't\n' });
    writeTree(rootfs, { 'etc/passwd': BUSYBOX_PASSWD, 'etc/group': BUSYBOX_GROUP, 'existing/': '' });
    src = { fs: new ScopedFs(ctxDir), hashes: new Map() };
    dst = new ScopedFs(rootfs);
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  async function copy(args: string[], dest: string, o: { cmd?: 'COPY' | 'ADD'; workdir?: string; chown?: string; chmod?: string } = {}) {
    const cmd = o.cmd ?? 'COPY';
    const plan = planCopy(cmd, src, args, dest, o.workdir ?? '', `${o.chown ?? ''}\0${o.chmod ?? ''}`);
    await runCopy(cmd, src, plan, dst, lookupOwner(dst, o.chown ?? ''), o.chmod !== undefined ? chmodValue(o.chmod) : undefined);
    return plan;
  }
  const read = (p: string) => readFileSync(join(rootfs, p), 'utf8');

  it('a file to a directory with a trailing slash keeps its name, mode and mtime; parents are made', async () => {
    chmodSync(join(ctxDir, 'a.txt'), 0o640);
    utimesSync(join(ctxDir, 'a.txt'), new Date(1_600_000_000_000), new Date(1_600_000_000_000));
    const plan = await copy(['a.txt'], '/new/dir/');
    assert.equal(read('new/dir/a.txt'), 'a\n');
    const st = statSync(join(rootfs, 'new/dir/a.txt'));
    assert.equal(st.mode & 0o7777, 0o640);
    assert.equal(st.mtimeMs, 1_600_000_000_000);
    assert.equal(statSync(join(rootfs, 'new')).mode & 0o7777, 0o755);
    assert.match(plan.hash, /^file:[0-9a-f]{64}$/);
    assert.equal(plan.dest, '/new/dir/');
  });

  it('a file to a new name; to an existing directory without a slash it goes inside', async () => {
    await copy(['a.txt'], '/opt/renamed.txt');
    assert.equal(read('opt/renamed.txt'), 'a\n');
    await copy(['a.txt'], '/existing');
    assert.equal(read('existing/a.txt'), 'a\n');
  });

  it('relative destinations are under the WORKDIR; `.` is the WORKDIR itself', async () => {
    await copy(['a.txt'], '.', { workdir: '/app' });
    assert.equal(read('app/a.txt'), 'a\n');
    await copy(['b.txt'], 'sub/', { workdir: '/app' });
    assert.equal(read('app/sub/b.txt'), 'b\n');
    await copy(['c.md'], 'c2.md', { workdir: '/app' });
    assert.equal(read('app/c2.md'), 'c\n');
  });

  it('a directory copies its contents, not itself', async () => {
    const plan = await copy(['dir'], '/d');
    assert.equal(read('d/x/y.txt'), 'y\n');
    assert.equal(read('d/top.txt'), 't\n');
    assert.ok(!existsSync(join(rootfs, 'd/dir')));
    assert.match(plan.hash, /^dir:[0-9a-f]{64}$/);
  });

  it('wildcards match in the context; several sources need a destination ending in /', async () => {
    const plan = await copy(['*.txt'], '/w/');
    assert.equal(read('w/a.txt'), 'a\n');
    assert.equal(read('w/b.txt'), 'b\n');
    assert.ok(!existsSync(join(rootfs, 'w/c.md')));
    assert.match(plan.hash, /^multi:[0-9a-f]{64}$/);
    const msg = 'When using COPY with more than one source file, the destination must be a directory and end with a /';
    assert.throws(() => planCopy('COPY', src, ['*.txt'], '/w', '', ''), (e: Error) => e instanceof InvalidArgumentError && e.message === msg);
    assert.throws(() => planCopy('COPY', src, ['a.txt', 'b.txt'], '/w', '', ''), { message: msg });
    assert.throws(() => planCopy('ADD', src, ['a.txt', 'b.txt'], '/w', '', ''), { message: msg.replace('COPY', 'ADD') });
  });

  it('several sources to `.` are refused: dockerd 20.10 checks the destination as written', () => {
    const msg = 'When using COPY with more than one source file, the destination must be a directory and end with a /';
    assert.throws(() => planCopy('COPY', src, ['a.txt', 'b.txt'], '.', '/app', ''), { message: msg });
    assert.throws(() => planCopy('COPY', src, ['*.txt'], '.', '/app', ''), { message: msg });
    assert.equal(planCopy('COPY', src, ['a.txt', 'b.txt'], './', '/app', '').dest, '/app/');
  });

  it('a missing source, and a wildcard matching nothing: Docker\'s messages', () => {
    assert.throws(() => planCopy('COPY', src, ['nope.txt'], '/', '', ''), (e: Error) => e instanceof NotFoundError
      && e.message === 'COPY failed: file not found in build context or excluded by .dockerignore: stat nope.txt: file does not exist');
    assert.throws(() => planCopy('COPY', src, ['*.none'], '/', '', ''), { message: 'COPY failed: no source files were specified' });
    assert.throws(() => planCopy('COPY', src, ['../a.txt'], '/', '', ''), { message: 'COPY failed: forbidden path outside the build context: ../a.txt ()' });
  });

  it('the hash follows the content and mode, not the mtime; chown/chmod change it', () => {
    const h1 = planCopy('COPY', src, ['a.txt'], '/', '', '').hash;
    utimesSync(join(ctxDir, 'a.txt'), new Date(1_500_000_000_000), new Date(1_500_000_000_000));
    assert.equal(planCopy('COPY', src, ['a.txt'], '/', '', '').hash, h1);
    assert.notEqual(planCopy('COPY', src, ['a.txt'], '/', '', '1000\0').hash, h1);
    writeFileSync(join(ctxDir, 'a.txt'), 'A\n');
    const h2 = planCopy('COPY', src, ['a.txt'], '/', '', '').hash;
    assert.notEqual(h2, h1);
    chmodSync(join(ctxDir, 'a.txt'), 0o600);
    assert.notEqual(planCopy('COPY', src, ['a.txt'], '/', '', '').hash, h2);
  });

  it('--chown numbers and names from the image\'s /etc/passwd and /etc/group; new parents get the owner too', { skip: !root && 'needs root' }, async () => {
    await copy(['a.txt'], '/own/deep/', { chown: '1000:1000' });
    for (const p of ['own', 'own/deep', 'own/deep/a.txt']) {
      const st = lstatSync(join(rootfs, p));
      assert.deepEqual([st.uid, st.gid], [1000, 1000], p);
    }
    await copy(['dir'], '/named', { chown: 'nobody' });
    const st = lstatSync(join(rootfs, 'named/x/y.txt'));
    assert.deepEqual([st.uid, st.gid], [65534, 65534]);
    await copy(['b.txt'], '/plain/');
    assert.deepEqual([lstatSync(join(rootfs, 'plain/b.txt')).uid, lstatSync(join(rootfs, 'plain/b.txt')).gid], [0, 0]);
    await copy(['c.md'], '/mixed.md', { chown: 'app:staff' });
    assert.deepEqual([lstatSync(join(rootfs, 'mixed.md')).uid, lstatSync(join(rootfs, 'mixed.md')).gid], [1000, 50]);
  });

  it('--chown with an unknown user or group: Docker\'s messages', () => {
    assert.deepEqual(lookupOwner(dst, 'app'), { uid: 1000, gid: 1000 });
    assert.throws(() => lookupOwner(dst, 'ghost'), { message: 'unable to convert uid/gid chown string to host mapping: can\'t find uid for user ghost: no such user: ghost' });
    assert.throws(() => lookupOwner(dst, 'nobody:nogroup'), { message: 'unable to convert uid/gid chown string to host mapping: can\'t find gid for group nogroup: no such group: nogroup' });
  });

  it('--chmod sets the mode of everything copied; a bad value is refused', async () => {
    await copy(['a.txt'], '/m/', { chmod: '600' });
    assert.equal(statSync(join(rootfs, 'm/a.txt')).mode & 0o7777, 0o600);
    await copy(['dir'], '/md', { chmod: '0750' });
    assert.equal(statSync(join(rootfs, 'md/x')).mode & 0o7777, 0o750);
    assert.equal(statSync(join(rootfs, 'md/x/y.txt')).mode & 0o7777, 0o750);
    assert.throws(() => chmodValue('abc'), { message: 'invalid chmod parameter: abc' });
    assert.throws(() => chmodValue('9'), { message: 'invalid chmod parameter: 9' });
  });

  it('a symlink in the image pointing outside never takes a write out of the rootfs', async () => {
    const outside = `/tmp/berth-escape-${randomBytes(6).toString('hex')}`;
    mkdirSync(outside);
    try {
      writeTree(rootfs, { evil: `->${outside}`, up: '->../../../..', rootlink: '->/', 'file-link': `->${outside}/file` });
      await copy(['a.txt'], '/evil/x');
      assert.equal(read(`${outside.slice(1)}/x`), 'a\n', 'the link is followed inside the rootfs');
      await copy(['b.txt'], '/up/y/');
      assert.equal(read('y/b.txt'), 'b\n');
      await copy(['c.md'], '/rootlink/z.md');
      assert.equal(read('z.md'), 'c\n');
      await copy(['a.txt'], '/file-link');
      assert.deepEqual(readdirSync(outside), [], 'nothing was written outside');
      assert.ok(!lstatSync(join(rootfs, 'evil')).isDirectory() && readlinkSync(join(rootfs, 'evil')) === outside, 'the link itself is kept');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('a symlink named as the source: its target\'s content under the link\'s name (Docker\'s copier uses source.path for the name)', async () => {
    writeTree(ctxDir, { 'link.txt': '->a.txt' });
    await copy(['link.txt'], '/l/');
    assert.ok(lstatSync(join(rootfs, 'l/link.txt')).isFile());
    assert.equal(read('l/link.txt'), 'a\n');
    assert.ok(!existsSync(join(rootfs, 'l/a.txt')));
  });

  it('a symlink inside a copied directory stays a link', async () => {
    writeTree(ctxDir, { 'dir/lnk': '->top.txt' });
    await copy(['dir'], '/d/');
    assert.equal(readlinkSync(join(rootfs, 'd/lnk')), 'top.txt');
  });

  it('ADD unpacks a local .tar.gz (COPY does not); a plain .gz that is no tar is copied', async () => {
    writeFileSync(join(ctxDir, 'app.tar.gz'), gzipSync(await ctxTar({ 'bin/tool': { content: '#!/bin/sh\n', mode: 0o755 }, 'share/doc.txt': 'doc\n' })));
    writeFileSync(join(ctxDir, 'notes.gz'), gzipSync('just text\n'));
    await copy(['app.tar.gz'], '/opt/', { cmd: 'ADD' });
    assert.equal(read('opt/bin/tool'), '#!/bin/sh\n');
    assert.equal(statSync(join(rootfs, 'opt/bin/tool')).mode & 0o7777, 0o755);
    assert.equal(read('opt/share/doc.txt'), 'doc\n');
    assert.ok(!existsSync(join(rootfs, 'opt/app.tar.gz')));
    await copy(['app.tar.gz'], '/copied/');
    assert.ok(existsSync(join(rootfs, 'copied/app.tar.gz')));
    await copy(['notes.gz'], '/n/', { cmd: 'ADD' });
    assert.ok(existsSync(join(rootfs, 'n/notes.gz')));
  });

  it('ADD of an archive whose names climb out is refused, as Docker (breakout), and writes nothing outside', async () => {
    writeFileSync(join(ctxDir, 'bad.tar'), await ctxTar({ '../../../escape.txt': 'x\n' }));
    await assert.rejects(copy(['bad.tar'], '/opt/', { cmd: 'ADD' }), { message: '"../../../escape.txt" is outside of "/opt"' });
    assert.ok(!existsSync(join(tmp, 'escape.txt')) && !existsSync(join(rootfs, 'escape.txt')));
  });

  it('a COPY --from source: an image\'s filesystem, with Docker\'s error for a missing path', async () => {
    const img = join(tmp, 'img');
    writeTree(img, { 'out/bin': 'binary\n' });
    const from: CopySource = { fs: new ScopedFs(img), imageId: 'sha256:' + 'a'.repeat(64) };
    const plan = planCopy('COPY', from, ['/out/bin'], '/usr/local/bin/', '', '');
    await runCopy('COPY', from, plan, dst, { uid: 0, gid: 0 }, undefined);
    assert.equal(read('usr/local/bin/bin'), 'binary\n');
    assert.throws(() => planCopy('COPY', from, ['/nope'], '/', '', ''), { message: 'COPY failed: stat /nope: file does not exist' });
  });
});
