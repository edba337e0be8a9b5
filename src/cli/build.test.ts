/**
 * `berth build`: the /build query string, the context tar, the JSON stream's display, and whole runs of the CLI
 * against a fake daemon (a node:http server on a unix socket that records what it is sent). When the docker 20.10
 * CLI is installed, the same runs go through it too, and both must send the same request and print the same
 * output (no root, no dockerd needed).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TarParser, type TarHeader } from '../lib/index.ts';
import { PatternMatcher, trimBuildFilesFromExcludes } from '../builder/dockerfile/index.ts';
import { buildArgs, buildQuery, checkBuildFlags, displayJsonStream, registryConfig, sentLine, StreamError, tagError } from './commands/build.ts';
import { contextTar, isArchive, walkContext } from './build-context.ts';
import { compile, parse } from './flags.ts';
import { spec } from './main.ts';
import { CliError } from './errors.ts';
import { humanSize } from '../lib/index.ts';

const CLI = resolve(import.meta.dirname, '../cmd/cli.ts');
const DOCKER20 = '/usr/bin/docker';
const opts = (...argv: string[]) => parse(argv, compile(spec('build').opts)).opts;

// ───────────────────────── the request ─────────────────────────

test('the query string of `build -t built:cli .` is the one the 20.10 CLI sent (wire/docker-build.txt)', () => {
  const o = opts('-t', 'built:cli');
  assert.equal(buildQuery(o, 'Dockerfile', buildArgs([], {}, {}, 'unix:///x')),
    'buildargs=%7B%7D&cachefrom=%5B%5D&cgroupparent=&cpuperiod=0&cpuquota=0&cpusetcpus=&cpusetmems=&cpushares=0&dockerfile=Dockerfile&labels=%7B%7D'
    + '&memory=0&memswap=0&networkmode=default&rm=1&shmsize=0&t=built%3Acli&target=&ulimits=null&version=1');
  assert.equal(registryConfig({}), 'e30=');
});

test('every flag in the query, encoded and ordered as the 20.10 CLI does (captured from it)', () => {
  const o = opts('-t', 'a/b:c', '-t', 'localhost:5000/x:1', '--no-cache', '--pull', '--rm=false', '--force-rm', '-m', '64m', '--memory-swap', '-1',
    '--shm-size', '1g', '-c', '512', '--cpu-period', '100000', '--cpu-quota', '50000', '--cpuset-cpus', '0-1', '--cpuset-mems', '0', '--cgroup-parent', '/x',
    '--network', 'host', '--add-host', 'a:1.2.3.4', '--add-host', 'b:host-gateway', '--cache-from', 'a,b', '--cache-from', 'c', '--security-opt', 'seccomp=unconfined',
    '--target', 't1', '--ulimit', 'nofile=1024:2048', '--isolation', 'default', '--label', 'x=<&>', '--label', 'y', '--build-arg', 'sp=a b!*()',
    '--build-arg', 'NOPE_UNSET', '-q');
  checkBuildFlags(o);
  const args = buildArgs(o.buildArg as string[], {}, {}, 'unix:///x');
  assert.equal(buildQuery(o, 'Dockerfile', args),
    'buildargs=%7B%22NOPE_UNSET%22%3Anull%2C%22sp%22%3A%22a+b%21%2A%28%29%22%7D&cachefrom=%5B%22a%22%2C%22b%22%2C%22c%22%5D&cgroupparent=%2Fx'
    + '&cpuperiod=100000&cpuquota=50000&cpusetcpus=0-1&cpusetmems=0&cpushares=512&dockerfile=Dockerfile&extrahosts=a%3A1.2.3.4&extrahosts=b%3Ahost-gateway'
    + '&forcerm=1&labels=%7B%22x%22%3A%22%5Cu003c%5Cu0026%5Cu003e%22%2C%22y%22%3A%22%22%7D&memory=67108864&memswap=-1&networkmode=host&nocache=1&pull=1'
    + '&q=1&rm=0&securityopt=seccomp%3Dunconfined&shmsize=1073741824&t=a%2Fb%3Ac&t=localhost%3A5000%2Fx%3A1&target=t1'
    + '&ulimits=%5B%7B%22Name%22%3A%22nofile%22%2C%22Hard%22%3A2048%2C%22Soft%22%3A1024%7D%5D&version=1');
});

test('build args: K=V, K from the environment, K unset → null; config-file proxies fill in HTTP_PROXY and http_proxy', () => {
  assert.deepEqual(buildArgs(['A=1', 'B', 'C', 'D='], { B: 'from-env' }, {}, 'h'), { A: '1', B: 'from-env', C: null, D: '' });
  const cfg = { proxies: { default: { httpProxy: 'http://p:3128', noProxy: 'localhost' } } };
  assert.deepEqual(buildArgs(['no_proxy=x'], {}, cfg, 'h'), { no_proxy: 'x', HTTP_PROXY: 'http://p:3128', http_proxy: 'http://p:3128', NO_PROXY: 'localhost' });
  // credentials: base64url of {"registry":{username,password,serveraddress}}
  const x = registryConfig({ auths: { 'r.example:5000': { auth: Buffer.from('u:p:q').toString('base64') } } });
  assert.deepEqual(JSON.parse(Buffer.from(x, 'base64').toString()), { 'r.example:5000': { username: 'u', password: 'p:q', serveraddress: 'r.example:5000' } });
});

test('flag values docker refuses, with its words (exit 125)', () => {
  const err = (...argv: string[]): string => {
    try { checkBuildFlags(opts(...argv)); } catch (e) { assert.ok(e instanceof CliError && e.code === 125 && e.kind === 'flag'); return e.message; }
    return 'accepted';
  };
  assert.equal(err('-t', 'Foo'), 'invalid argument "Foo" for "-t, --tag" flag: invalid reference format: repository name must be lowercase');
  assert.equal(err('-t', 'a b'), 'invalid argument "a b" for "-t, --tag" flag: invalid reference format');
  assert.equal(err('-t', 'ok/name:v1', '-t', 'x:y:z'), 'invalid argument "x:y:z" for "-t, --tag" flag: invalid reference format');
  assert.equal(err('--build-arg', '=x'), 'invalid argument "=x" for "--build-arg" flag: invalid environment variable: =x');
  assert.equal(err('--add-host', 'x'), 'invalid argument "x" for "--add-host" flag: bad format for add-host: "x"');
  assert.equal(err('--add-host', 'x:1.2.3'), 'invalid argument "x:1.2.3" for "--add-host" flag: invalid IP address in add-host: "1.2.3"');
  assert.equal(err('--ulimit', 'x'), 'invalid argument "x" for "--ulimit" flag: invalid ulimit argument: x');
  assert.equal(err('--ulimit', 'nofile=2:1'), 'invalid argument "nofile=2:1" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 2 > 1');
  assert.equal(err('-m', 'x'), 'invalid argument "x" for "-m, --memory" flag: invalid size: \'x\'');
  assert.equal(err('--shm-size', '-1'), 'invalid argument "-1" for "--shm-size" flag: invalid size: \'-1\'');
  assert.equal(err('-c', 'x'), 'invalid argument "x" for "-c, --cpu-shares" flag: strconv.ParseInt: parsing "x": invalid syntax');
  assert.equal(err('-t', 'localhost:5000/a/b:1', '--add-host', 'h:::1', '--memory-swap', '-1', '--label', 'nolabelvalue'), 'accepted');
  assert.equal(tagError('0'.repeat(64)), `invalid repository name (${'0'.repeat(64)}), cannot specify 64-byte hexadecimal strings`);
  assert.equal(tagError(`a@sha256:${'0'.repeat(63)}`), 'invalid checksum digest length');
  assert.equal(tagError(`a@sha256:${'0'.repeat(64)}`), undefined);
});

// ───────────────────────── the context tar ─────────────────────────

interface Seen { name: string; type: string; mode: string; uid: number; gid: number; size: number; link: string; data: string }
function readTar(buf: Buffer): Seen[] {
  const out: Seen[] = [];
  let cur: Seen | undefined;
  const p = new TarParser({
    entry(h: TarHeader) { cur = { name: h.name, type: h.type, mode: (h.mode & 0o7777).toString(8), uid: h.uid, gid: h.gid, size: h.size, link: h.linkname, data: '' }; out.push(cur); },
    data(c: Buffer) { cur!.data += c.toString(); },
    endEntry() {},
  });
  p.write(buf);
  return out;
}

let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'berth-build-test-')); });
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

function makeContext(name: string, files: Record<string, string>): string {
  const root = join(dir, name);
  for (const [f, content] of Object.entries(files)) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    if (f.endsWith('/')) mkdirSync(join(root, f), { recursive: true }); else writeFileSync(join(root, f), content);
  }
  return root;
}

function tarOf(root: string, excludes: string[], dockerfile = 'Dockerfile', extra?: Buffer): { buf: Buffer; name?: string } {
  const pm = new PatternMatcher(trimBuildFilesFromExcludes(excludes, dockerfile, false));
  const t = contextTar(walkContext(root, pm), extra ? { content: extra, name: '.dockerfile.0123456789abcdef0123', mtime: 1 } : undefined);
  return { buf: Buffer.concat([...t.chunks as Iterable<Buffer>]), ...(t.dockerfileName ? { name: t.dockerfileName } : {}) };
}

test('the context tar: sorted walk, .dockerignore applied (exceptions, parents), uid/gid 0, modes, symlinks, hard links', () => {
  const root = makeContext('ctx1', {
    'Dockerfile': 'FROM busybox\n', '.dockerignore': '# ignore\nnode_modules\n**/*.log\ndocs\n!docs/keep.md\nDockerfile\n.dockerignore\n',
    'b.txt': 'b', 'a.txt': 'a', 'sub/x.log': 'log', 'sub/deep/y.log': 'log', 'sub/keep.c': 'c', 'docs/keep.md': 'k', 'docs/drop.md': 'd',
    'node_modules/p/i.js': 'js', 'empty/': '',
  });
  chmodSync(join(root, 'sub/keep.c'), 0o750);
  symlinkSync('a.txt', join(root, 'ln'));
  linkSync(join(root, 'b.txt'), join(root, 'hard'));
  const { buf } = tarOf(root, ['node_modules', '**/*.log', 'docs', '!docs/keep.md', 'Dockerfile', '.dockerignore']);
  const seen = readTar(buf);
  assert.deepEqual(seen.map((e) => [e.name, e.type, e.mode, e.link]), [
    ['.dockerignore', 'file', '644', ''],
    ['Dockerfile', 'file', '644', ''],
    ['a.txt', 'file', '644', ''],
    ['b.txt', 'file', '644', ''],
    ['docs/keep.md', 'file', '644', ''], // docs/ itself stays out, its exception comes in
    ['empty/', 'dir', '755', ''],
    ['hard', 'link', '644', 'b.txt'],
    ['ln', 'symlink', '777', 'a.txt'],
    ['sub/', 'dir', '755', ''],
    ['sub/deep/', 'dir', '755', ''],
    ['sub/keep.c', 'file', '750', ''],
  ]);
  assert.ok(seen.every((e) => e.uid === 0 && e.gid === 0));
  assert.equal(seen.find((e) => e.name === 'Dockerfile')!.data, 'FROM busybox\n');
  // Go's tar writer: no padding to a 10 KiB record, two zero blocks at the end
  assert.equal(buf.length % 512, 0);
  assert.ok(buf.subarray(-1024).every((b) => b === 0));
});

