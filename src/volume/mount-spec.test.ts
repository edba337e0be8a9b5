import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBind, parseMountConfig, mergeTmpfsOptions, tmpfsData, validMountMode } from './mount-spec.ts';

const never = () => false;
const always = () => true;

test('parseBind: named volume, bind, anonymous, modes', () => {
  const v = parseBind('vol:/data');
  assert.deepEqual([v.Type, v.Name, v.Destination, v.RW, v.Mode, v.CopyData, v.Spec.Source], ['volume', 'vol', '/data', true, '', true, 'vol']);
  const b = parseBind('/src/webapp:/opt/webapp:ro');
  assert.deepEqual([b.Type, b.Source, b.Destination, b.RW, b.Mode, b.Propagation], ['bind', '/src/webapp', '/opt/webapp', false, 'ro', 'rprivate']);
  const a = parseBind('/data/');
  assert.deepEqual([a.Type, a.Name, a.Destination, a.Spec.Source], ['volume', '', '/data', undefined]);
  assert.equal(parseBind('/h:/c:rshared,ro').Propagation, 'rshared');
  assert.equal(parseBind('v:/c:nocopy').CopyData, false);
  assert.equal(parseBind('v:/c', 'mydriver').Driver, 'mydriver');
});

test('parseBind: dockerd 20.10 error texts (api/errors-400.txt)', () => {
  assert.throws(() => parseBind('vol:data'), { message: 'invalid volume specification: \'vol:data\': invalid mount config for type "volume": invalid mount path: \'data\' mount path must be absolute' });
  assert.throws(() => parseBind('vol:/data:xyz'), { message: 'invalid mode: xyz' });
  assert.throws(() => parseBind('/data:ro'), { message: "invalid volume specification: '/data:ro'" });
  assert.throws(() => parseBind(':/x'), { message: "invalid volume specification: ':/x'" });
  assert.throws(() => parseBind('a:b:c:d'), { message: "invalid volume specification: 'a:b:c:d'" });
  assert.throws(() => parseBind('vol:/'), { message: 'invalid volume specification: \'vol:/\': invalid mount config for type "volume": invalid specification: destination can\'t be \'/\'' });
});

test('validMountMode: one of each kind at most', () => {
  assert.ok(validMountMode('ro,z,rshared,nocopy,cached'));
  assert.ok(!validMountMode('ro,rw'));
  assert.ok(!validMountMode('bogus'));
});

test('parseMountConfig: --mount types, bind sources must exist', () => {
  const b = parseMountConfig({ Type: 'bind', Source: '/x', Target: '/y', ReadOnly: true }, always);
  assert.deepEqual([b.Type, b.Source, b.RW, b.Mode, b.Propagation, b.SkipMountpointCreation], ['bind', '/x', false, '', 'rprivate', true]);
  assert.throws(() => parseMountConfig({ Type: 'bind', Source: '/x', Target: '/y' }, never),
    { message: 'invalid mount config for type "bind": bind source path does not exist: /x' });
  assert.throws(() => parseMountConfig({ Type: 'bind', Source: 'rel', Target: '/y' }, always),
    { message: 'invalid mount config for type "bind": invalid mount path: \'rel\' mount path must be absolute' });
  assert.throws(() => parseMountConfig({ Type: 'bind', Target: '/y' }, always), { message: 'invalid mount config for type "bind": field Source must not be empty' });
  assert.throws(() => parseMountConfig({ Type: 'volume', Target: '/y', ReadOnly: true }, always),
    { message: 'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes' });
  assert.throws(() => parseMountConfig({ Type: 'tmpfs', Source: 's', Target: '/y' }, always), { message: 'invalid mount config for type "tmpfs": field Source must not be specified' });
  assert.throws(() => parseMountConfig({ Type: 'nope', Target: '/y' }, always), { message: 'invalid mount config for type "nope": mount type unknown' });
  assert.throws(() => parseMountConfig({ Type: 'volume', Source: 'v' }, always), { message: 'invalid mount config for type "volume": field Target must not be empty' });
  const v = parseMountConfig({ Type: 'volume', Source: 'v', Target: '/d', VolumeOptions: { NoCopy: true, Labels: { a: 'b' }, DriverConfig: { Options: { type: 'tmpfs' } } } }, always);
  assert.deepEqual([v.Name, v.CopyData, v.VolumeLabels, v.VolumeOptions], ['v', false, { a: 'b' }, { type: 'tmpfs' }]);
  const t = parseMountConfig({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1770 } }, always);
  assert.equal(t.Data, 'mode=1770,size=1m');
});

test('tmpfs options: data from --mount, flags merged as dockerd does', () => {
  assert.equal(tmpfsData({ SizeBytes: 1536 }, true), 'ro,size=1536');
  assert.equal(tmpfsData({ SizeBytes: 3 * 1024 ** 3 }, false), 'size=3g');
  assert.deepEqual(mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', 'exec', 'size=1m', 'size=2m']), ['nosuid', 'nodev', 'rprivate', 'exec', 'size=2m']);
});
