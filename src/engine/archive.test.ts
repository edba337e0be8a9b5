import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync, utimesSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScopedFs } from '../lib/index.ts';
import { changes, goBase, goFileMode, statPath } from './archive.ts';

const root = process.getuid?.() === 0;

test('goFileMode: Go os.FileMode bits as in X-Docker-Container-Path-Stat', () => {
  assert.equal(goFileMode(0o100644), 420);
  assert.equal(goFileMode(0o040755), 2147484141);
  assert.equal(goFileMode(0o120777), 134218239);
  assert.equal(goFileMode(0o041777), 2 ** 31 + 2 ** 20 + 0o777);
  assert.equal(goFileMode(0o020666), 2 ** 26 + 2 ** 21 + 0o666);
});

test('goBase', () => {
  assert.equal(goBase('/'), '/');
  assert.equal(goBase('/etc/nginx/'), 'nginx');
  assert.equal(goBase('/etc/nginx/.'), '.');
});

test('statPath: last element not followed, symlink target resolved in scope, mounted files seen', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-stat-'));
  try {
    mkdirSync(join(dir, 'rootfs/etc/nginx'), { recursive: true });
    writeFileSync(join(dir, 'rootfs/etc/nginx/nginx.conf'), 'x'.repeat(1446));
    chmodSync(join(dir, 'rootfs/etc/nginx/nginx.conf'), 0o644);
    utimesSync(join(dir, 'rootfs/etc/nginx/nginx.conf'), 1_795_122_114, 1_795_122_114);
    symlinkSync('/dev/stdout', join(dir, 'rootfs/access.log'));
    symlinkSync('../../../../../etc', join(dir, 'rootfs/up'));
    writeFileSync(join(dir, 'rootfs/etc/hostname'), '');
    writeFileSync(join(dir, 'hostname'), '4c094566da26\n');
    const fs = new ScopedFs(join(dir, 'rootfs'), [{ destination: '/etc/hostname', source: join(dir, 'hostname') }]);
    const s = statPath(fs, '/etc/nginx/nginx.conf').stat;
    assert.deepEqual(s, { name: 'nginx.conf', size: 1446, mode: 420, mtime: '2026-11-19T21:01:54Z', linkTarget: '' });
    const l = statPath(fs, '/access.log').stat;
    assert.equal(l.mode, 134218239);
    assert.equal(l.linkTarget, '/dev/stdout');
    assert.equal(statPath(fs, '/up').stat.linkTarget, '/etc');
    assert.equal(statPath(fs, '/etc/hostname').stat.size, 13);
    assert.equal(statPath(fs, '/etc/nginx/').stat.name, 'nginx');
    assert.equal(statPath(fs, '/').stat.name, '/');
    assert.throws(() => statPath(fs, '/nonexistent'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    assert.throws(() => statPath(fs, '/etc/hostname/x'), /not a directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('changes: Docker order and kinds from an upper dir', { skip: root ? false : 'needs root (whiteouts are device nodes)' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-diff-'));
  try {
    const lower = join(dir, 'lower');
    const upper = join(dir, 'upper');
    for (const d of ['etc/nginx/sites-enabled', 'tmp', 'root', 'run', 'usr/share/html', 'var/lib/gone']) mkdirSync(join(lower, d), { recursive: true });
    writeFileSync(join(lower, 'etc/nginx/sites-enabled/default'), 'd');
    writeFileSync(join(lower, 'usr/share/html/index.html'), 'old');
    writeFileSync(join(lower, 'var/lib/gone/a'), 'a');
    writeFileSync(join(lower, 'etc/unchanged'), 'u');
    utimesSync(join(lower, 'etc/unchanged'), 1000, 1000);
    // the upper dir as overlayfs leaves it after: echo x > /tmp/newfile; rm /etc/nginx/sites-enabled/default;
    // mkdir -p /root/newdir; echo new > /usr/share/html/index.html; rm -rf /var/lib/gone && mkdir /var/lib/gone
    for (const d of ['etc/nginx/sites-enabled', 'tmp', 'root/newdir', 'usr/share/html', 'var/lib/gone']) mkdirSync(join(upper, d), { recursive: true });
    writeFileSync(join(upper, 'tmp/newfile'), 'x');
    spawnSync('mknod', [join(upper, 'etc/nginx/sites-enabled/default'), 'c', '0', '0']);
    writeFileSync(join(upper, 'usr/share/html/index.html'), 'new');
    spawnSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(upper, 'var/lib/gone')]);
    writeFileSync(join(upper, 'var/lib/gone/b'), 'b');
    // a copied-up file whose metadata did not change is not a change
    writeFileSync(join(upper, 'etc/unchanged'), 'u');
    utimesSync(join(upper, 'etc/unchanged'), 1000, 1000);
    const got = (await changes(upper, lower)).map((c) => `${'CAD'[c.Kind]} ${c.Path}`);
    assert.deepEqual(got, [
      'C /etc', 'C /etc/nginx', 'C /etc/nginx/sites-enabled', 'D /etc/nginx/sites-enabled/default',
      'C /root', 'A /root/newdir',
      'C /tmp', 'A /tmp/newfile',
      'C /usr', 'C /usr/share', 'C /usr/share/html', 'C /usr/share/html/index.html',
      'C /var', 'C /var/lib', 'C /var/lib/gone', 'A /var/lib/gone/b', 'D /var/lib/gone/a',
    ]);
    mkdirSync(join(dir, 'empty'));
    assert.deepEqual(await changes(join(dir, 'empty'), lower), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
