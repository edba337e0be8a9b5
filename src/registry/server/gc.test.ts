import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { garbageCollect, MediaTypes } from './index.ts';
import { imageManifest, testRegistry, type TestRegistry } from './testing.ts';

describe('berth-registry garbage-collect', () => {
  let t: TestRegistry;
  before(async () => { t = await testRegistry(); });
  after(() => t.close());
  const blobFile = (d: string): string => join(t.root, 'docker/registry/v2/blobs/sha256', d.slice(7, 9), d.slice(7), 'data');

  it('keeps what manifests reference, sweeps the rest and stale uploads', async () => {
    const shared = await t.pushBlob('gc/a', 'shared layer');
    const cfgA = await t.pushBlob('gc/a', '{"a":1}');
    const a = await t.pushManifest('gc/a', 'v1', imageManifest(MediaTypes.ociManifest, { digest: cfgA, size: 7 }, [{ digest: shared, size: 12 }]), MediaTypes.ociManifest);
    await t.pushBlob('gc/b', 'shared layer');
    const onlyB = await t.pushBlob('gc/b', 'only b');
    const cfgB = await t.pushBlob('gc/b', '{"b":1}');
    const b = await t.pushManifest('gc/b', 'v1', imageManifest(MediaTypes.ociManifest, { digest: cfgB, size: 7 }, [{ digest: shared, size: 12 }, { digest: onlyB, size: 6 }]), MediaTypes.ociManifest);
    const orphan = await t.pushBlob('gc/a', 'never referenced');
    const fresh = (await t.req('/v2/gc/a/blobs/uploads/', { method: 'POST' })).headers.get('docker-upload-uuid')!;
    const staleDir = join(t.root, 'docker/registry/v2/repositories/gc/a/_uploads/00000000-0000-4000-8000-000000000000');
    mkdirSync(staleDir, { recursive: true });
    writeFileSync(join(staleDir, 'startedat'), '2020-01-01T00:00:00Z');
    writeFileSync(join(staleDir, 'data'), 'partial');

    assert.equal((await t.req(`/v2/gc/b/manifests/${b.digest}`, { method: 'DELETE' })).status, 202);
    const dry = await garbageCollect(t.root, { dryRun: true });
    assert.ok(existsSync(blobFile(orphan)), 'a dry run removes nothing');
    const r = await garbageCollect(t.root);
    assert.deepEqual(r.removedBlobs.sort(), dry.removedBlobs.sort());
    for (const d of [b.digest, onlyB, cfgB, orphan]) {
      assert.ok(r.removedBlobs.includes(d), d);
      assert.ok(!existsSync(blobFile(d)), d);
    }
    for (const d of [a.digest, cfgA, shared]) assert.ok(existsSync(blobFile(d)), d);
    assert.deepEqual(r.removedUploads, ['gc/a/00000000-0000-4000-8000-000000000000']);
    assert.equal((await t.req(`/v2/gc/a/blobs/uploads/${fresh}`)).status, 204, 'a recent upload is kept');
    // what is left still pulls; what was swept is unknown
    assert.equal((await t.req('/v2/gc/a/manifests/v1', { headers: { Accept: MediaTypes.ociManifest } })).text, a.bytes);
    assert.equal((await t.req(`/v2/gc/a/blobs/${shared}`)).text, 'shared layer');
    assert.equal((await t.req(`/v2/gc/b/blobs/${onlyB}`)).status, 404);
    assert.equal((await t.req(`/v2/gc/a/blobs/${orphan}`)).status, 404);
  });

  it('--delete-untagged drops manifests no tag reaches, keeping index children and referrers', async () => {
    const cfg = await t.pushBlob('gc/u', '{}');
    const child = await t.pushManifest('gc/u', 'tmp', imageManifest(MediaTypes.ociManifest, { digest: cfg, size: 2 }, []), MediaTypes.ociManifest);
    const idx = await t.pushManifest('gc/u', 'v1', { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [{ mediaType: MediaTypes.ociManifest, digest: child.digest, size: child.bytes.length }] }, MediaTypes.ociIndex);
    const sig = await t.pushManifest('gc/u', 'sig', { schemaVersion: 2, mediaType: MediaTypes.ociManifest, artifactType: 'application/x.sig', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: cfg, size: 2 }, layers: [], subject: { mediaType: MediaTypes.ociIndex, digest: idx.digest, size: idx.bytes.length } }, MediaTypes.ociManifest);
    const lonely = await t.pushBlob('gc/u', 'lonely layer');
    const old = await t.pushManifest('gc/u', 'old', imageManifest(MediaTypes.ociManifest, { digest: cfg, size: 2 }, [{ digest: lonely, size: 12 }]), MediaTypes.ociManifest);
    for (const tag of ['tmp', 'sig', 'old']) assert.equal((await t.req(`/v2/gc/u/manifests/${tag}`, { method: 'DELETE' })).status, 202);
    const r = await garbageCollect(t.root, { deleteUntagged: true });
    assert.deepEqual(r.removedManifests, [`gc/u@${old.digest}`]);
    assert.ok(r.removedBlobs.includes(lonely) && r.removedBlobs.includes(old.digest));
    for (const d of [child.digest, idx.digest, sig.digest, cfg]) assert.ok(existsSync(blobFile(d)), d);
    assert.equal((await t.req(`/v2/gc/u/manifests/${old.digest}`)).status, 404);
    assert.equal((await t.req(`/v2/gc/u/manifests/${child.digest}`)).status, 200);
  });
});
