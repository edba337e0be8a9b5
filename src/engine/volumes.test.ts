import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from '../lib/index.ts';
import { VolumeStore } from '../volume/index.ts';
import { Volumes } from './volumes.ts';
import { defaultHostConfig } from './create.ts';
import type { Container, HostConfig } from './model.ts';

function setup(t: { after(fn: () => void): void }) {
  const base = mkdtempSync(join(tmpdir(), 'berth-vols-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const containers = new Map<string, Container>();
  const events: string[] = [];
  const vols = new Volumes({
    store: new VolumeStore(join(base, 'volumes')),
    containers: () => containers.values(),
    container: (ref) => {
      const c = containers.get(ref);
      if (!c) throw new NotFoundError(`No such container: ${ref}`);
      return c;
    },
    emit: (action, id, attrs) => events.push(`${action} ${id.length === 64 ? '<anon>' : id} ${Object.entries(attrs).map(([k, v]) => `${k}=${v.length === 64 ? '<id>' : v}`).join(',')}`),
  });
  let n = 0;
  const make = async (hc: Partial<HostConfig>, volumes: string[] = []): Promise<Container> => {
    const id = String(++n).repeat(64).slice(0, 64);
    const c = {
      ID: id, MountPoints: {}, HostConfig: { ...defaultHostConfig(), ...hc },
      Config: { Volumes: volumes.length ? Object.fromEntries(volumes.map((v) => [v, {}])) : null }, State: { Running: false },
    } as unknown as Container;
    await vols.register(c);
    containers.set(id, c);
    return c;
  };
  const rootfs = join(base, 'rootfs');
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0\n');
  return { base, vols, containers, events, make, rootfs };
}

test('register: Binds, Mounts and VOLUMEs become Docker\'s mount points; volumes are created', async (t) => {
  const { vols, make, base, events } = setup(t);
  const host = join(base, 'host');
  mkdirSync(host);
  const c = await make({
    Binds: ['named:/data', `${host}:/h:ro`], Tmpfs: { '/run': 'size=1m' },
    Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024 } }, { Type: 'volume', Source: 'other', Target: '/o', VolumeOptions: { Labels: { a: 'b' } } }],
  }, ['/etc', '/data', '/run']);
  const mp = c.MountPoints;
  assert.deepEqual(Object.keys(mp).sort(), ['/data', '/etc', '/h', '/o', '/t']);
  assert.deepEqual({ ...mp['/data'], Spec: undefined }, {
    Type: 'volume', Source: join(base, 'volumes', 'named', '_data'), Destination: '/data', Mode: 'z', RW: true, Propagation: '', Spec: undefined,
    Name: 'named', Driver: 'local', CopyData: true,
  });
  assert.deepEqual([mp['/h']!.Type, mp['/h']!.Source, mp['/h']!.RW, mp['/h']!.Mode, mp['/h']!.Propagation], ['bind', host, false, 'ro', 'rprivate']);
  assert.match(mp['/etc']!.Name!, /^[0-9a-f]{64}$/);
  assert.equal(mp['/etc']!.Mode, '');
  assert.deepEqual((await vols.inspect('other')).Labels, { a: 'b' });
  assert.deepEqual(events, ['create named driver=local', 'create other driver=local', 'create <anon> driver=local']);
});

test('register: dockerd\'s errors, and a refused spec creates no volume', async (t) => {
  const { vols, make } = setup(t);
  await assert.rejects(make({ Binds: ['vola:/data', 'volb:/data'] }), { name: 'InvalidArgumentError', message: 'Duplicate mount point: /data' });
  await assert.rejects(make({ Binds: ['v:/x'], Tmpfs: { '/x': '' } }), { message: 'Duplicate mount point: /x' });
  await assert.rejects(make({ Mounts: [{ Type: 'bind', Source: '/nonexistent-berth', Target: '/x' }] }),
    { message: 'invalid mount config for type "bind": bind source path does not exist: /nonexistent-berth' });
  await assert.rejects(make({ VolumesFrom: ['nosuch'] }), { name: 'InvalidArgumentError', message: 'No such container: nosuch' });
  await assert.rejects(make({ Binds: ['a:/data'] }), { message: 'create a: volume name is too short, names should be at least two alphanumeric characters' });
  assert.deepEqual((await vols.list({})).map((v) => v.Name), []);
});

