/**
 * The build context as dockerd receives it: a tar (plain or gzip) unpacked into a scratch directory with
 * every file's content hashed; names that climb out are kept inside; a symlink the archive made is never
 * written through.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { InvalidArgumentError } from '../lib/index.ts';
import { unpackContext } from './context.ts';
import { ctxTar } from './fake-backend.test.ts';

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

describe('context: unpackContext', () => {
  let tmp: string;
  let dir: string;
  beforeEach(() => { tmp = mkdtempSync(join(tmpdir(), 'berth-ctx-test-')); dir = join(tmp, 'ctx'); });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('a gzip\'d context: files with their modes and mtimes, and the content hashes', async () => {
    const tar = await ctxTar({ Dockerfile: 'FROM scratch\n', 'src/': { type: 'directory', mtime: 1600000000 }, 'src/run.sh': { content: '#!/bin/sh\n', mode: 0o755, mtime: 1600000000 } });
    const ctx = await unpackContext(Readable.from([gzipSync(tar)]), dir);
    ctx.materialize();
    assert.equal(ctx.dir, dir);
    assert.equal(readFileSync(join(dir, 'Dockerfile'), 'utf8'), 'FROM scratch\n');
    const st = statSync(join(dir, 'src/run.sh'));
    assert.equal(st.mode & 0o7777, 0o755);
    assert.equal(st.mtimeMs, 1600000000 * 1000);
    assert.equal(statSync(join(dir, 'src')).mtimeMs, 1600000000 * 1000);
    assert.deepEqual(Object.fromEntries(ctx.hashes), { Dockerfile: sha('FROM scratch\n'), 'src/run.sh': sha('#!/bin/sh\n') });
  });

  it('names with `..` or a leading / stay inside the directory', async () => {
    const tar = await ctxTar({ '../x': 'x', '../../y/z': 'z', '/abs': 'abs', 'a/../../b': 'b' });
    const ctx = await unpackContext(Readable.from([tar]), dir);
    assert.equal(readFileSync(join(dir, 'x'), 'utf8'), 'x');
    assert.equal(readFileSync(join(dir, 'y/z'), 'utf8'), 'z');
    assert.equal(readFileSync(join(dir, 'abs'), 'utf8'), 'abs');
    assert.equal(readFileSync(join(dir, 'b'), 'utf8'), 'b');
    assert.ok(!existsSync(join(tmp, 'x')) && !existsSync(join(tmp, 'y')) && !existsSync(join(tmp, 'b')));
    assert.deepEqual([...ctx.hashes.keys()].sort(), ['abs', 'b', 'x', 'y/z']);
  });

  it('a file through a symlink the archive made is refused; nothing is written where the link points', async () => {
    const outside = join(tmp, 'outside');
    const tar = await ctxTar({ 'link': { type: 'symlink', linkname: outside }, 'link/evil': 'pwned' });
    await assert.rejects(unpackContext(Readable.from([tar]), dir), (e: Error) => e instanceof InvalidArgumentError
      && e.message === 'invalid symlink "link" in the build context: "link/evil" would be written through it');
    assert.ok(!existsSync(join(outside, 'evil')));
    const tar2 = await ctxTar({ 'd/up': { type: 'symlink', linkname: '../..' }, 'd/up/deep/evil': 'pwned' });
    await assert.rejects(unpackContext(Readable.from([tar2]), join(tmp, 'ctx2')), { message: 'invalid symlink "d/up" in the build context: "d/up/deep/evil" would be written through it' });
    assert.ok(!existsSync(join(tmp, 'deep')));
  });

  it('symlinks themselves are kept as links; a hard link shares its target\'s content and hash', async () => {
    const tar = await ctxTar({ 'a.txt': 'a', 'l': { type: 'symlink', linkname: 'a.txt' } });
    const ctx = await unpackContext(Readable.from([tar]), dir);
    assert.equal(readlinkSync(join(dir, 'l')), 'a.txt');
    assert.ok(lstatSync(join(dir, 'l')).isSymbolicLink());
    assert.ok(!ctx.hashes.has('l'));
  });

  it('a large file\'s data is there after materialize(), hashed while it arrived', async () => {
    const big = Buffer.alloc(600 << 10, 7);
    big.write('head');
    const tar = await ctxTar({ 'big.bin': { content: big, mode: 0o600, mtime: 1600000000 } });
    const ctx = await unpackContext(Readable.from([tar]), dir);
    assert.equal(ctx.hashes.get('big.bin'), sha(big));
    assert.equal(statSync(join(dir, 'big.bin')).size, big.length);
    ctx.materialize();
    assert.ok(readFileSync(join(dir, 'big.bin')).equals(big));
    assert.equal(statSync(join(dir, 'big.bin')).mtimeMs, 1600000000 * 1000);
    assert.equal(statSync(join(dir, 'big.bin')).mode & 0o7777, 0o600);
  });
});