test('the Dockerfile header is byte for byte the one the 20.10 CLI sent (wire/docker-build.txt)', { skip: process.getuid?.() !== 0 ? 'the header names the owner: needs files owned by root' : false }, () => {
  const df = 'FROM busybox:1.35\nLABEL org.example.role="demo"\nENV GREETING=hello\nWORKDIR /app\nCOPY greeting.txt /app/\n'
    + 'RUN echo "built at build time" > /app/built.txt && cat /app/greeting.txt\nEXPOSE 8000\nUSER nobody\n'
    + 'CMD ["sh", "-c", "cat /app/greeting.txt; echo $GREETING"]\n';
  const root = makeContext('wire', { Dockerfile: df, 'greeting.txt': 'hi from the build context\n' });
  chmodSync(join(root, 'Dockerfile'), 0o644);
  utimesSync(join(root, 'Dockerfile'), 0o15301045340, 0o15301045340);
  const { buf } = tarOf(root, []);
  // the tar bytes the capture shows: its first 0x12c bytes of the body, less the chunk-size line `c00\r\n`
  const want = Buffer.alloc(0x12c - 5);
  want.write('Dockerfile', 0, 'latin1');
  want.write('0100644\0' + '0000000\0' + '0000000\0' + '00000000403\0' + '15301045340\0' + '013037\0 ' + '0', 0x64, 'latin1');
  want.write('ustar\x0000root', 0x101, 'latin1');
  assert.deepEqual(buf.subarray(0, want.length), want);
  assert.equal(buf.length, 3072); // `Sending build context to Docker daemon  3.072kB`
  assert.equal(sentLine(buf.length, humanSize), 'Sending build context to Docker daemon  3.072kB');
});