test('mount: copy-up into empty volumes, bind sources made, spec mounts with Docker\'s options; events', async (t) => {
  const { vols, make, base, rootfs, events } = setup(t);
  const host = join(base, 'made', 'here');
  const c = await make({ Binds: [`${host}:/h`, 'ro-vol:/r:ro'], Tmpfs: { '/tmp': 'exec' } }, ['/etc']);
  events.length = 0;
  const mounts = await vols.mount(c, rootfs);
  const etc = c.MountPoints['/etc']!;
  assert.equal(readFileSync(join(etc.Source, 'passwd'), 'utf8'), 'root:x:0:0\n');
  assert.ok(existsSync(host));
  assert.deepEqual(mounts.sort((a, b) => (a.destination < b.destination ? -1 : 1)), [
    { destination: '/etc', source: etc.Source, type: 'bind', options: ['rbind'] },
    { destination: '/h', source: host, type: 'bind', options: ['rbind', 'rprivate'] },
    { destination: '/r', source: join(base, 'volumes', 'ro-vol', '_data'), type: 'bind', options: ['rbind', 'ro'] },
    { destination: '/tmp', source: 'tmpfs', type: 'tmpfs', options: ['nosuid', 'nodev', 'rprivate', 'exec'] },
  ]);
  assert.deepEqual(events.sort(), [
    'mount <anon> container=<id>,destination=/etc,driver=local,propagation=,read/write=true',
    'mount ro-vol container=<id>,destination=/r,driver=local,propagation=,read/write=false',
  ]);
  // a second start does not copy again into a volume the user emptied
  rmSync(join(etc.Source, 'passwd'));
  await vols.unmount(c);
  await vols.mount(c, rootfs);
  assert.equal(existsSync(join(etc.Source, 'passwd')), false);
});

test('volumes in use: remove is refused with the users, dangling filter, prune keeps them; rm -v removes anonymous ones only', async (t) => {
  const { vols, make, containers, events } = setup(t);
  const c = await make({ Binds: ['keep:/k'] }, ['/anon']);
  await vols.create({ name: 'unused', labels: { x: '1' } });
  await vols.create({ name: 'with-opts', driverOpts: { type: 'tmpfs', device: 'tmpfs' } });
  await assert.rejects(vols.remove('keep', false), { name: 'ConflictError', message: `remove keep: volume is in use - [${c.ID}]` });
  const anon = c.MountPoints['/anon']!.Name!;
  assert.deepEqual((await vols.list({ dangling: ['true'] })).map((v) => v.Name), ['unused', 'with-opts']);
  assert.deepEqual((await vols.list({ dangling: ['0'] })).map((v) => v.Name), [anon, 'keep'].sort());
  assert.deepEqual((await vols.list({ label: ['x=1'] })).map((v) => v.Name), ['unused']);
  assert.deepEqual((await vols.list({ name: ['kee'] })).map((v) => v.Name), ['keep']);
  await assert.rejects(vols.list({ bogus: ['1'] }), { message: "Invalid filter 'bogus'" });
  await assert.rejects(vols.list({ dangling: ['maybe'] }), { message: "Invalid filter 'dangling=[maybe]'" });
  assert.deepEqual(await vols.prune({ label: ['nomatch'] }), { VolumesDeleted: [], SpaceReclaimed: 0 });
  assert.deepEqual(await vols.prune({}), { VolumesDeleted: ['unused'], SpaceReclaimed: 0 });
  containers.delete(c.ID);
  events.length = 0;
  await vols.release(c, true);
  assert.deepEqual((await vols.list({})).map((v) => v.Name), ['keep', 'with-opts'], 'prune leaves volumes with driver options');
  assert.deepEqual(events, ['destroy <anon> driver=local']);
  await vols.remove('nosuch', true);
  await assert.rejects(vols.remove('nosuch', false), { name: 'NotFoundError', message: 'get nosuch: no such volume' });
});

test('--volumes-from copies the mount points, :ro makes them read-only', async (t) => {
  const { make } = setup(t);
  const src = await make({ Binds: ['shared:/s'] }, ['/a']);
  const ro = await make({ VolumesFrom: [`${src.ID}:ro`] });
  assert.deepEqual(Object.keys(ro.MountPoints).sort(), ['/a', '/s']);
  assert.equal(ro.MountPoints['/s']!.Name, 'shared');
  assert.equal(ro.MountPoints['/s']!.RW, false);
  const rw = await make({ VolumesFrom: [src.ID], Binds: ['own:/s'] });
  assert.equal(rw.MountPoints['/s']!.Name, 'own', 'a Bind replaces the inherited mount at the same path');
  assert.equal(rw.MountPoints['/a']!.RW, true);
});

test('after a daemon restart, running containers hold their volumes until they exit', async (t) => {
  const { vols, make, events } = setup(t);
  const c = await make({ Binds: ['held:/h'] });
  (c.State as { Running: boolean }).Running = true;
  vols.adoptRunning();
  await assert.rejects(vols.store.remove('held'), { name: 'ConflictError', message: `remove held: volume is in use - [${c.ID}]` });
  events.length = 0;
  await vols.unmount(c);
  assert.deepEqual(events, ['unmount held container=<id>,driver=local']);
  await vols.unmount(c);
  assert.equal(events.length, 1, 'a second unmount does nothing');
});
