/** skopeo against berth-registry: push the busybox fixture in, inspect it, copy it back out, compare digests. */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { removeAll } from '../../lib/index.ts';
import { testRegistry, type TestRegistry } from './testing.ts';

const run = promisify(execFile);
const FIXTURE = '/work/shared/images/busybox-1.35.tar';
const fixtures = existsSync('/work/shared/images/fixtures.json')
  ? (JSON.parse(readFileSync('/work/shared/images/fixtures.json', 'utf8')) as { images: { file: string; image_id: string; oci_manifest_digest: string }[] })
  : undefined;
const busybox = fixtures?.images.find((i) => i.file === 'busybox-1.35.tar');
const skopeo = ['/usr/bin/skopeo', '/usr/local/bin/skopeo'].find((p) => existsSync(p));
const skip = !skopeo || !busybox ? 'needs skopeo and the busybox fixture' : false;
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('skopeo interop', { skip }, () => {
  let t: TestRegistry;
  let out: string;
  before(async () => {
    t = await testRegistry();
    out = mkdtempSync(join(tmpdir(), 'berth-reg-skopeo-'));
  });
  after(async () => {
    await t.close();
    await removeAll(out);
  });
  const host = (): string => t.reg.addr;

  it('copies a docker-archive in, inspects it and copies it back out with the same digests', async () => {
    await run(skopeo!, ['copy', '-q', `docker-archive:${FIXTURE}`, `docker://${host()}/library/busybox:1.35`, '--dest-tls-verify=false']);
    const head = await t.req('/v2/library/busybox/manifests/1.35', { method: 'HEAD', headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
    assert.equal(head.status, 200);
    const digest = head.headers.get('docker-content-digest')!;
    const info = JSON.parse((await run(skopeo!, ['inspect', '--tls-verify=false', `docker://${host()}/library/busybox:1.35`])).stdout) as { Digest: string; RepoTags: string[]; Layers: string[] };
    assert.equal(info.Digest, digest);
    assert.deepEqual(info.RepoTags, ['1.35']);
    const dir = join(out, 'busybox');
    await run(skopeo!, ['copy', '-q', '--src-tls-verify=false', `docker://${host()}/library/busybox:1.35`, `dir:${dir}`]);
    const manifest = readFileSync(join(dir, 'manifest.json'));
    assert.equal(sha(manifest), digest);
    const m = JSON.parse(manifest.toString()) as { config: { digest: string }; layers: { digest: string }[] };
    assert.equal(m.config.digest, busybox!.image_id);
    for (const d of [m.config.digest, ...m.layers.map((l) => l.digest)]) assert.equal(sha(readFileSync(join(dir, d.slice(7)))), d);
    assert.deepEqual(m.layers.map((l) => l.digest), info.Layers);
  });

  it('keeps an OCI manifest byte for byte (--preserve-digests) and copies between repositories', async () => {
    await run(skopeo!, ['copy', '-q', '--preserve-digests', `oci-archive:${FIXTURE}:1.35`, `docker://${host()}/oci/busybox:1.35`, '--dest-tls-verify=false']);
    const raw = (await run(skopeo!, ['inspect', '--raw', '--tls-verify=false', `docker://${host()}/oci/busybox:1.35`], { encoding: 'buffer' })).stdout;
    assert.equal(sha(raw), busybox!.oci_manifest_digest);
    await run(skopeo!, ['copy', '-q', '--preserve-digests', `docker://${host()}/oci/busybox:1.35`, `docker://${host()}/other/busybox:copy`, '--src-tls-verify=false', '--dest-tls-verify=false']);
    const h = await t.req('/v2/other/busybox/manifests/copy', { method: 'HEAD', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(h.headers.get('docker-content-digest'), busybox!.oci_manifest_digest);
    const cat = (await t.req('/v2/_catalog')).json() as { repositories: string[] };
    assert.deepEqual(cat.repositories, ['library/busybox', 'oci/busybox', 'other/busybox']);
  });
});