test('a Dockerfile from outside the context (or stdin) goes in as .dockerfile.<random>, listed in .dockerignore; the archive ends after its data as docker sends it', () => {
  const root = makeContext('ctx2', { 'a': 'a', '.dockerignore': 'x' });
  const { buf, name } = tarOf(root, ['x'], '../Dockerfile.out', Buffer.from('FROM scratch\n'));
  assert.equal(name, '.dockerfile.0123456789abcdef0123');
  // ReplaceFileTarWrapper closes the pipe before the tar writer: no padding after the last data, no end blocks
  assert.equal(buf.subarray(-13).toString(), 'FROM scratch\n');
  assert.equal(buf.length, 512 * 4 + 512 + 13);
  const seen = readTar(Buffer.concat([buf, Buffer.alloc(512 - 13 + 1024)]));
  assert.deepEqual(seen.map((e) => [e.name, e.mode, e.data]), [['.dockerignore', '644', 'x\n.dockerfile.0123456789abcdef0123\n'], ['a', '644', 'a'],
    ['.dockerfile.0123456789abcdef0123', '600', 'FROM scratch\n']]);
  // without a .dockerignore, one is added after the Dockerfile
  const root2 = makeContext('ctx3', { 'a': 'a' });
  const t2 = tarOf(root2, [], '-', Buffer.from('FROM x\n'));
  const seen2 = readTar(Buffer.concat([t2.buf, Buffer.alloc(2048)]));
  assert.deepEqual(seen2.map((e) => [e.name, e.mode, e.data]), [['a', '644', 'a'], ['.dockerfile.0123456789abcdef0123', '600', 'FROM x\n'],
    ['.dockerignore', '600', '.dockerignore\n.dockerfile.0123456789abcdef0123\n']]);
  // the hand-made header has no file-type bits in its mode, as Go writes it
  assert.equal(t2.buf.subarray(1024 + 100, 1024 + 108).toString('latin1'), '0000600\0');
});

