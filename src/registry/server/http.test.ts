import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { HtpasswdAuthorizer, MediaTypes } from './index.ts';
import { imageManifest, sha, testRegistry, type TestRegistry } from './testing.ts';

const ZERO = `sha256:${'0'.repeat(64)}`;

describe('berth-registry HTTP API', () => {
  let t: TestRegistry;
  before(async () => { t = await testRegistry(); });
  after(() => t.close());

  const blobFile = (d: string): string => join(t.root, 'docker/registry/v2/blobs/sha256', d.slice(7, 9), d.slice(7), 'data');

  it('GET /v2/ answers 200 with the API version header', async () => {
    const r = await t.req('/v2/');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });

  it('unknown paths are 404 and unknown methods UNSUPPORTED', async () => {
    assert.equal((await t.req('/v3/')).status, 404);
    const r = await t.req('/v2/_catalog', { method: 'POST' });
    assert.equal(r.status, 405);
    assert.deepEqual(r.json(), { errors: [{ code: 'UNSUPPORTED', message: 'The operation is unsupported.' }] });
  });

  it('monolithic upload, HEAD/GET, Range reads, and a blob shared across repositories', async () => {
    const data = 'hello, registry world';
    const d = await t.pushBlob('proj/a', data);
    const head = await t.req(`/v2/proj/a/blobs/${d}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(data.length));
    assert.equal(head.headers.get('docker-content-digest'), d);
    assert.equal((await t.req(`/v2/proj/a/blobs/${d}`)).text, data);
    const part = await t.req(`/v2/proj/a/blobs/${d}`, { headers: { Range: 'bytes=7-14' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 7-14/${data.length}`);
    assert.equal(part.text, 'registry');
    const suffix = await t.req(`/v2/proj/a/blobs/${d}`, { headers: { Range: 'bytes=-5' } });
    assert.equal(suffix.text, 'world');
    const bad = await t.req(`/v2/proj/a/blobs/${d}`, { headers: { Range: 'bytes=500-' } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get('content-range'), `bytes */${data.length}`);
    // another repository does not see it until it pushes or mounts it; the content is stored once
    const other = await t.req(`/v2/proj/b/blobs/${d}`, { method: 'GET' });
    assert.equal(other.status, 404);
    assert.equal((other.json() as { errors: { code: string }[] }).errors[0]!.code, 'BLOB_UNKNOWN');
    assert.equal(await t.pushBlob('proj/b', data), d);
    assert.ok(existsSync(blobFile(d)));
  });

  it('cross-repository mount: 201 when the source has the blob, else 202 and a new upload', async () => {
    const d = await t.pushBlob('src/repo', 'mount me');
    const r = await t.req(`/v2/dst/repo/blobs/uploads/?mount=${d}&from=src/repo`, { method: 'POST' });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('location'), `/v2/dst/repo/blobs/${d}`);
    assert.equal(r.headers.get('docker-content-digest'), d);
    assert.equal((await t.req(`/v2/dst/repo/blobs/${d}`)).text, 'mount me');
    const miss = await t.req(`/v2/dst/repo/blobs/uploads/?mount=${ZERO}&from=src/repo`, { method: 'POST' });
    assert.equal(miss.status, 202);
    assert.match(miss.headers.get('location')!, /^\/v2\/dst\/repo\/blobs\/uploads\/[0-9a-f-]{36}$/);
  });

  it('chunked upload: POST, PATCH with Content-Range (416 out of order), status, PUT with a last chunk', async () => {
    const post = await t.req('/v2/chunky/blobs/uploads/', { method: 'POST' });
    assert.equal(post.status, 202);
    assert.equal(post.headers.get('range'), '0-0');
    const uuid = post.headers.get('docker-upload-uuid')!;
    const loc = post.headers.get('location')!;
    assert.equal(loc, `/v2/chunky/blobs/uploads/${uuid}`);
    const p1 = await t.req(loc, { method: 'PATCH', body: '0123456789', headers: { 'Content-Range': '0-9', 'Content-Type': 'application/octet-stream' } });
    assert.equal(p1.status, 202);
    assert.equal(p1.headers.get('range'), '0-9');
    const ooo = await t.req(loc, { method: 'PATCH', body: 'abc', headers: { 'Content-Range': '20-22' } });
    assert.equal(ooo.status, 416);
    assert.equal((ooo.json() as { errors: { code: string }[] }).errors[0]!.code, 'RANGE_INVALID');
    const status = await t.req(loc);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-9');
    const p2 = await t.req(loc, { method: 'PATCH', body: 'abc', headers: { 'Content-Range': '10-12' } });
    assert.equal(p2.headers.get('range'), '0-12');
    const d = sha('0123456789abcXYZ');
    const put = await t.req(`${loc}?digest=${d}`, { method: 'PUT', body: 'XYZ' });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('location'), `/v2/chunky/blobs/${d}`);
    assert.equal((await t.req(`/v2/chunky/blobs/${d}`)).text, '0123456789abcXYZ');
    assert.equal((await t.req(loc)).status, 404, 'the upload is gone once committed');
  });

  it('a wrong digest is DIGEST_INVALID and stores nothing', async () => {
    const r = await t.req(`/v2/wrong/blobs/uploads/?digest=${ZERO}`, { method: 'POST', body: 'not zero' });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json(), { errors: [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content', detail: ZERO }] });
    assert.ok(!existsSync(blobFile(ZERO)));
    assert.ok(!existsSync(blobFile(sha('not zero'))));
    const post = await t.req('/v2/wrong/blobs/uploads/', { method: 'POST' });
    const loc = post.headers.get('location')!;
    const put = await t.req(`${loc}?digest=${ZERO}`, { method: 'PUT', body: 'data' });
    assert.equal(put.status, 400);
    assert.equal((await t.req(loc)).status, 404, 'the failed upload is cancelled');
    assert.equal((await t.req(`/v2/wrong/blobs/${sha('data')}`)).status, 404);
    assert.equal((await t.req(`/v2/wrong/blobs/uploads/?digest=sha256:zz`, { method: 'POST', body: 'x' })).status, 400);
  });

  it('an interrupted PATCH leaves the upload as it was and nothing visible', async () => {
    const loc = (await t.req('/v2/killed/blobs/uploads/', { method: 'POST' })).headers.get('location')!;
    await new Promise<void>((resolve) => {
      const u = new URL(t.base + loc);
      const r = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PATCH', headers: { 'Content-Length': 1_000_000 } });
      r.on('error', () => resolve());
      r.write(Buffer.alloc(64 * 1024, 1), () => setTimeout(() => { r.destroy(); resolve(); }, 50));
    });
    let range = '';
    for (let i = 0; i < 50 && range !== '0-0'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      range = (await t.req(loc)).headers.get('range') ?? '';
    }
    assert.equal(range, '0-0');
    assert.ok(!existsSync(blobFile(sha(Buffer.alloc(64 * 1024, 1)))));
    assert.equal((await t.req(loc, { method: 'DELETE' })).status, 204);
    assert.equal((await t.req(loc, { method: 'DELETE' })).status, 404);
  });

  it('DELETE of a blob unlinks it from the repository', async () => {
    const d = await t.pushBlob('del/blob', 'bye');
    assert.equal((await t.req(`/v2/del/blob/blobs/${d}`, { method: 'DELETE' })).status, 202);
    assert.equal((await t.req(`/v2/del/blob/blobs/${d}`)).status, 404);
    assert.equal((await t.req(`/v2/del/blob/blobs/${d}`, { method: 'DELETE' })).status, 404);
  });

  it('manifests: PUT checks blobs, GET/HEAD by tag and digest return the stored bytes and type', async () => {
    const cfg = '{"architecture":"amd64","os":"linux"}';
    const c = await t.pushBlob('img/app', cfg);
    const l = await t.pushBlob('img/app', 'layer');
    const missing = await t.pushManifest('img/app', 'v1', imageManifest(MediaTypes.dockerManifest, { digest: c, size: cfg.length }, [{ digest: ZERO, size: 1 }]), MediaTypes.dockerManifest);
    assert.equal(missing.status, 400);
    const m = imageManifest(MediaTypes.dockerManifest, { digest: c, size: cfg.length }, [{ digest: l, size: 5 }]);
    const put = await t.pushManifest('img/app', 'v1', m, MediaTypes.dockerManifest);
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('docker-content-digest'), put.digest);
    assert.equal(put.headers.get('location'), `/v2/img/app/manifests/${put.digest}`);
    for (const ref of ['v1', put.digest]) {
      const g = await t.req(`/v2/img/app/manifests/${ref}`, { headers: { Accept: MediaTypes.dockerManifest } });
      assert.equal(g.status, 200);
      assert.equal(g.text, put.bytes);
      assert.equal(g.headers.get('content-type'), MediaTypes.dockerManifest);
      assert.equal(g.headers.get('docker-content-digest'), put.digest);
    }
    const h = await t.req('/v2/img/app/manifests/v1', { method: 'HEAD' });
    assert.equal(h.headers.get('content-length'), String(put.bytes.length));
    const unknown = await t.req('/v2/img/app/manifests/nope');
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json(), { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'nope' } }] });
    // by digest, the body must hash to it
    assert.equal((await t.pushManifest('img/app', ZERO, m, MediaTypes.dockerManifest)).status, 400);
    // an invalid tag, invalid JSON, a mediaType that contradicts the Content-Type
    const inv = await t.req('/v2/img/app/manifests/v2', { method: 'PUT', body: '{"schemaVersion":', headers: { 'Content-Type': MediaTypes.ociManifest } });
    assert.equal((inv.json() as { errors: { code: string }[] }).errors[0]!.code, 'MANIFEST_INVALID');
    const clash = await t.req('/v2/img/app/manifests/v2', { method: 'PUT', body: put.bytes, headers: { 'Content-Type': MediaTypes.ociManifest } });
    assert.equal((clash.json() as { errors: { code: string }[] }).errors[0]!.code, 'MANIFEST_INVALID');
    const badTag = await t.req('/v2/img/app/manifests/-bad', { method: 'PUT', body: put.bytes, headers: { 'Content-Type': MediaTypes.dockerManifest } });
    assert.equal((badTag.json() as { errors: { code: string }[] }).errors[0]!.code, 'TAG_INVALID');
  });

  it('manifest lists and OCI indexes: children must exist; Accept by tag as distribution', async () => {
    const cfg = '{"os":"linux"}';
    const c = await t.pushBlob('multi/app', cfg);
    const amd = await t.pushManifest('multi/app', 'amd', imageManifest(MediaTypes.dockerManifest, { digest: c, size: cfg.length }, []), MediaTypes.dockerManifest);
    const list = { schemaVersion: 2, mediaType: MediaTypes.dockerList, manifests: [{ mediaType: MediaTypes.dockerManifest, digest: amd.digest, size: amd.bytes.length, platform: { os: 'linux', architecture: 'amd64' } }] };
    const bad = await t.pushManifest('multi/app', 'list', { ...list, manifests: [{ ...list.manifests[0], digest: ZERO }] }, MediaTypes.dockerList);
    assert.equal(bad.status, 400);
    assert.equal((await t.req('/v2/multi/app/manifests/list')).status, 404, 'nothing was tagged');
    const ok = await t.pushManifest('multi/app', 'list', list, MediaTypes.dockerList);
    assert.equal(ok.status, 201);
    const both = await t.req('/v2/multi/app/manifests/list', { headers: { Accept: `${MediaTypes.dockerManifest}, ${MediaTypes.dockerList}` } });
    assert.equal(both.headers.get('content-type'), MediaTypes.dockerList);
    const v2only = await t.req('/v2/multi/app/manifests/list', { headers: { Accept: MediaTypes.dockerManifest } });
    assert.equal(v2only.headers.get('docker-content-digest'), amd.digest, 'a client without list support gets the linux/amd64 manifest');
    const oci = await t.pushManifest('multi/app', 'oci', imageManifest(MediaTypes.ociManifest, { digest: c, size: cfg.length }, []), MediaTypes.ociManifest);
    assert.equal(oci.status, 201);
    const noOci = await t.req('/v2/multi/app/manifests/oci', { headers: { Accept: MediaTypes.dockerManifest } });
    assert.equal(noOci.status, 404);
    assert.equal((await t.req(`/v2/multi/app/manifests/${oci.digest}`, { headers: { Accept: MediaTypes.dockerManifest } })).status, 200, 'by digest, Accept does not matter');
    const idx = await t.pushManifest('multi/app', 'idx', { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [{ mediaType: MediaTypes.ociManifest, digest: oci.digest, size: oci.bytes.length }] }, MediaTypes.ociIndex);
    assert.equal(idx.status, 201);
    assert.equal((await t.req('/v2/multi/app/manifests/idx', { headers: { Accept: MediaTypes.ociIndex } })).headers.get('content-type'), MediaTypes.ociIndex);
  });

  it('DELETE of a manifest by tag and by digest (which drops its tags)', async () => {
    const cfg = '{}';
    const c = await t.pushBlob('del/man', cfg);
    const m = await t.pushManifest('del/man', 'a', imageManifest(MediaTypes.ociManifest, { digest: c, size: 2 }, []), MediaTypes.ociManifest);
    await t.pushManifest('del/man', 'b', JSON.parse(m.bytes) as object, MediaTypes.ociManifest);
    assert.equal((await t.req('/v2/del/man/manifests/a', { method: 'DELETE' })).status, 202);
    assert.deepEqual((await t.req('/v2/del/man/tags/list')).json(), { name: 'del/man', tags: ['b'] });
    assert.equal((await t.req(`/v2/del/man/manifests/${m.digest}`, { method: 'DELETE' })).status, 202);
    assert.deepEqual((await t.req('/v2/del/man/tags/list')).json(), { name: 'del/man', tags: [] });
    assert.equal((await t.req(`/v2/del/man/manifests/${m.digest}`)).status, 404);
    assert.equal((await t.req(`/v2/del/man/manifests/${m.digest}`, { method: 'DELETE' })).status, 404);
  });

  it('referrers: manifests whose subject is the digest, with an artifactType filter', async () => {
    const cfg = '{}';
    const c = await t.pushBlob('ref/app', cfg);
    const subj = await t.pushManifest('ref/app', 'v1', imageManifest(MediaTypes.ociManifest, { digest: c, size: 2 }, []), MediaTypes.ociManifest);
    const subject = { mediaType: MediaTypes.ociManifest, digest: subj.digest, size: subj.bytes.length };
    const empty = { mediaType: 'application/vnd.oci.empty.v1+json', digest: c, size: 2 };
    const sig = await t.pushManifest('ref/app', 'sig', { schemaVersion: 2, mediaType: MediaTypes.ociManifest, artifactType: 'application/vnd.example.sig', config: empty, layers: [], subject }, MediaTypes.ociManifest);
    assert.equal(sig.headers.get('oci-subject'), subj.digest);
    const sbom = await t.pushManifest('ref/app', 'sbom', { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: { ...empty, mediaType: 'application/vnd.example.sbom' }, layers: [], subject, annotations: { a: 'b' } }, MediaTypes.ociManifest);
    const all = await t.req(`/v2/ref/app/referrers/${subj.digest}`);
    assert.equal(all.status, 200);
    assert.equal(all.headers.get('content-type'), MediaTypes.ociIndex);
    const idx = all.json() as { manifests: { digest: string; artifactType: string; annotations?: object }[] };
    assert.deepEqual(idx.manifests.map((d) => d.digest).sort(), [sig.digest, sbom.digest].sort());
    assert.deepEqual(idx.manifests.find((d) => d.digest === sbom.digest), { mediaType: MediaTypes.ociManifest, digest: sbom.digest, size: sbom.bytes.length, artifactType: 'application/vnd.example.sbom', annotations: { a: 'b' } });
    const f = await t.req(`/v2/ref/app/referrers/${subj.digest}?artifactType=application/vnd.example.sig`);
    assert.equal(f.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual((f.json() as { manifests: { digest: string }[] }).manifests.map((d) => d.digest), [sig.digest]);
    assert.deepEqual((await t.req(`/v2/ref/app/referrers/${ZERO}`)).json(), { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] });
  });

  it('tags/list and _catalog paginate with n/last and a Link header', async () => {
    const c = await t.pushBlob('page/app', '{}');
    const m = imageManifest(MediaTypes.ociManifest, { digest: c, size: 2 }, []);
    for (const tag of ['c', 'a', 'b']) await t.pushManifest('page/app', tag, m, MediaTypes.ociManifest);
    assert.deepEqual((await t.req('/v2/page/app/tags/list')).json(), { name: 'page/app', tags: ['a', 'b', 'c'] });
    const p1 = await t.req('/v2/page/app/tags/list?n=2');
    assert.deepEqual((p1.json() as { tags: string[] }).tags, ['a', 'b']);
    assert.equal(p1.headers.get('link'), '</v2/page/app/tags/list?last=b&n=2>; rel="next"');
    const p2 = await t.req('/v2/page/app/tags/list?n=2&last=b');
    assert.deepEqual((p2.json() as { tags: string[] }).tags, ['c']);
    assert.equal(p2.headers.get('link'), null);
    assert.equal((await t.req('/v2/page/app/tags/list?n=x')).status, 400);
    const nu = await t.req('/v2/no/such/tags/list');
    assert.deepEqual(nu.json(), { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry', detail: { name: 'no/such' } }] });
    assert.equal((await t.req('/v2/page/tags/list')).status, 404, 'a parent path is no repository');
    const cat = (await t.req('/v2/_catalog')).json() as { repositories: string[] };
    assert.ok(cat.repositories.includes('page/app') && cat.repositories.includes('img/app'));
    assert.deepEqual(cat.repositories, [...cat.repositories].sort());
    const c1 = await t.req('/v2/_catalog?n=1');
    assert.deepEqual((c1.json() as { repositories: string[] }).repositories, [cat.repositories[0]]);
    assert.equal(c1.headers.get('link'), `</v2/_catalog?last=${encodeURIComponent(cat.repositories[0]!)}&n=1>; rel="next"`);
    const c2 = await t.req(`/v2/_catalog?n=1&last=${cat.repositories[0]}`);
    assert.deepEqual((c2.json() as { repositories: string[] }).repositories, [cat.repositories[1]]);
  });

  it('invalid repository names are NAME_INVALID', async () => {
    for (const n of ['Upper/case', 'a//b', 'a/_x', `${'a'.repeat(256)}`]) {
      const r = await t.req(`/v2/${n}/tags/list`);
      assert.equal(r.status, 400, n);
      assert.equal((r.json() as { errors: { code: string }[] }).errors[0]!.code, 'NAME_INVALID');
    }
  });
});

