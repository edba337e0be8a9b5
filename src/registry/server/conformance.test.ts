/**
 * The same checks against berth-registry and, when Debian's docker-registry (distribution 2.8) is installed, against
 * it too: where the two must agree (bodies, statuses, headers, pagination, mount, ranges, DELETE). Then each serves
 * a root the other wrote (the on-disk layout is distribution's).
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeAll } from '../../lib/index.ts';
import { MediaTypes, startRegistry, type RunningRegistry } from './index.ts';
import { imageManifest, sha } from './testing.ts';

const DIST = '/usr/bin/docker-registry';
const ZERO = `sha256:${'0'.repeat(64)}`;

interface Target {
  base: string;
  root: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function startBerth(root: string): Promise<Target> {
  const reg: RunningRegistry = await startRegistry({ root, addr: '127.0.0.1:0' });
  return { base: `http://${reg.addr}`, root, stop: () => reg.close() };
}

async function startDistribution(root: string): Promise<Target> {
  const port = await freePort();
  const cfg = join(root, '..', `config-${port}.yml`);
  writeFileSync(cfg, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${root}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const child: ChildProcess = spawn(DIST, ['serve', cfg], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await fetch(`${base}/v2/`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    base, root,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

const implementations: [string, (root: string) => Promise<Target>, string | false][] = [
  ['berth-registry', startBerth, false],
  ['distribution 2.8', startDistribution, existsSync(DIST) ? false : 'docker-registry (distribution 2.8) is not installed'],
];

for (const [label, start, skip] of implementations) {
  describe(`registry conformance: ${label}`, { skip }, () => {
    let dir: string;
    let t: Target;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'berth-reg-conf-'));
      t = await start(join(dir, 'root'));
    });
    after(async () => {
      await t.stop();
      await removeAll(dir);
    });
    const req = async (path: string, init?: RequestInit): Promise<{ status: number; h: Headers; text: string; json: () => unknown }> => {
      const r = await fetch(new URL(path, t.base), init);
      const text = await r.text();
      return { status: r.status, h: r.headers, text, json: () => JSON.parse(text) as unknown };
    };
    const push = async (repo: string, data: string): Promise<string> => {
      const post = await req(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
      const loc = new URL(post.h.get('location')!, t.base);
      loc.searchParams.set('digest', sha(data));
      assert.equal((await req(loc.href, { method: 'PUT', body: data, headers: { 'Content-Type': 'application/octet-stream' } })).status, 201);
      return sha(data);
    };

    it('base, blob HEAD/GET and range reads', async () => {
      const v2 = await req('/v2/');
      assert.equal(v2.status, 200);
      assert.equal(v2.h.get('docker-distribution-api-version'), 'registry/2.0');
      const d = await push('conf/a', 'hello range world');
      const head = await req(`/v2/conf/a/blobs/${d}`, { method: 'HEAD' });
      assert.equal(head.h.get('content-length'), '17');
      assert.equal(head.h.get('docker-content-digest'), d);
      const part = await req(`/v2/conf/a/blobs/${d}`, { headers: { Range: 'bytes=6-10' } });
      assert.equal(part.status, 206);
      assert.equal(part.h.get('content-range'), 'bytes 6-10/17');
      assert.equal(part.text, 'range');
      // distribution's 416 claims the blob's length for a shorter body, which fetch refuses: read the head only
      const bad = await new Promise<IncomingMessage>((resolve, reject) => {
        const r = get(new URL(`/v2/conf/a/blobs/${d}`, t.base), { headers: { Range: 'bytes=99-' } }, (res) => { resolve(res); res.destroy(); });
        r.on('error', reject);
      });
      assert.equal(bad.statusCode, 416);
      assert.equal(bad.headers['content-range'], 'bytes */17');
      const unknown = await req(`/v2/conf/a/blobs/${ZERO}`);
      assert.equal(unknown.status, 404);
      assert.deepEqual(unknown.json(), { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: ZERO }] });
    });

    it('chunked upload headers, and a wrong digest refused with nothing stored', async () => {
      const post = await req('/v2/conf/up/blobs/uploads/', { method: 'POST' });
      assert.equal(post.status, 202);
      assert.equal(post.h.get('range'), '0-0');
      assert.match(post.h.get('docker-upload-uuid')!, /^[0-9a-f-]{36}$/);
      const patch = await req(post.h.get('location')!, { method: 'PATCH', body: 'hello', headers: { 'Content-Type': 'application/octet-stream' } });
      assert.equal(patch.status, 202);
      assert.equal(patch.h.get('range'), '0-4');
      const loc = new URL(patch.h.get('location')!, t.base);
      loc.searchParams.set('digest', ZERO);
      const put = await req(loc.href, { method: 'PUT' });
      assert.equal(put.status, 400);
      assert.equal((put.json() as { errors: { code: string }[] }).errors[0]!.code, 'DIGEST_INVALID');
      assert.equal((await req(`/v2/conf/up/blobs/${sha('hello')}`, { method: 'HEAD' })).status, 404);
    });

    it('cross-repository mount: 201 for a known blob, 202 (a new upload) otherwise', async () => {
      const d = await push('conf/src', 'to mount');
      const ok = await req(`/v2/conf/dst/blobs/uploads/?mount=${d}&from=conf/src`, { method: 'POST' });
      assert.equal(ok.status, 201);
      assert.equal(ok.h.get('docker-content-digest'), d);
      assert.equal(new URL(ok.h.get('location')!, t.base).pathname, `/v2/conf/dst/blobs/${d}`);
      const miss = await req(`/v2/conf/dst/blobs/uploads/?mount=${ZERO}&from=conf/src`, { method: 'POST' });
      assert.equal(miss.status, 202);
    });

    it('manifests: blob check, exact bytes, unknown tag, DELETE by digest', async () => {
      const cfg = await push('conf/m', '{"os":"linux"}');
      const layer = await push('conf/m', 'layer');
      const put = async (ref: string, m: object): Promise<{ status: number; h: Headers; text: string; json: () => unknown }> =>
        req(`/v2/conf/m/manifests/${ref}`, { method: 'PUT', body: JSON.stringify(m), headers: { 'Content-Type': MediaTypes.dockerManifest } });
      const missing = await put('v1', imageManifest(MediaTypes.dockerManifest, { digest: cfg, size: 14 }, [{ digest: ZERO, size: 1 }]));
      assert.equal(missing.status, 400);
      assert.equal((missing.json() as { errors: { code: string }[] }).errors[0]!.code, 'MANIFEST_BLOB_UNKNOWN');
      const m = imageManifest(MediaTypes.dockerManifest, { digest: cfg, size: 14 }, [{ digest: layer, size: 5 }]);
      const ok = await put('v1', m);
      assert.equal(ok.status, 201);
      const digest = sha(JSON.stringify(m));
      assert.equal(ok.h.get('docker-content-digest'), digest);
      const got = await req('/v2/conf/m/manifests/v1', { headers: { Accept: MediaTypes.dockerManifest } });
      assert.equal(got.text, JSON.stringify(m));
      assert.equal(got.h.get('content-type'), MediaTypes.dockerManifest);
      assert.deepEqual((await req('/v2/conf/m/manifests/nope', { headers: { Accept: MediaTypes.dockerManifest } })).json(), { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'nope' } }] });
      assert.equal((await req(`/v2/conf/m/manifests/${digest}`, { method: 'DELETE' })).status, 202);
      assert.equal((await req(`/v2/conf/m/manifests/${digest}`, { headers: { Accept: MediaTypes.dockerManifest } })).status, 404);
      assert.equal((await req(`/v2/conf/m/blobs/${layer}`, { method: 'DELETE' })).status, 202);
      assert.equal((await req(`/v2/conf/m/blobs/${layer}`, { method: 'HEAD' })).status, 404);
    });

    it('_catalog pagination and NAME_UNKNOWN', async () => {
      const all = (await req('/v2/_catalog')).json() as { repositories: string[] };
      assert.deepEqual(all.repositories, ['conf/a', 'conf/dst', 'conf/m', 'conf/src'], 'a repository with only a cancelled upload is not listed');
      const p1 = await req('/v2/_catalog?n=2');
      assert.deepEqual((p1.json() as { repositories: string[] }).repositories, ['conf/a', 'conf/dst']);
      assert.equal(p1.h.get('link'), '</v2/_catalog?last=conf%2Fdst&n=2>; rel="next"');
      const p3 = await req('/v2/_catalog?last=conf%2Fm&n=2');
      assert.deepEqual((p3.json() as { repositories: string[] }).repositories, ['conf/src']);
      assert.equal(p3.h.get('link'), null);
      assert.deepEqual((await req('/v2/conf/none/tags/list')).json(), { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry', detail: { name: 'conf/none' } }] });
    });
  });
}

