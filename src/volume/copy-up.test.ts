import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, readlinkSync, statSync, lstatSync, chmodSync, chownSync, rmSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyUp, resolveInRoot } from './copy-up.ts';

const root = process.getuid?.() === 0;

function tree(): { rootfs: string; vol: string; base: string } {
  const base = mkdtempSync(join(tmpdir(), 'berth-copyup-'));
  const rootfs = join(base, 'rootfs');
  const vol = join(base, 'vol');
  mkdirSync(join(rootfs, 'etc', 'app', 'conf.d'), { recursive: true });
  mkdirSync(vol);
  return { rootfs, vol, base };
}

test('resolveInRoot follows symlinks with the rootfs as /, never above it', async (t) => {
  const { rootfs, base } = tree();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  symlinkSync('/etc/app', join(rootfs, 'abs'));
  symlinkSync('../../../../../etc', join(rootfs, 'etc', 'app', 'up'));
  symlinkSync('conf.d', join(rootfs, 'etc', 'app', 'rel'));
  assert.equal(await resolveInRoot(rootfs, '/abs/conf.d'), join(rootfs, 'etc', 'app', 'conf.d'));
  assert.equal(await resolveInRoot(rootfs, '/etc/app/up'), join(rootfs, 'etc'));
  assert.equal(await resolveInRoot(rootfs, '/etc/app/rel'), join(rootfs, 'etc', 'app', 'conf.d'));
  assert.equal(await resolveInRoot(rootfs, '/nonexistent/x'), join(rootfs, 'nonexistent', 'x'));
  assert.equal(await resolveInRoot(rootfs, '/../../..'), rootfs);
});

test('copyUp fills an empty volume with modes, symlinks and the directory\'s own mode; a non-empty one is left alone', async (t) => {
  const { rootfs, vol, base } = tree();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const src = join(rootfs, 'etc', 'app');
  writeFileSync(join(src, 'conf.d', 'a.conf'), 'a=1\n');
  chmodSync(join(src, 'conf.d', 'a.conf'), 0o640);
  symlinkSync('conf.d/a.conf', join(src, 'link'));
  chmodSync(src, 0o1750);
  if (root) {
    chownSync(join(src, 'conf.d', 'a.conf'), 123, 456);
    execFileSync('setfattr', ['-n', 'user.berth', '-v', 'kept', join(src, 'conf.d', 'a.conf')]);
  }
  assert.equal(await copyUp(rootfs, '/etc/app', vol), true);
  assert.equal(statSync(vol).mode & 0o7777, 0o1750);
  const f = statSync(join(vol, 'conf.d', 'a.conf'));
  assert.equal(f.mode & 0o777, 0o640);
  assert.equal(readlinkSync(join(vol, 'link')), 'conf.d/a.conf');
  assert.ok(lstatSync(join(vol, 'link')).isSymbolicLink());
  if (root) {
    assert.deepEqual([f.uid, f.gid], [123, 456]);
    assert.match(execFileSync('getfattr', ['-n', 'user.berth', '--only-values', join(vol, 'conf.d', 'a.conf')]).toString(), /^kept$/);
  }
  writeFileSync(join(src, 'new'), 'x');
  assert.equal(await copyUp(rootfs, '/etc/app', vol), false, 'not empty: no copy');
  assert.deepEqual(readdirSync(vol).sort(), ['conf.d', 'link']);
});

test('copyUp copies nothing when the image has no directory at the path', async (t) => {
  const { rootfs, vol, base } = tree();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  writeFileSync(join(rootfs, 'file'), 'x');
  assert.equal(await copyUp(rootfs, '/missing', vol), false);
  assert.equal(await copyUp(rootfs, '/file', vol), false);
  assert.deepEqual(readdirSync(vol), []);
});