test('stdin is a context when it is an archive (tar or compressed), else a Dockerfile', () => {
  const root = makeContext('ctx4', { 'Dockerfile': 'FROM x\n' });
  const { buf } = tarOf(root, []);
  assert.equal(isArchive(buf.subarray(0, 1024)), true);
  assert.equal(isArchive(gzipSync(Buffer.from('x'))), true);
  assert.equal(isArchive(Buffer.from('FROM busybox\nRUN true\n')), false);
  assert.equal(isArchive(Buffer.alloc(1024)), false);
  const broken = Buffer.from(buf.subarray(0, 1024));
  broken[0] = 0x41;
  assert.equal(isArchive(broken), false);
});

// ───────────────────────── the stream ─────────────────────────

const STEPS = [
  '{"stream":"Step 1/2 : FROM busybox:1.35"}', '{"stream":"\\n"}', '{"stream":" ---\\u003e 0dcfc6fe9a75\\n"}',
  '{"stream":"Step 2/2 : RUN echo hi"}', '{"stream":"\\n"}', '{"stream":" ---\\u003e Running in c43df7f6e564\\n"}', '{"stream":"hi\\n"}',
  '{"stream":"Removing intermediate container c43df7f6e564\\n"}', '{"stream":" ---\\u003e d4af080edb69\\n"}',
  '{"aux":{"ID":"sha256:d4af080edb69aaaa"}}', '{"stream":"Successfully built d4af080edb69\\n"}', '{"stream":"Successfully tagged built:cli\\n"}',
];
const FAIL = [
  '{"stream":"Step 1/2 : FROM busybox:1.35"}', '{"stream":"\\n"}', '{"stream":" ---\\u003e 0dcfc6fe9a75\\n"}', '{"stream":"Step 2/2 : RUN exit 3"}',
  '{"stream":"\\n"}', '{"stream":" ---\\u003e Running in 7a9bf3cbb4b6\\n"}',
  '{"errorDetail":{"code":3,"message":"The command \'/bin/sh -c exit 3\' returned a non-zero code: 3"},"error":"The command \'/bin/sh -c exit 3\' returned a non-zero code: 3"}',
];

