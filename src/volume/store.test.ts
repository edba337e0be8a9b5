import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readdirSync, linkSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VolumeStore } from './store.ts';

function tempRoot(): string {
  return join(mkdtempSync(join(tmpdir(), 'berth-vol-')), 'volumes');
}

test('create, get, list; the same name again returns the existing volume unchanged', async (t) => {
  const root = tempRoot();
  t.after(() => rmSync(join(root, '..'), { recursive: true, force: true }));
  const s = new VolumeStore(root);
  const a = await s.create({ name: 'myvol', labels: { a: 'b' }, driverOpts: {} });
  assert.equal(a.created, true);
  assert.deepEqual({ ...a.volume, CreatedAt: '' }, {
    Name: 'myvol', Driver: 'local', Mountpoint: join(root, 'myvol', '_data'), CreatedAt: '', Labels: { a: 'b' }, Options: {}, Scope: 'local',
  });
  assert.match(a.volume.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(existsSync(join(root, 'myvol', '_data')));
  const again = await s.create({ name: 'myvol', labels: { a: 'c' } });
  assert.equal(again.created, false);
  assert.deepEqual(again.volume.Labels, { a: 'b' });
  const anon = await s.create({});
  assert.match(anon.volume.Name, /^[0-9a-f]{64}$/);
  assert.equal(anon.volume.Labels, null);
  assert.equal(anon.volume.Options, null);
  assert.deepEqual((await s.list()).map((v) => v.Name), [anon.volume.Name, 'myvol'].sort());
  // another store on the same root (a daemon restart) sees the same volumes
  assert.deepEqual(await new VolumeStore(root).get('myvol'), a.volume);
});

test('dockerd\'s create errors: names, options, drivers', async (t) => {
  const root = tempRoot();
  t.after(() => rmSync(join(root, '..'), { recursive: true, force: true }));
  const s = new VolumeStore(root);
  await assert.rejects(s.create({ name: 'bad/name' }), {
    name: 'InvalidArgumentError',
    message: 'create bad/name: "bad/name" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path',
  });
  await assert.rejects(s.create({ name: 'a' }), { message: 'create a: volume name is too short, names should be at least two alphanumeric characters' });
  await assert.rejects(s.create({ name: 'x', driver: 'nosuch' }), { name: 'NotFoundError', message: 'create x: error looking up volume plugin nosuch: plugin "nosuch" not found' });
  await assert.rejects(s.create({ name: 'x1', driverOpts: { foo: 'bar' } }), { message: 'create x1: invalid option: "foo"' });
  await assert.rejects(s.create({ name: 'x2', driverOpts: { type: 'tmpfs' } }), { message: 'create x2: missing required option: "device"' });
  await assert.rejects(s.create({ name: 'x3', driverOpts: { o: 'size=1m', device: 'tmpfs' } }), { message: 'create x3: missing required option: "type"' });
  assert.deepEqual(await s.list(), [], 'a refused create leaves nothing behind');
  assert.deepEqual(readdirSync(root), []);
});

test('remove, get of a missing volume, size counts hard links once', async (t) => {
  const root = tempRoot();
  t.after(() => rmSync(join(root, '..'), { recursive: true, force: true }));
  const s = new VolumeStore(root);
  const { volume } = await s.create({ name: 'data' });
  mkdirSync(join(volume.Mountpoint, 'sub'));
  writeFileSync(join(volume.Mountpoint, 'sub', 'a'), Buffer.alloc(1000));
  linkSync(join(volume.Mountpoint, 'sub', 'a'), join(volume.Mountpoint, 'b'));
  writeFileSync(join(volume.Mountpoint, 'c'), 'xyz');
  assert.equal(await s.size('data'), 1003);
  await s.remove('data');
  assert.equal(existsSync(join(root, 'data')), false);
  await assert.rejects(s.get('data'), { name: 'NotFoundError', message: 'get data: no such volume' });
  await assert.rejects(s.remove('data'), { name: 'NotFoundError', message: 'get data: no such volume' });
});

test('leftovers of an interrupted create or remove are cleared at load; a directory without metadata is no volume', async (t) => {
  const root = tempRoot();
  t.after(() => rmSync(join(root, '..'), { recursive: true, force: true }));
  mkdirSync(join(root, '.create-x-1234', '_data'), { recursive: true });
  mkdirSync(join(root, '.remove-y-5678', '_data'), { recursive: true });
  mkdirSync(join(root, 'stray', '_data'), { recursive: true });
  const s = new VolumeStore(root);
  assert.deepEqual(await s.list(), []);
  assert.deepEqual(readdirSync(root).sort(), ['stray']);
});

test('mount/unmount count users; a volume in use cannot be removed from the store', async (t) => {
  const root = tempRoot();
  t.after(() => rmSync(join(root, '..'), { recursive: true, force: true }));
  const s = new VolumeStore(root);
  await s.create({ name: 'shared' });
  assert.equal(await s.mount('shared', 'c1'), join(root, 'shared', '_data'));
  await s.mount('shared', 'c2');
  await s.unmount('shared', 'c1');
  await assert.rejects(s.remove('shared'), { name: 'ConflictError', message: 'remove shared: volume is in use - [c2]' });
  await s.unmount('shared', 'c2');
  await s.remove('shared');
});

test('a volume with mount options is mounted for its first user, unmounted after the last; removing it never deletes through a mount',
  { skip: process.getuid?.() !== 0 ? 'needs root (mount)' : false }, async (t) => {
    const root = tempRoot();
    const host = join(root, '..', 'host');
    mkdirSync(host);
    writeFileSync(join(host, 'precious'), 'keep me');
    t.after(() => rmSync(join(root, '..'), { recursive: true, force: true }));
    const s = new VolumeStore(root);
    await s.create({ name: 'bound', driverOpts: { type: 'none', device: host, o: 'bind' } });
    const p = await s.mount('bound', 'c1');
    assert.ok(existsSync(join(p, 'precious')));
    await s.mount('bound', 'c2');
    await s.unmount('bound', 'c1');
    assert.ok(existsSync(join(p, 'precious')), 'still mounted for c2');
    await s.unmount('bound', 'c2');
    assert.equal(existsSync(join(p, 'precious')), false);
    // a mount left behind (daemon killed) is taken over, then removed before the directory goes
    await s.mount('bound', 'c3');
    const again = new VolumeStore(root);
    await again.mount('bound', 'c4');
    await again.unmount('bound', 'c4');
    assert.equal(existsSync(join(p, 'precious')), false, 'one unmount: the mount was not stacked');
    await s.mount('bound', 'c5');
    await again.remove('bound');
    assert.equal(readFileSync(join(host, 'precious'), 'utf8'), 'keep me');
    await assert.rejects(s.create({ name: 'tmp', driverOpts: { type: 'none', device: join(host, 'nope'), o: 'bind' } }).then(() => s.mount('tmp', 'c')),
      { message: `failed to mount local volume: mount ${join(host, 'nope')}:${join(root, 'tmp', '_data')}, flags: 0x1000: no such file or directory` });
  });
