/** The archive and changes routes over a unix socket, against a stub backend (no root). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { NotFoundError } from '../../../lib/index.ts';
import type { EngineBackend, PathStat, Change } from '../../../engine/index.ts';
import { createApiServer, type ApiServer } from '../index.ts';

const NGINX_CONF: PathStat = { name: 'nginx.conf', size: 1446, mode: 420, mtime: '2026-11-19T21:01:54Z', linkTarget: '' };
let puts: { path: string; opts: unknown; body: string }[] = [];
let changes: Change[] = [];

const stub = {
  async containerStatPath(ref: string, path: string): Promise<PathStat> {
    if (path !== '/etc/nginx/nginx.conf') throw new NotFoundError(`Could not find the file ${path} in container ${ref}`);
    return NGINX_CONF;
  },
  async containerArchivePath(ref: string, path: string) {
    if (path !== '/etc/nginx/nginx.conf') throw new NotFoundError(`Could not find the file ${path} in container ${ref}`);
    return { stat: NGINX_CONF, write: async (out: Writable) => { out.write(Buffer.from('tar bytes')); } };
  },
  async containerExtractToDir(_ref: string, path: string, opts: unknown, input: Readable): Promise<void> {
    const parts: Buffer[] = [];
    for await (const c of input) parts.push(c as Buffer);
    puts.push({ path, opts, body: Buffer.concat(parts).toString() });
  },
  async containerChanges(): Promise<Change[]> { return changes; },
};

let dir = '';
let sock = '';
let server: ApiServer;

function call(method: string, path: string, body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-archive-api-'));
  sock = join(dir, 'api.sock');
  server = createApiServer(stub as unknown as EngineBackend, { version: '0.1.0' });
  await server.listen(`unix://${sock}`);
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('HEAD: the stat as Docker encodes it (base64 of Go JSON)', async () => {
  const r = await call('HEAD', '/v1.41/containers/web/archive?path=/etc/nginx/nginx.conf');
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-docker-container-path-stat'], 'eyJuYW1lIjoibmdpbnguY29uZiIsInNpemUiOjE0NDYsIm1vZGUiOjQyMCwibXRpbWUiOiIyMDI2LTExLTE5VDIxOjAxOjU0WiIsImxpbmtUYXJnZXQiOiIifQ==');
  const missing = await call('GET', '/v1.41/containers/web/archive?path=/nonexistent');
  assert.equal(missing.status, 404);
  assert.equal(missing.body, '{"message":"Could not find the file /nonexistent in container web"}\n');
  const noPath = await call('GET', '/v1.41/containers/web/archive');
  assert.equal(noPath.status, 400);
  assert.equal(noPath.body, '{"message":"Path cannot be empty"}\n');
});

test('GET streams the tar with its stat; PUT hands over the body and the flags', async () => {
  const g = await call('GET', '/v1.41/containers/web/archive?path=/etc/nginx/nginx.conf');
  assert.equal(g.status, 200);
  assert.equal(g.headers['content-type'], 'application/x-tar');
  assert.ok(g.headers['x-docker-container-path-stat']);
  assert.equal(g.body, 'tar bytes');
  puts = [];
  const p = await call('PUT', '/v1.41/containers/web/archive?path=/tmp&noOverwriteDirNonDir=true&copyUIDGID=1', 'the tar');
  assert.equal(p.status, 200);
  assert.equal(p.body, '');
  assert.deepEqual(puts, [{ path: '/tmp', opts: { noOverwriteDirNonDir: true, copyUIDGID: true }, body: 'the tar' }]);
});

test('changes: null when nothing changed, else Docker\'s objects', async () => {
  changes = [];
  assert.equal((await call('GET', '/v1.41/containers/web/changes')).body, 'null\n');
  changes = [{ Path: '/tmp', Kind: 0 }, { Path: '/tmp/newfile', Kind: 1 }];
  assert.equal((await call('GET', '/v1.41/containers/web/changes')).body, '[{"Path":"/tmp","Kind":0},{"Path":"/tmp/newfile","Kind":1}]\n');
});