test('the JSON stream is shown as docker shows it: stream text as sent, aux kept, status lines, progress only on a terminal', async () => {
  let out = '';
  let aux: unknown;
  // chunks that split messages anywhere
  const body = STEPS.map((l) => `${l}\n`).join('');
  const chunks = [body.slice(0, 7), body.slice(7, 100), body.slice(100)];
  await displayJsonStream(chunks, (s) => { out += s; }, false, (a) => { aux = a; });
  assert.equal(out, 'Step 1/2 : FROM busybox:1.35\n ---> 0dcfc6fe9a75\nStep 2/2 : RUN echo hi\n ---> Running in c43df7f6e564\nhi\n'
    + 'Removing intermediate container c43df7f6e564\n ---> d4af080edb69\nSuccessfully built d4af080edb69\nSuccessfully tagged built:cli\n');
  assert.deepEqual(aux, { ID: 'sha256:d4af080edb69aaaa' });
  out = '';
  await displayJsonStream(['{"status":"Pulling from library/busybox","id":"1.35"}\n{"status":"Downloading","progressDetail":{"current":1,"total":9},"progress":"[=>  ]","id":"abc"}\n{"status":"Done"}\n'],
    (s) => { out += s; }, false, () => {});
  assert.equal(out, '1.35: Pulling from library/busybox\nDone\n');
  await assert.rejects(displayJsonStream([FAIL.join('\n')], () => {}, false, () => {}),
    (e: unknown) => e instanceof StreamError && e.code === 3 && e.message === "The command '/bin/sh -c exit 3' returned a non-zero code: 3");
  await assert.rejects(displayJsonStream(['{"errorDetail":{"message":"no code"},"error":"no code"}'], () => {}, false, () => {}),
    (e: unknown) => e instanceof StreamError && e.code === 1);
});

// ───────────────────────── whole runs against a fake daemon ─────────────────────────

interface Recorded { url: string; headers: Record<string, string | string[] | undefined>; body: Buffer }
interface Fake { sock: string; requests: Recorded[]; reply: (r: Recorded) => { status: number; body: string }; server: Server }

async function fakeDaemon(name: string): Promise<Fake> {
  const sock = join(dir, `${name}.sock`);
  const f: Fake = { sock, requests: [], reply: () => ({ status: 200, body: STEPS.map((l) => `${l}\n`).join('') }), server: undefined as unknown as Server };
  f.server = createServer((req, res) => {
    const h = { 'Api-Version': '1.41', Ostype: 'linux', Server: 'Docker/20.10.24 (linux)' };
    if (req.url?.endsWith('/_ping')) { res.writeHead(200, h); res.end(req.method === 'HEAD' ? undefined : 'OK'); return; }
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const r = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(parts) };
      f.requests.push(r);
      const { status, body } = f.reply(r);
      res.writeHead(status, { ...h, 'Content-Type': 'application/json' });
      res.end(body);
    });
  });
  await new Promise<void>((ok) => f.server.listen(sock, ok));
  return f;
}

