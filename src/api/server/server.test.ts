/**
 * The API server against an in-memory backend, driven over a unix socket by raw HTTP, the real docker
 * CLIs (28.2 and 20.10) and docker-py. No root needed.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiServer, type ApiServer } from './index.ts';
import { FakeBackend } from './fake-backend.test.ts';

const DOCKER28 = '/usr/local/bin/docker';
const DOCKER20 = '/usr/bin/docker';

interface Res { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

function call(sock: string, method: string, path: string, opts: { body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, method, path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function run(cmd: string, args: string[], env: Record<string, string>, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('error', reject);
    p.on('close', (code) => { clearTimeout(t); resolve({ code: code ?? -1, stdout, stderr }); });
    p.stdin.end(input);
  });
}

let dir: string;
let sock: string;
let backend: FakeBackend;
let server: ApiServer;
let env: Record<string, string>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-api-'));
  sock = join(dir, 'api.sock');
  backend = new FakeBackend();
  server = createApiServer(backend, { version: '0.1.0' });
  await server.listen(`unix://${sock}`);
  env = { DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(dir, 'cfg'), HOME: dir };
  await backend.createContainer({ name: 'sleeper', config: { Image: 'busybox:1.35', Cmd: ['sleep', '100'] }, hostConfig: {} });
  await backend.startContainer('sleeper');
  await backend.createContainer({ name: 'logger', config: { Image: 'busybox:1.35', Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'] }, hostConfig: {} });
  await backend.startContainer('logger');
  await new Promise((r) => setTimeout(r, 60));
});

after(async () => {
  try {
    await server.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('raw HTTP', () => {
  test('GET and HEAD /_ping carry Docker\'s headers', async () => {
    const g = await call(sock, 'GET', '/_ping');
    assert.equal(g.status, 200);
    assert.equal(g.body.toString(), 'OK');
    assert.equal(g.headers['api-version'], '1.41');
    assert.equal(g.headers['ostype'], 'linux');
    assert.equal(g.headers['server'], 'berth/0.1.0 (linux)');
    assert.equal(g.headers['docker-experimental'], 'false');
    assert.equal(g.headers['cache-control'], 'no-cache, no-store, must-revalidate');
    assert.equal(g.headers['content-type'], 'text/plain; charset=utf-8');
    const up = await call(sock, 'GET', '/_ping', { headers: { Connection: 'Upgrade', Upgrade: 'tcp' } });
    assert.equal(up.status, 200);
    assert.equal(up.body.toString(), 'OK');
    const h = await call(sock, 'HEAD', '/v1.41/_ping');
    assert.equal(h.status, 200);
    assert.equal(h.headers['content-length'], '0');
  });

  test('API version too new (JSON) and too old (text/plain)', async () => {
    const n = await call(sock, 'GET', '/v1.99/_ping');
    assert.equal(n.status, 400);
    assert.equal(n.body.toString(), '{"message":"client version 1.99 is too new. Maximum supported API version is 1.41"}\n');
    assert.equal(n.headers['content-type'], 'application/json');
    const o = await call(sock, 'GET', '/v1.11/_ping');
    assert.equal(o.status, 400);
    assert.equal(o.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(o.body.toString(), 'client version 1.11 is too old. Minimum supported API version is 1.12, please upgrade your client to a newer version\n');
    const ok = await call(sock, 'GET', '/v1.24/version');
    assert.equal(ok.status, 200);
  });

  test('unknown path: 404 page not found', async () => {
    const r = await call(sock, 'GET', '/v1.41/nosuchendpoint');
    assert.equal(r.status, 404);
    assert.equal(r.body.toString(), '{"message":"page not found"}\n');
  });

  test('JSON is written as dockerd\'s WriteJSON does (no HTML escaping) and ends with a newline', async () => {
    const r = await call(sock, 'GET', '/v1.41/containers/logger/json');
    const s = r.body.toString();
    assert.ok(s.endsWith('}\n'));
    assert.match(s, /echo err >&2; exit 3/);
    const j = JSON.parse(s) as Record<string, unknown>;
    assert.deepEqual(Object.keys(j).slice(0, 8), ['Id', 'Created', 'Path', 'Args', 'State', 'Image', 'ResolvConfPath', 'HostnamePath']);
    assert.equal(j.Name, '/logger');
    assert.equal((j.State as { Status: string }).Status, 'exited');
    assert.equal((j.GraphDriver as { Name: string }).Name, 'overlay2');
    const hc = Object.keys(j.HostConfig as object);
    assert.deepEqual(hc.slice(0, 4), ['Binds', 'ContainerIDFile', 'LogConfig', 'NetworkMode']);
    assert.equal(hc.at(-1), 'ReadonlyPaths');
  });

  test('create: decode errors as Docker words them (400 instead of Docker\'s 500)', async () => {
    const bad = await call(sock, 'POST', '/v1.41/containers/create', { body: '{"Image":', headers: { 'Content-Type': 'application/json' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.toString(), '{"message":"unexpected EOF"}\n');
    const ct = await call(sock, 'POST', '/v1.41/containers/create', { body: '{}', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(ct.status, 400);
    assert.equal(ct.body.toString(), '{"message":"Content-Type specified (text/plain) must be \'application/json\'"}\n');
    const empty = await call(sock, 'POST', '/v1.41/containers/create', { headers: { 'Content-Type': 'application/json' } });
    assert.equal(empty.body.toString(), '{"message":"EOF"}\n');
    const f = await call(sock, 'GET', '/v1.41/containers/json?filters=notjson');
    assert.equal(f.status, 400);
    assert.equal(f.body.toString(), '{"message":"invalid character \'o\' in literal null (expecting \'u\')"}\n');
    const k = await call(sock, 'GET', `/v1.41/containers/json?filters=${encodeURIComponent('{"nosuchkey":["x"]}')}`);
    assert.equal(k.body.toString(), '{"message":"Invalid filter \'nosuchkey\'"}\n');
    const t = await call(sock, 'POST', '/v1.41/containers/logger/stop?t=abc');
    assert.equal(t.status, 400);
    assert.equal(t.body.toString(), '{"message":"strconv.Atoi: parsing \\"abc\\": invalid syntax"}\n');
  });

  test('errors: 404, 409, 304 with Docker\'s bodies', async () => {
    const nf = await call(sock, 'GET', '/v1.41/containers/nosuch/json');
    assert.equal(nf.status, 404);
    assert.equal(nf.body.toString(), '{"message":"No such container: nosuch"}\n');
    const img = await call(sock, 'GET', '/v1.41/images/nosuch:latest/json');
    assert.equal(img.body.toString(), '{"message":"no such image: nosuch:latest: No such image: nosuch:latest"}\n');
    const stop = await call(sock, 'POST', '/v1.41/containers/logger/stop');
    assert.equal(stop.status, 304);
    assert.equal(stop.body.length, 0);
    const logs = await call(sock, 'GET', '/v1.41/containers/logger/logs');
    assert.equal(logs.body.toString(), '{"message":"Bad parameters: you must choose at least one stream"}\n');
  });

  test('logs: stdcopy frames, no Content-Type, 9-digit timestamps', async () => {
    const r = await call(sock, 'GET', '/v1.41/containers/logger/logs?stdout=1&stderr=1');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], undefined);
    assert.deepEqual([...r.body], [1, 0, 0, 0, 0, 0, 0, 4, ...Buffer.from('out\n'), 2, 0, 0, 0, 0, 0, 0, 4, ...Buffer.from('err\n')]);
    const t = await call(sock, 'GET', '/v1.41/containers/logger/logs?stderr=1&timestamps=1');
    assert.match(t.body.subarray(8).toString(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z err\n$/);
  });

  test('attach to an unknown container: raw error after the request', async () => {
    const r = await call(sock, 'POST', '/v1.41/containers/nosuch/attach?stream=1&stdout=1', { headers: { Connection: 'Upgrade', Upgrade: 'tcp' } }).catch(() => undefined);
    // node:http treats the reply as a normal response (it asked to upgrade but got 404).
    assert.ok(r);
    assert.equal(r.status, 404);
    assert.equal(r.body.toString(), 'No such container: nosuch\r\n');
  });

  test('wait: headers at once, body when the container exits', async () => {
    const { id } = await backend.createContainer({ name: 'waiter', config: { Image: 'busybox:1.35', Cmd: ['sh', '-c', 'sleep 1; exit 42'] }, hostConfig: {} });
    await backend.startContainer(id);
    const t0 = Date.now();
    const r = await new Promise<{ headersAt: number; body: string; status: number }>((resolve, reject) => {
      const req = request({ socketPath: sock, method: 'POST', path: `/v1.41/containers/${id}/wait` }, (res) => {
        const headersAt = Date.now() - t0;
        let body = '';
        res.on('data', (d: Buffer) => { body += d.toString(); });
        res.on('end', () => resolve({ headersAt, body, status: res.statusCode! }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(r.status, 200);
    assert.ok(r.headersAt < 500, `headers after ${r.headersAt} ms`);
    assert.ok(Date.now() - t0 >= 900);
    assert.equal(r.body, '{"Error":null,"StatusCode":42}\n');
    const nf = await call(sock, 'POST', '/v1.41/containers/nosuch/wait');
    assert.equal(nf.status, 404);
  });

  test('attach: exact 101 head, stdin pumped, frames, 200 without Upgrade', async () => {
    const { id } = await backend.createContainer({ name: 'cat', config: { Image: 'busybox:1.35', Cmd: ['cat'], OpenStdin: true, StdinOnce: true }, hostConfig: {} });
    const raw = (req: string, stdin?: string) => new Promise<Buffer>((resolve, reject) => {
      const c = connect(sock);
      const chunks: Buffer[] = [];
      c.on('data', (d: Buffer) => {
        chunks.push(d);
        if (stdin !== undefined && Buffer.concat(chunks).includes('\r\n\r\n')) {
          const s = stdin;
          stdin = undefined;
          c.end(s);
        }
      });
      c.on('end', () => resolve(Buffer.concat(chunks)));
      c.on('error', reject);
      c.write(req);
    });
    const p = raw(`POST /v1.41/containers/${id}/attach?stderr=1&stdin=1&stdout=1&stream=1 HTTP/1.1\r\nHost: \r\nContent-Length: 0\r\nConnection: Upgrade\r\nContent-Type: text/plain\r\nUpgrade: tcp\r\n\r\n`, 'input-line\n');
    await new Promise((r) => setTimeout(r, 50));
    await call(sock, 'POST', `/v1.41/containers/${id}/start`);
    const out = await p;
    const head = 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n';
    assert.equal(out.subarray(0, head.length).toString(), head);
    assert.deepEqual([...out.subarray(head.length)], [1, 0, 0, 0, 0, 0, 0, 11, ...Buffer.from('input-line\n')]);
    const plain = await raw('POST /v1.41/containers/logger/attach?stream=0&logs=1&stdout=1 HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(plain.toString(), 'HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n\x01\x00\x00\x00\x00\x00\x00\x04out\n');
  });

  test('images: list shape, routing of names with slashes, tag → 201', async () => {
    const tag = await call(sock, 'POST', '/v1.41/images/busybox:1.35/tag?repo=my/repo&tag=v1');
    assert.equal(tag.status, 201);
    const insp = await call(sock, 'GET', '/v1.41/images/my/repo:v1/json');
    assert.equal(insp.status, 200);
    const j = JSON.parse(insp.body.toString()) as { RepoTags: string[]; RootFS: { Type: string }; Metadata: object };
    assert.ok(j.RepoTags.includes('my/repo:v1'));
    assert.equal(j.RootFS.Type, 'layers');
    const list = JSON.parse((await call(sock, 'GET', `/v1.41/images/json?filters=${encodeURIComponent('{"reference":["my/*"]}')}`)).body.toString()) as { RepoTags: string[]; Containers: number }[];
    assert.deepEqual(list.map((i) => i.RepoTags), [['my/repo:v1']]);
    assert.equal(list[0]!.Containers, -1);
    const del = await call(sock, 'DELETE', '/v1.41/images/my/repo:v1');
    assert.equal(del.body.toString(), '[{"Untagged":"my/repo:v1"}]\n');
  });

  test('import: changes become a partial config; fromImage is 501', async () => {
    const r = await call(sock, 'POST', `/v1.41/images/create?fromSrc=-&repo=imported%3Acli&tag=&message=hello&changes=${encodeURIComponent('CMD ["/bin/sh"]')}&changes=${encodeURIComponent('ENV A=1 B="x y"')}`, { body: Buffer.alloc(1024), headers: { 'Content-Type': 'application/x-tar' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), '{"status":"sha256:88be4a125cca6fefae1cb8a348989b4b6f009de867b4ca0d70534c7e60d7ff75"}\n');
    assert.deepEqual(backend.lastImport, { repo: 'imported', tag: 'cli', message: 'hello', config: { Cmd: ['/bin/sh'], Env: ['A=1', 'B=x y'] } });
    const pull = await call(sock, 'POST', '/v1.41/images/create?fromImage=nosuch&tag=latest');
    assert.equal(pull.status, 501);
  });

  test('images/get of an unknown image is a JSON 404, not a broken tar', async () => {
    const r = await call(sock, 'GET', '/v1.41/images/get?names=nosuch:tag');
    assert.equal(r.status, 404);
    assert.equal(r.body.toString(), '{"message":"reference does not exist"}\n');
    const ok = await call(sock, 'GET', '/v1.41/images/busybox:1.35/get');
    assert.equal(ok.headers['content-type'], 'application/x-tar');
    assert.equal(ok.body.length, 2048);
  });

  test('events: since/until replay then close', async () => {
    const now = Math.floor(Date.now() / 1000);
    const r = await call(sock, 'GET', `/v1.41/events?since=${now - 60}&until=${now + 1}&filters=${encodeURIComponent('{"type":["container"],"event":["die"]}')}`);
    const lines = r.body.toString().trim().split('\n').map((l) => JSON.parse(l) as { status: string; from: string; Action: string });
    assert.ok(lines.length >= 1);
    assert.equal(lines[0]!.status, 'die');
    assert.equal(lines[0]!.from, 'busybox:1.35');
    // since=0 is the epoch: everything kept is replayed
    const all = await call(sock, 'GET', `/v1.41/events?since=0&until=${now + 1}&filters=${encodeURIComponent('{"event":["die"]}')}`);
    const replayed = all.body.toString().trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { status: string }).status);
    assert.deepEqual(replayed, lines.map((l) => l.status));
  });
});

describe('listening', () => {
  test('unix socket mode 0660, a stale socket file is replaced, tcp works', async () => {
    assert.equal(statSync(sock).mode & 0o777, 0o660);
    const stale = join(dir, 'stale.sock');
    // A socket file nobody listens on, as a crashed daemon leaves it (python does not unlink on exit).
    const py = await run('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(stale)})`], {});
    assert.equal(py.code, 0, py.stderr);
    assert.ok(statSync(stale).isSocket());
    const srv = createApiServer(backend, {});
    await srv.listen(`unix://${stale}`);
    assert.equal((await call(stale, 'GET', '/_ping')).status, 200);
    // A live daemon's socket is not taken over.
    await assert.rejects(createApiServer(backend, {}).listen(`unix://${stale}`), /already serving/);
    await srv.listen('tcp://127.0.0.1:0');
    const addr = srv.addresses().find((a) => a.startsWith('tcp://'))!;
    const port = Number(addr.split(':').at(-1));
    const r = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/_ping' }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject).end();
    });
    assert.equal(r, 200);
    await srv.close();
    assert.ok(!existsSync(stale), 'close removes the socket file');
  });
});

test('close() ends long-lived streams and hijacked connections at once', async () => {
  const path = join(dir, 'close.sock');
  const srv = createApiServer(backend, {});
  await srv.listen(`unix://${path}`);
  const events = new Promise<void>((resolve) => {
    request({ socketPath: path, path: '/v1.41/events' }, (res) => { res.resume(); res.on('close', resolve); }).on('error', () => resolve()).end();
  });
  const attached = new Promise<void>((resolve) => {
    const c = connect(path);
    c.on('data', () => {});
    c.on('close', () => resolve());
    c.on('error', () => resolve());
    c.write('POST /v1.41/containers/sleeper/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
  });
  await new Promise((r) => setTimeout(r, 100));
  const t0 = Date.now();
  await srv.close();
  await Promise.all([events, attached]);
  assert.ok(Date.now() - t0 < 1000);
  assert.ok(!existsSync(path));
});

for (const [label, bin] of [['docker 28.2', DOCKER28], ['docker 20.10', DOCKER20]] as const) {
  describe(`${label} CLI`, { skip: !existsSync(bin) && `${bin} not installed` }, () => {
    test('version and info', async () => {
      const v = await run(bin, ['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}'], env);
      assert.equal(v.code, 0, v.stderr);
      assert.equal(v.stdout.trim(), '0.1.0 1.41');
      const i = await run(bin, ['info', '--format', '{{.Driver}} {{.CgroupVersion}} {{.DefaultRuntime}} {{.Containers}} {{.InitBinary}} {{.NCPU}}'], env);
      assert.equal(i.code, 0, i.stderr);
      assert.match(i.stdout.trim(), /^overlay2 1 runc \d+ docker-init 2$/);
      const full = await run(bin, ['info'], env);
      assert.equal(full.code, 0, full.stderr);
      assert.match(full.stdout, /Storage Driver: overlay2/);
    });

    test('ps -a shows Docker\'s status strings', async () => {
      const r = await run(bin, ['ps', '-a', '--format', '{{.Names}}|{{.Status}}|{{.Command}}'], env);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.ok(lines.some((l) => /^sleeper\|Up .+\|"sleep 100"$/.test(l)), r.stdout);
      assert.ok(lines.some((l) => /^logger\|Exited \(3\) .+ ago\|"sh -c 'echo out; ec…"$/.test(l)), r.stdout);
    });

    test('inspect and images', async () => {
      const r = await run(bin, ['inspect', '--format', '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{.HostConfig.NetworkMode}}', 'logger'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), '/logger exited 3 default');
      const nf = await run(bin, ['inspect', 'nosuch'], env);
      assert.equal(nf.code, 1);
      assert.match(nf.stderr, /No such object: nosuch/);
      const im = await run(bin, ['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}'], env);
      assert.equal(im.code, 0, im.stderr);
      assert.ok(im.stdout.includes('busybox:1.35 0dcfc6fe9a75 1.99MB'), im.stdout);
    });

    test('logs keeps stdout and stderr apart', async () => {
      const r = await run(bin, ['logs', 'logger'], env);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, 'out\n');
      assert.equal(r.stderr, 'err\n');
    });

    test('rm of a running container: 409 text, exit 1', async () => {
      const r = await run(bin, ['rm', 'sleeper'], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Error response from daemon: You cannot remove a running container [0-9a-f]{64}\. Stop the container before attempting removal or force remove/);
    });

    test('run attached: create, attach (101), wait, start, output, exit code', async () => {
      const name = `fg${bin.length}`;
      const r = await run(bin, ['run', '--name', name, 'busybox:1.35', 'sh', '-c', 'echo to-stdout; echo to-stderr >&2; exit 5'], env);
      assert.equal(r.code, 5, r.stderr);
      assert.equal(r.stdout, 'to-stdout\n');
      assert.equal(r.stderr, 'to-stderr\n');
    });

    test('echo hi | run -i --rm: stdin over the hijacked connection, half-close', async () => {
      const before = backend.containers.size;
      const r = await run(bin, ['run', '-i', '--rm', 'busybox:1.35', 'cat'], env, 'hi\n');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'hi\n');
      assert.equal(backend.containers.size, before);
    });

    test('run -d then stop', async () => {
      const r = await run(bin, ['run', '-d', 'busybox:1.35', 'sleep', '100'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout.trim(), /^[0-9a-f]{64}$/);
      const s = await run(bin, ['stop', '-t', '1', r.stdout.trim()], env);
      assert.equal(s.code, 0, s.stderr);
    });

    test('load, save, import', async () => {
      const tar = join(dir, 'in.tar');
      writeFileSync(tar, Buffer.alloc(4096));
      const l = await run(bin, ['load', '-i', tar], env);
      assert.equal(l.code, 0, l.stderr);
      assert.equal(l.stdout, 'Loaded image: busybox:1.35\nLoaded image: busybox:latest\n');
      const s = await run(bin, ['save', 'nosuch:1', '-o', join(dir, 'out.tar')], env);
      assert.equal(s.code, 1);
      assert.match(s.stderr, /reference does not exist/);
      const i = await run(bin, ['import', '-c', 'CMD ["/bin/sh"]', tar, 'imported:x'], env);
      assert.equal(i.code, 0, i.stderr);
      assert.match(i.stdout, /^sha256:[0-9a-f]{64}\n$/);
    });
  });
}

test('docker-py', { skip: !existsSync('/usr/lib/python3/dist-packages/docker') && 'python3-docker not installed' }, async () => {
  const py = `
import docker
c = docker.DockerClient(base_url="unix://${sock}")
print(c.version()["ApiVersion"])
print(sorted(x.name for x in c.containers.list(all=True) if x.name in ("sleeper", "logger")))
print(c.containers.get("logger").logs(stdout=True, stderr=False).decode().strip())
print(c.containers.run("busybox:1.35", ["sh", "-c", "echo py"], remove=True).decode().strip())
print(c.images.get("busybox:1.35").id)
`;
  const r = await run('python3', ['-c', py], env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    '1.41', "['logger', 'sleeper']", 'out', 'py', 'sha256:0dcfc6fe9a7500e1890a91bb2ebbf9d6ba7ccce571029f6aefcfe633b6a89a09',
  ]);
});
