import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarString, fullString, parseAnyReference, parseNormalizedNamed, parseTagged } from './reference.ts';

test('short names normalise to docker.io/library and :latest', () => {
  const r = parseTagged('busybox');
  assert.equal(fullString(r), 'docker.io/library/busybox:latest');
  assert.equal(familiarString(r), 'busybox:latest');
  assert.equal(familiarString(parseTagged('busybox:1.35')), 'busybox:1.35');
  assert.equal(fullString(parseTagged('library/busybox:1.35')), 'docker.io/library/busybox:1.35');
  assert.equal(fullString(parseTagged('index.docker.io/library/busybox')), 'docker.io/library/busybox:latest');
});

test('user repos, registries with ports, localhost', () => {
  assert.equal(familiarString(parseTagged('foo/bar')), 'foo/bar:latest');
  assert.equal(fullString(parseTagged('foo/bar')), 'docker.io/foo/bar:latest');
  const r = parseTagged('host:5000/a/b:t');
  assert.deepEqual(r, { name: 'host:5000/a/b', tag: 't' });
  assert.equal(familiarString(r), 'host:5000/a/b:t');
  assert.equal(fullString(parseTagged('localhost/x')), 'localhost/x:latest');
  assert.equal(fullString(parseTagged('my.reg.example/team/app:v1.2-rc_3')), 'my.reg.example/team/app:v1.2-rc_3');
});

test('digest references keep no default tag', () => {
  const d = 'sha256:' + 'ab'.repeat(32);
  const r = parseTagged(`busybox@${d}`);
  assert.equal(r.tag, undefined);
  assert.equal(r.digest, d);
  assert.equal(familiarString(r), `busybox@${d}`);
  assert.equal(familiarString(parseTagged(`busybox:1.35@${d}`)), `busybox:1.35@${d}`);
});

test('bad references give Docker\'s messages', () => {
  assert.throws(() => parseNormalizedNamed('UPPER:case'), { name: 'InvalidArgumentError', message: 'invalid reference format: repository name must be lowercase' });
  assert.throws(() => parseNormalizedNamed('busybox:'), { message: 'invalid reference format' });
  assert.throws(() => parseNormalizedNamed('bad name'), { message: 'invalid reference format' });
  assert.throws(() => parseNormalizedNamed('a/../b'), { message: 'invalid reference format' });
  assert.throws(() => parseNormalizedNamed('busybox@sha256:abc'), { message: 'invalid reference format' });
  assert.throws(() => parseNormalizedNamed('a'.repeat(64).replace(/a/g, 'f')), /cannot specify 64-byte hexadecimal strings/);
  // a tag may have capitals, a repository may not
  assert.equal(familiarString(parseTagged('busybox:Latest')), 'busybox:Latest');
});

test('IDs and names are told apart as Docker does', () => {
  const hex = '0dcfc6fe9a7500e1890a91bb2ebbf9d6ba7ccce571029f6aefcfe633b6a89a09';
  assert.deepEqual(parseAnyReference(hex), { kind: 'id', id: 'sha256:' + hex });
  assert.deepEqual(parseAnyReference('sha256:' + hex), { kind: 'id', id: 'sha256:' + hex });
  assert.equal(parseAnyReference('0dcfc6fe9a75').kind, 'named');
});