interface Run { stdout: string; stderr: string; code: number }
function runCli(cmd: string, args: string[], sock: string, input = '', env: Record<string, string> = {}): Promise<Run> {
  return new Promise((ok) => {
    const c = spawn(cmd, args, { cwd: dir,
      // TMPDIR: the clones of git contexts land in the test's directory (docker 20.10 leaves one behind for a `#ref:subdir`)
      env: { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_BUILDKIT: '0', DOCKER_CONFIG: join(dir, 'no-config'), TMPDIR: dir, ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    c.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    c.stdin.end(input);
    c.on('close', (code) => ok({ stdout, stderr, code: code ?? -1 }));
  });
}
const berth = (args: string[], sock: string, input?: string): Promise<Run> => runCli(process.execPath, [CLI, 'build', ...args], sock, input);

test('berth build: progress line, stream, exit code of a failing RUN, -q, --iidfile, a 400 from the daemon', async () => {
  const f = await fakeDaemon('run1');
  try {
    makeContext('run1', { Dockerfile: 'FROM busybox:1.35\nRUN echo hi\n', 'greeting.txt': 'hi\n' });
    let r = await berth(['-t', 'built:cli', '--iidfile', 'iid', 'run1'], f.sock);
    assert.equal(r.stdout, `Sending build context to Docker daemon  3.072kB\r\r\n${'Step 1/2 : FROM busybox:1.35\n ---> 0dcfc6fe9a75\nStep 2/2 : RUN echo hi\n'
      } ---> Running in c43df7f6e564\nhi\nRemoving intermediate container c43df7f6e564\n ---> d4af080edb69\nSuccessfully built d4af080edb69\nSuccessfully tagged built:cli\n`);
    assert.equal(r.code, 0);
    assert.equal(readFileSync(join(dir, 'iid'), 'utf8'), 'sha256:d4af080edb69aaaa');
    const req = f.requests[0]!;
    assert.match(req.url, /^\/v1\.\d+\/build\?buildargs=%7B%7D&cachefrom=%5B%5D&.*&t=built%3Acli&target=&ulimits=null&version=1$/);
    assert.equal(req.headers['content-type'], 'application/x-tar');
    assert.equal(req.headers['transfer-encoding'], 'chunked');
    assert.equal(req.headers['x-registry-config'], 'e30=');
    assert.deepEqual(readTar(req.body).map((e) => e.name), ['Dockerfile', 'greeting.txt']);

    f.reply = () => ({ status: 200, body: FAIL.map((l) => `${l}\n`).join('') });
    r = await berth(['run1'], f.sock);
    assert.equal(r.stderr, "The command '/bin/sh -c exit 3' returned a non-zero code: 3\n");
    assert.equal(r.code, 3);
    r = await berth(['-q', 'run1'], f.sock);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'Sending build context to Docker daemon  3.072kB\r\r\nStep 1/2 : FROM busybox:1.35\n ---> 0dcfc6fe9a75\nStep 2/2 : RUN exit 3\n'
      + " ---> Running in 7a9bf3cbb4b6\nThe command '/bin/sh -c exit 3' returned a non-zero code: 3\n");
    assert.equal(r.code, 3);

    f.reply = () => ({ status: 200, body: '{"stream":"sha256:12793d94289e25863b020dde1581529093a28edad806171d673782df04061640\\n"}\n' });
    r = await berth(['-q', 'run1'], f.sock);
    assert.deepEqual(r, { stdout: 'sha256:12793d94289e25863b020dde1581529093a28edad806171d673782df04061640\n', stderr: '', code: 0 });
    assert.match(f.requests.at(-1)!.url, /&q=1&rm=1&/);

    f.reply = () => ({ status: 400, body: '{"message":"dockerfile parse error line 2: unknown instruction: BOGUS"}\n' });
    r = await berth(['run1'], f.sock);
    assert.deepEqual(r, { stdout: 'Sending build context to Docker daemon  3.072kB\r\r\n', stderr: 'Error response from daemon: dockerfile parse error line 2: unknown instruction: BOGUS\n', code: 1 });

    // stdin: a Dockerfile becomes a one-file context; a tar is sent as it is
    f.reply = () => ({ status: 200, body: '{"stream":"ok\\n"}\n' });
    r = await berth(['-'], f.sock, 'FROM busybox\n');
    assert.equal(r.code, 0);
    assert.deepEqual(readTar(f.requests.at(-1)!.body).map((e) => [e.name, e.data]), [['Dockerfile', 'FROM busybox\n']]);
    assert.match(f.requests.at(-1)!.url, /&dockerfile=Dockerfile&/);
  } finally {
    f.server.close();
  }
});

test('berth build: context and Dockerfile errors in docker\'s words', async () => {
  const sock = join(dir, 'nobody.sock');
  makeContext('errs', { Dockerfile: 'FROM x\n' });
  let r = await berth(['nosuch'], sock);
  assert.deepEqual(r, { stdout: '', stderr: 'unable to prepare context: path "nosuch" not found\n', code: 1 });
  r = await berth(['-f', 'nofile', 'errs'], sock);
  assert.deepEqual(r, { stdout: '', stderr: `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${dir}/nofile: no such file or directory\n`, code: 1 });
  r = await berth(['errs/Dockerfile'], sock);
  assert.deepEqual(r, { stdout: '', stderr: `unable to prepare context: context must be a directory: ${dir}/errs/Dockerfile\n`, code: 1 });
  r = await berth(['-f', '-', '-'], sock);
  assert.deepEqual(r, { stdout: '', stderr: "invalid argument: can't use stdin for both build context and dockerfile\n", code: 1 });
  r = await berth(['-t', 'Foo'], sock);
  assert.deepEqual(r, { stdout: '', stderr: 'invalid argument "Foo" for "-t, --tag" flag: invalid reference format: repository name must be lowercase\nSee \'berth build --help\'.\n', code: 125 });
  r = await berth([], sock);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, '"berth build" requires exactly 1 argument.\nSee \'berth build --help\'.\n\nUsage:  berth build [OPTIONS] PATH | URL | -\n\nBuild an image from a Dockerfile\n');
  writeFileSync(join(dir, 'errs', '.dockerignore'), '[\n');
  r = await berth(['errs'], sock);
  assert.deepEqual(r, { stdout: '', stderr: 'error checking context: syntax error in pattern\n', code: 1 });
});

test('berth build --print-ast FILE: BuildKit\'s AST dump on stdout; a parse error on stderr, exit 1', async () => {
  const sock = join(dir, 'nobody.sock');
  writeFileSync(join(dir, 'ast.Dockerfile'), 'FROM golang:1.18-alpine as builder\nCOPY hello.go /opt\nRUN go build \\\n  hello.go\nFROM alpine\nCOPY --from=builder /opt/hello /hello\nCMD ["/hello"]\n');
  let r = await berth(['--print-ast', 'ast.Dockerfile'], sock);
  assert.deepEqual(r, { stdout: '(from "golang:1.18-alpine" "as" "builder")\n(copy "hello.go" "/opt")\n(run "go build   hello.go")\n(from "alpine")\n'
    + '(copy ["--from=builder"] "/opt/hello" "/hello")\n(cmd "/hello")\n', stderr: '', code: 0 });
  writeFileSync(join(dir, 'bad.Dockerfile'), 'FROM busybox\nRUNN x\n');
  r = await berth(['--print-ast', 'bad.Dockerfile'], sock);
  assert.deepEqual(r, { stdout: '', stderr: 'dockerfile parse error line 2: unknown instruction: RUNN\n', code: 1 });
  // a line-level error gets its line as BuildKit words it
  r = await berth(['--print-ast', '-'], sock, 'FROM x\nENV A\n');
  assert.deepEqual(r, { stdout: '', stderr: 'dockerfile parse error on line 2: ENV must have two arguments\n', code: 1 });
  r = await berth(['--print-ast', 'missing.Dockerfile'], sock);
  assert.deepEqual(r, { stdout: '', stderr: 'open missing.Dockerfile: no such file or directory\n', code: 1 });
  r = await runCli(process.execPath, [CLI, 'build', '--help'], sock);
  assert.match(r.stdout, /\n {6}--print-ast {15}Print the syntax tree of the Dockerfile\n/);
});

// ───────────────────────── the same runs through the docker 20.10 CLI ─────────────────────────

test('berth build and docker 20.10 build send the same request and print the same', { skip: existsSync(DOCKER20) ? false : 'needs the docker 20.10 CLI' }, async () => {
  const root = makeContext('cmp', {
    'Dockerfile': 'FROM busybox:1.35\nCOPY . /x\n', '.dockerignore': 'node_modules\n**/*.log\ndocs\n!docs/keep.md\nDockerfile\n', 'a.txt': 'a',
    'docs/keep.md': 'k', 'docs/other.md': 'o', 'sub/x.log': 'l', 'sub/y/z.c': 'c', 'node_modules/m/i.js': 'm', 'build/Dockerfile.dev': 'FROM x\n', 'build/other': 'o',
  });
  symlinkSync('a.txt', join(root, 'ln'));
  writeFileSync(join(dir, 'Dockerfile.outside'), 'FROM scratch\n');
  const f = await fakeDaemon('cmp');
  const randomName = (s: string): string => s.replace(/\.dockerfile\.[0-9a-f]{20}/g, '.dockerfile.R');
  // remote contexts: a Dockerfile, a gzipped tar and a git repository (dumb HTTP) served from here
  const git = (cwd: string, ...a: string[]) => execFileSync('git', ['-c', 'user.email=a@b', '-c', 'user.name=n', ...a], { cwd, stdio: 'ignore' });
  const repo = makeContext('gitsrc', { 'Dockerfile': 'FROM busybox\n', 'sub/Dockerfile': 'FROM x\n', 'sub/s.txt': 's' });
  git(repo, 'init', '-q', '-b', 'master', '.');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'init');
  git(dir, 'clone', '-q', '--bare', repo, join(dir, 'www', 'repo.git'));
  git(join(dir, 'www', 'repo.git'), 'update-server-info');
  writeFileSync(join(dir, 'www', 'Dockerfile'), 'FROM busybox\nRUN echo url\n');
  writeFileSync(join(dir, 'www', 'ctx.tgz'), gzipSync(tarOf(makeContext('tgz', { Dockerfile: 'FROM x\n' }), []).buf));
  const www = createServer((req, res) => {
    try {
      const data = readFileSync(join(dir, 'www', decodeURIComponent((req.url ?? '/').split('?')[0]!)));
      res.writeHead(200, { 'Content-Length': data.length });
      res.end(req.method === 'HEAD' ? undefined : data);
    } catch { res.writeHead(404, { 'Content-Type': 'text/plain' }); res.end('not here\n'); }
  });
  await new Promise<void>((ok) => www.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(www.address() as { port: number }).port}`;
  const cases: Array<{ args: string[]; input?: string; reply?: string[] }> = [
    { args: [`${base}/Dockerfile`] },
    { args: [`${base}/ctx.tgz`] },
    { args: ['-q', `${base}/nope`] },
    { args: [`${base}/repo.git#master:sub`] },
    { args: ['-f', 'sub/Dockerfile', `${base}/repo.git`] },
    { args: ['-t', 'x:1', '--build-arg', 'A=1', '--label', 'l=v', 'cmp'] },
    { args: ['-q', '--no-cache', '--pull', '--target', 't', 'cmp'] },
    { args: ['-f', 'cmp/build/Dockerfile.dev', 'cmp'] },
    { args: ['-f', 'Dockerfile.outside', 'cmp'] },
    { args: ['-f', '-', 'cmp'], input: 'FROM busybox\n' },
    { args: ['-'], input: 'FROM busybox\nRUN true\n' },
    { args: ['cmp'], reply: FAIL },
    { args: ['-q', 'cmp'], reply: FAIL },
  ];
  try {
    for (const c of cases) {
      f.reply = () => ({ status: 200, body: (c.reply ?? STEPS).map((l) => `${l}\n`).join('') });
      const b = await berth(c.args, f.sock, c.input);
      const rb = f.requests.at(-1)!;
      const d = await runCli(DOCKER20, ['build', ...c.args], f.sock, c.input);
      const rd = f.requests.at(-1)!;
      const what = c.args.join(' ');
      if (!c.args.includes(`${base}/nope`)) assert.notEqual(rb, rd, `docker sent no request for ${what}`);
      assert.equal(b.stdout, d.stdout, `stdout of ${what}`);
      assert.equal(b.stderr, d.stderr.replace(/docker/g, 'berth'), `stderr of ${what}`);
      assert.equal(b.code, d.code, `exit code of ${what}`);
      assert.equal(randomName(rb.url.replace(/^\/v[\d.]+/, '')), randomName(rd.url.replace(/^\/v[\d.]+/, '')), `query of ${what}`);
      assert.equal(rb.headers['x-registry-config'], rd.headers['x-registry-config']);
      assert.equal(rb.headers['content-type'], rd.headers['content-type']);
      // the same bytes, but for the random name and the time of the added Dockerfile's header
      const norm = (t: Buffer): string[] => readTar(Buffer.concat([t[0] === 0x1f && t[1] === 0x8b ? gunzipSync(t) : t, Buffer.alloc(1536)])).map((e) => JSON.stringify({ ...e, name: randomName(e.name), data: /^\.git\/(index|logs\/)/.test(e.name) ? '' : randomName(e.data) }));
      assert.deepEqual(norm(rb.body), norm(rd.body), `context of ${what}`);
      assert.equal(rb.body.length, rd.body.length, `context size of ${what}`);
      // (a git checkout's .git/index records inode numbers and times, its reflogs times; a Dockerfile from stdin or
      // a URL is written to a temp dir at the time of the run, as the added Dockerfile is)
      if (!c.args.includes('-') && !c.args.includes('Dockerfile.outside') && !what.includes('repo.git') && !what.endsWith('/Dockerfile')) assert.ok(rb.body.equals(rd.body), `context bytes of ${what}`);
    }
  } finally {
    f.server.close();
    www.close();
  }
});