describe('registry conformance: each serves the root the other wrote', { skip: existsSync(DIST) ? false : 'docker-registry is not installed' }, () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'berth-reg-swap-')); });
  after(() => removeAll(dir));

  for (const [writer, reader] of [[startDistribution, startBerth], [startBerth, startDistribution]] as const) {
    it(`${writer === startBerth ? 'berth-registry' : 'distribution'} writes, ${reader === startBerth ? 'berth-registry' : 'distribution'} reads`, async () => {
      const root = join(dir, writer.name);
      const w = await writer(root);
      const cfg = '{"architecture":"amd64"}';
      const blob = async (data: string): Promise<string> => {
        const r = await fetch(`${w.base}/v2/swap/app/blobs/uploads/?digest=${sha(data)}`, { method: 'POST', body: data, headers: { 'Content-Type': 'application/octet-stream' } });
        if (r.status !== 201) {
          // distribution 2.8 ignores a monolithic POST's body: finish the upload it started
          const loc = new URL(r.headers.get('location')!, w.base);
          loc.searchParams.set('digest', sha(data));
          assert.equal((await fetch(loc, { method: 'PUT', body: data })).status, 201);
        }
        return sha(data);
      };
      const m = JSON.stringify(imageManifest(MediaTypes.ociManifest, { digest: await blob(cfg), size: cfg.length }, [{ digest: await blob('layer bytes'), size: 11 }]));
      assert.equal((await fetch(`${w.base}/v2/swap/app/manifests/v1`, { method: 'PUT', body: m, headers: { 'Content-Type': MediaTypes.ociManifest } })).status, 201);
      await w.stop();
      const r = await reader(root);
      try {
        const got = await fetch(`${r.base}/v2/swap/app/manifests/v1`, { headers: { Accept: MediaTypes.ociManifest } });
        assert.equal(await got.text(), m);
        assert.equal(await (await fetch(`${r.base}/v2/swap/app/blobs/${sha('layer bytes')}`)).text(), 'layer bytes');
        assert.deepEqual(await (await fetch(`${r.base}/v2/swap/app/tags/list`)).json(), { name: 'swap/app', tags: ['v1'] });
      } finally {
        await r.stop();
      }
    });
  }
});