describe('berth-registry htpasswd basic auth', () => {
  let t: TestRegistry;
  before(async () => {
    const hash = bcrypt.hashSync('s3cret', 4).replace(/^\$2b\$/, '$2y$'); // as htpasswd -B writes it
    t = await testRegistry(new HtpasswdAuthorizer(new Map([['alice', hash]])));
  });
  after(() => t.close());
  const basic = (u: string, p: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

  it('401 with a Basic challenge and the UNAUTHORIZED envelope without or with wrong credentials', async () => {
    for (const headers of [{}, basic('alice', 'wrong'), basic('bob', 's3cret')]) {
      const r = await t.req('/v2/', { headers });
      assert.equal(r.status, 401);
      assert.equal(r.headers.get('www-authenticate'), 'Basic realm="berth-registry"');
      assert.equal((r.json() as { errors: { code: string; message: string }[] }).errors[0]!.message, 'authentication required');
    }
    assert.deepEqual((await t.req('/v2/')).json(), { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: null }] });
    const push = await t.req('/v2/x/blobs/uploads/', { method: 'POST' });
    assert.deepEqual((push.json() as { errors: { detail: { Action: string }[] }[] }).errors[0]!.detail.map((a) => a.Action), ['pull', 'push']);
    const repo = await t.req('/v2/x/tags/list');
    assert.deepEqual(repo.json(), { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: [{ Type: 'repository', Class: '', Name: 'x', Action: 'pull' }] }] });
  });

  it('the right password is let in (and remembered)', async () => {
    assert.equal((await t.req('/v2/', { headers: basic('alice', 's3cret') })).status, 200);
    assert.equal((await t.req('/v2/_catalog', { headers: basic('alice', 's3cret') })).status, 200);
  });
});
