/**
 * Issue 6, the classic builder (POST /build) through the stock docker CLIs with DOCKER_BUILDKIT=0: the reference
 * 9-step build and its cache, seed 000's layered nginx build on the offline fixtures, multi-stage builds, --target,
 * ONBUILD, .dockerignore, failing RUNs, bad input, the stdin forms and the build flags. Every expected text was
 * checked against dockerd 20.10 (BERTH_TEST_ENGINE=docker).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startDaemon, integrationSkip, type Daemon, type RunResult, type RunOpts } from '../helpers/daemon.ts';

const CONTEXTS = join(import.meta.dirname, 'build-contexts');
/** busybox:1.35's image ID (fixtures.json), as ` ---> <id>` after `FROM busybox:1.35`. */
const BUSYBOX_ID = '0dcfc6fe9a75';
const CLASSIC = { DOCKER_BUILDKIT: '0' };
/** berth's data root is looked at: skipped against dockerd. */
const d0 = (): string | false => (process.env.BERTH_TEST_ENGINE === 'docker' ? 'looks at berth\'s data root' : false);
/** The 28.2 CLI warns on stderr before every classic build; what follows it is the daemon's. */
const DEPRECATED = /^DEPRECATED: The legacy builder is deprecated and will be removed in a future release\.\n {12}BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0\n {12}environment-variable\.\n\n/;

/**
 * The classic builder's output with the varying parts named: `<ctx>` for the context size, `<ctr>` for the
 * intermediate containers, `<id>` for image IDs (the base image's own ID is kept). A `Removing intermediate
 * container` that does not name the container of the `Running in` before it, or a `Successfully built` that does
 * not name the last ` ---> ` ID, keeps its ID with a note, so that the comparison fails.
 */
function shape(stdout: string): string {
  let ctr = '';
  let last = '';
  const lines = progressless(stdout).split('\n').map((l) => {
    let m = /^Sending build context to Docker daemon +\d+(\.\d+)?k?B$/.exec(l);
    if (m) return 'Sending build context to Docker daemon <ctx>';
    if ((m = /^ ---> Running in ([0-9a-f]{12})$/.exec(l))) {
      ctr = m[1]!;
      return ' ---> Running in <ctr>';
    }
    if ((m = /^Removing intermediate container ([0-9a-f]{12})$/.exec(l))) return `Removing intermediate container ${m[1] === ctr ? '<ctr>' : `${m[1]} (not the one that ran)`}`;
    if ((m = /^ ---> ([0-9a-f]{12})$/.exec(l))) {
      last = m[1]!;
      return m[1] === BUSYBOX_ID ? l : ' ---> <id>';
    }
    if ((m = /^Successfully built ([0-9a-f]{12})$/.exec(l))) return `Successfully built ${m[1] === last ? '<id>' : `${m[1]} (not the last step's image)`}`;
    return l;
  });
  return lines.join('\n');
}

/**
 * The CLI redraws its `Sending build context to Docker daemon  N kB` line with `\r` while it uploads and ends it
 * with `\r\r\n`: keep the last drawing.
 */
const progressless = (stdout: string): string => stdout.replace(/^[^\n]*\r\r?\n/, (l) => `${l.split('\r').filter((x) => x.trim()).at(-1)}\n`);

/** The image IDs of the ` ---> ` lines, in order. */
const stepIds = (stdout: string): string[] => [...stdout.matchAll(/^ ---> ([0-9a-f]{12})$/gm)].map((m) => m[1]!);

const REFERENCE_STEPS = [
  'FROM busybox:1.35',
  'LABEL org.example.role="demo"',
  'ENV GREETING=hello',
  'WORKDIR /app',
  'COPY greeting.txt /app/',
  'RUN echo "built at build time" > /app/built.txt && cat /app/greeting.txt',
  'EXPOSE 8000',
  'USER nobody',
  'CMD ["sh", "-c", "cat /app/greeting.txt; echo $GREETING"]',
];

/** The reference build's expected shape: `cached` steps (1-based, FROM excluded) print ` ---> Using cache`. */
function referenceShape(tag: string, greeting: string, cached: (n: number) => boolean): string {
  const out = ['Sending build context to Docker daemon <ctx>'];
  REFERENCE_STEPS.forEach((s, i) => {
    const n = i + 1;
    out.push(`Step ${n}/9 : ${s}`);
    if (n === 1) out.push(` ---> ${BUSYBOX_ID}`);
    else if (cached(n)) out.push(' ---> Using cache', ' ---> <id>');
    else if (s.startsWith('COPY')) out.push(' ---> <id>');
    else if (s.startsWith('RUN')) out.push(' ---> Running in <ctr>', greeting, 'Removing intermediate container <ctr>', ' ---> <id>');
    else out.push(' ---> Running in <ctr>', 'Removing intermediate container <ctr>', ' ---> <id>');
  });
  out.push('Successfully built <id>', `Successfully tagged ${tag}`, '');
  return out.join('\n');
}

describe('build (classic builder, docker CLI)', { skip: integrationSkip() }, () => {
  let d: Daemon;
  let tmp: string;
  before(async () => {
    d = await startDaemon();
    await d.load('busybox');
    tmp = mkdtempSync('/var/tmp/berth-build-');
  });
  after(async () => {
    await d?.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** A fresh copy of build-contexts/<name> (tests change files in it). */
  const context = (name: string): string => {
    const dir = mkdtempSync(join(tmp, `${name.replace(/\W/g, '-')}-`));
    cpSync(join(CONTEXTS, name), dir, { recursive: true });
    return dir;
  };
  /** A context made of the given files. */
  const files = (f: Record<string, string | Buffer>): string => {
    const dir = mkdtempSync(join(tmp, 'ctx-'));
    for (const [p, content] of Object.entries(f)) {
      mkdirSync(join(dir, p, '..'), { recursive: true });
      writeFileSync(join(dir, p), content);
    }
    return dir;
  };
  /** `docker build` with the 20.10 CLI, classic builder. */
  const build = (args: string[], o: RunOpts = {}): Promise<RunResult> => d.docker20(['build', ...args], { ...o, env: { ...CLASSIC, ...o.env } });
  /** The same with the 28.2 CLI; its deprecation warning is taken off stderr. */
  const build28 = async (args: string[], o: RunOpts = {}): Promise<RunResult> => {
    const r = await d.docker(['build', ...args], { ...o, env: { ...CLASSIC, ...o.env } });
    assert.match(r.stderr, DEPRECATED, 'the 28.2 CLI still does a classic build with DOCKER_BUILDKIT=0');
    return { ...r, stderr: r.stderr.replace(DEPRECATED, '') };
  };
  const ok = async (r: Promise<RunResult> | RunResult): Promise<RunResult> => {
    const x = await r;
    assert.equal(x.code, 0, `exit ${x.code}\nstdout:\n${x.stdout}\nstderr:\n${x.stderr}`);
    return x;
  };
  const imageId = async (ref: string): Promise<string> => (await ok(d.docker(['image', 'inspect', '-f', '{{.Id}}', ref]))).stdout.trim();
  const containerIds = async (): Promise<string[]> => (await ok(d.docker(['ps', '-aq']))).stdout.split('\n').filter(Boolean);

  it('the reference build: every step as the classic builder prints it; the image runs and carries its config and history', async () => {
    const ctx = context('reference');
    const r = await ok(build(['-t', 'built:v1', ctx]));
    assert.equal(r.stderr, '');
    assert.equal(shape(r.stdout), referenceShape('built:v1', 'hi from the build context', () => false));
    const id = await imageId('built:v1');
    assert.equal(id.slice(7, 19), stepIds(r.stdout).at(-1));

    assert.equal((await ok(d.docker(['run', '--rm', 'built:v1']))).stdout, 'hi from the build context\nhello\n');
    assert.equal((await ok(d.docker(['run', '--rm', 'built:v1', 'sh', '-c', 'id -u; pwd; cat built.txt']))).stdout, '65534\n/app\nbuilt at build time\n');
    const [img] = JSON.parse((await ok(d.docker(['image', 'inspect', 'built:v1']))).stdout) as { Config: Record<string, unknown> }[];
    const c = img!.Config;
    assert.deepEqual(
      { Env: c.Env, WorkingDir: c.WorkingDir, User: c.User, ExposedPorts: c.ExposedPorts, Labels: c.Labels, Cmd: c.Cmd },
      {
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello'],
        WorkingDir: '/app',
        User: 'nobody',
        ExposedPorts: { '8000/tcp': {} },
        Labels: { 'org.example.role': 'demo' },
        Cmd: ['sh', '-c', 'cat /app/greeting.txt; echo $GREETING'],
      },
    );
    const hist = (await ok(d.docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}\t{{.Size}}', 'built:v1']))).stdout.split('\n');
    assert.deepEqual(hist.slice(0, 8).map((l) => l.replace(/file:[0-9a-f]{64}/, 'file:<sum>')), [
      '/bin/sh -c #(nop)  CMD ["sh" "-c" "cat /app/greeting.txt; echo $GREETING"]\t0B',
      '/bin/sh -c #(nop)  USER nobody\t0B',
      '/bin/sh -c #(nop)  EXPOSE 8000\t0B',
      '/bin/sh -c echo "built at build time" > /app/built.txt && cat /app/greeting.txt\t20B',
      '/bin/sh -c #(nop) COPY file:<sum> in /app/ \t26B',
      '/bin/sh -c #(nop) WORKDIR /app\t0B',
      '/bin/sh -c #(nop)  ENV GREETING=hello\t0B',
      '/bin/sh -c #(nop)  LABEL org.example.role=demo\t0B',
    ]);
    assert.equal(hist[8], 'CMD ["sh"]\t0B', 'busybox\'s own history follows');
  });

  it('a rebuild is all `Using cache` with the same image ID; a changed file re-runs from its COPY on', async () => {
    const ctx = context('reference');
    // the first build may or may not hit: Docker's COPY cache key covers the context tar headers, so only builds
    // from the same CLI share it; the second is cached in full.
    await ok(build(['-t', 'cache:a', ctx]));
    const first = await imageId('cache:a');
    const again = await ok(build(['-t', 'cache:b', ctx]));
    assert.equal(shape(again.stdout), referenceShape('cache:b', '', () => true));
    assert.equal(await imageId('cache:b'), first);
    assert.equal(stepIds(again.stdout).at(-1), first.slice(7, 19));

    writeFileSync(join(ctx, 'greeting.txt'), 'changed context\n');
    const changed = await ok(build(['-t', 'cache:c', ctx]));
    assert.equal(shape(changed.stdout), referenceShape('cache:c', 'changed context', (n) => n < 5));
    assert.deepEqual(stepIds(changed.stdout).slice(0, 4), stepIds(again.stdout).slice(0, 4), 'steps 1-4 are the same images');
    assert.notEqual(await imageId('cache:c'), first);
    assert.equal((await ok(d.docker(['run', '--rm', 'cache:c']))).stdout, 'changed context\nhello\n');
  });

  it('the 28.2 CLI with DOCKER_BUILDKIT=0 does the same classic build, cached on its second run', async () => {
    const ctx = context('reference');
    const r = await build28(['-t', 'built:cli28', ctx]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(progressless(r.stdout), /^Sending build context to Docker daemon +[\d.]+k?B\nStep 1\/9 : FROM busybox:1\.35\n ---> 0dcfc6fe9a75\nStep 2\/9 : LABEL org\.example\.role="demo"\n/);
    assert.match(r.stdout, /\nSuccessfully built [0-9a-f]{12}\nSuccessfully tagged built:cli28\n$/);
    const again = await build28(['-t', 'built:cli28', ctx]);
    assert.equal(shape(again.stdout), referenceShape('built:cli28', '', () => true));
    assert.equal((await ok(d.docker(['run', '--rm', 'built:cli28']))).stdout, 'hi from the build context\nhello\n');
  });

  it('seed 000: base image, nginx layer FROM it, business image FROM that; it serves; a change rebuilds only the top', async () => {
    await d.load('debian', 'nginx');
    const base = await ok(build(['-t', 'base-debian:12', context('layered/base')]));
    assert.match(base.stdout, /^Step 1\/4 : FROM debian:bookworm-slim\n ---> ba5918f6a577\n/m);
    const ngx = await ok(build(['-t', 'nginx-base:1.22', context('layered/nginx-base')]));
    assert.match(ngx.stdout, /^Step 1\/5 : FROM base-debian:12\n ---> [0-9a-f]{12}\n/m);
    // the RUN's stderr comes through the stream in red (ESC[91m … ESC[0m), as the classic builder sends it
    assert.match(ngx.stdout, /^'\/usr\/bin\/nginx' -> '\/apps\/nginx\/sbin\/nginx'\n\x1b\[91mnginx version: nginx\/1\.22\.1\n\x1b\[0mRemoving intermediate container [0-9a-f]{12}\n/m);
    const web = context('layered/web');
    const w = await ok(build(['-t', 'myweb1:1', web]));
    assert.equal(shape(w.stdout), [
      'Sending build context to Docker daemon <ctx>',
      'Step 1/5 : FROM nginx-base:1.22', ' ---> <id>',
      'Step 2/5 : COPY nginx.conf /apps/nginx/conf/nginx.conf', ' ---> <id>',
      'Step 3/5 : COPY html/ /apps/nginx/html/', ' ---> <id>',
      'Step 4/5 : EXPOSE 80 443', ' ---> Running in <ctr>', 'Removing intermediate container <ctr>', ' ---> <id>',
      'Step 5/5 : CMD ["nginx", "-c", "/apps/nginx/conf/nginx.conf", "-g", "daemon off;"]', ' ---> Running in <ctr>', 'Removing intermediate container <ctr>', ' ---> <id>',
      'Successfully built <id>', 'Successfully tagged myweb1:1', '',
    ].join('\n'));

    // each image's layers start with its parent's; history lists the parent images by ID
    const layers = async (ref: string): Promise<string[]> => JSON.parse((await ok(d.docker(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', ref]))).stdout) as string[];
    const [lb, ln, lw] = [await layers('base-debian:12'), await layers('nginx-base:1.22'), await layers('myweb1:1')];
    assert.deepEqual([lb.length, ln.length, lw.length], [2, 6, 8]);
    assert.deepEqual(ln.slice(0, 2), lb);
    assert.deepEqual(lw.slice(0, 6), ln);
    const hist = (await ok(d.docker(['history', '-q', 'myweb1:1']))).stdout.split('\n');
    for (const ref of ['nginx-base:1.22', 'base-debian:12', 'debian:bookworm-slim']) assert.ok(hist.includes((await imageId(ref)).slice(7, 19)), `history shows ${ref}`);
    assert.match((await ok(d.docker(['history', '--format', '{{.CreatedBy}}', 'myweb1:1']))).stdout, /^\/bin\/sh -c #\(nop\)  EXPOSE 443 80\n/m);

    await ok(d.docker(['run', '-d', '--name', 'web', '--network', 'host', 'myweb1:1']));
    let page = '';
    for (let i = 0; i < 50 && !page; i++) {
      page = (await d.inNetns('curl', ['-sf', '-m', '2', 'http://127.0.0.1:8088/'])).stdout;
      if (!page) await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(page, '<h1>myweb1 v1</h1>\n');
    assert.equal((await ok(d.docker(['exec', 'web', 'id', 'www']))).stdout, 'uid=2088(www) gid=2088(www) groups=2088(www)\n');
    await ok(d.docker(['rm', '-f', 'web']));

    // the business page changes: the base images are untouched, only COPY html/ and later steps run
    writeFileSync(join(web, 'html', 'index.html'), '<h1>myweb1 v2</h1>\n');
    const w2 = await ok(build(['-t', 'myweb1:2', web]));
    assert.match(w2.stdout, /Step 2\/5 : COPY nginx\.conf \/apps\/nginx\/conf\/nginx\.conf\n ---> Using cache\n/);
    assert.equal((w2.stdout.match(/Using cache/g) ?? []).length, 1);
    assert.deepEqual((await layers('myweb1:2')).slice(0, 7), lw.slice(0, 7));
    assert.equal((await ok(d.docker(['run', '--rm', 'myweb1:2', 'cat', '/apps/nginx/html/index.html']))).stdout, '<h1>myweb1 v2</h1>\n');
    const b2 = await ok(build(['-t', 'base-debian:12', context('layered/base')]));
    assert.equal((b2.stdout.match(/ ---> Using cache\n/g) ?? []).length, 3);
  });

  it('multi-stage: COPY --from a stage name, an index and an image; --target stops at its stage', async () => {
    const ctx = context('multistage');
    const r = await ok(build(['-t', 'ms:v1', ctx]));
    assert.equal(shape(r.stdout), [
      'Sending build context to Docker daemon <ctx>',
      'Step 1/10 : FROM busybox:1.35 AS builder', ` ---> ${BUSYBOX_ID}`,
      'Step 2/10 : RUN mkdir /out && echo artifact-from-builder > /out/artifact.txt', ' ---> Running in <ctr>', 'Removing intermediate container <ctr>', ' ---> <id>',
      'Step 3/10 : FROM busybox:1.35 AS tester', ` ---> ${BUSYBOX_ID}`,
      'Step 4/10 : RUN echo in the tester stage', ' ---> Running in <ctr>', 'in the tester stage', 'Removing intermediate container <ctr>', ' ---> <id>',
      'Step 5/10 : FROM busybox:1.35', ` ---> ${BUSYBOX_ID}`,
      'Step 6/10 : COPY --from=builder /out/artifact.txt /artifact.txt', ' ---> <id>',
      'Step 7/10 : COPY --from=0 /out/artifact.txt /artifact0.txt', ' ---> <id>',
      'Step 8/10 : COPY --from=busybox:1.35 /etc/group /from-image/group', ' ---> <id>',
      'Step 9/10 : RUN echo in the final stage', ' ---> Running in <ctr>', 'in the final stage', 'Removing intermediate container <ctr>', ' ---> <id>',
      'Step 10/10 : CMD ["cat", "/artifact.txt", "/artifact0.txt", "/from-image/group"]', ' ---> Running in <ctr>', 'Removing intermediate container <ctr>', ' ---> <id>',
      'Successfully built <id>', 'Successfully tagged ms:v1', '',
    ].join('\n'));
    assert.equal((await ok(d.docker(['run', '--rm', 'ms:v1']))).stdout, 'artifact-from-builder\nartifact-from-builder\nroot:x:0:\nnobody:x:65534:\n');
    // only the final stage is the image: the builder's /out is not in it
    assert.equal((await d.docker(['run', '--rm', 'ms:v1', 'ls', '/out'])).code, 1);

    const t = await ok(build(['--target', 'tester', '-t', 'ms:tester', ctx]));
    assert.equal(shape(t.stdout), [
      'Sending build context to Docker daemon <ctx>',
      'Step 1/4 : FROM busybox:1.35 AS builder', ` ---> ${BUSYBOX_ID}`,
      'Step 2/4 : RUN mkdir /out && echo artifact-from-builder > /out/artifact.txt', ' ---> Using cache', ' ---> <id>',
      'Step 3/4 : FROM busybox:1.35 AS tester', ` ---> ${BUSYBOX_ID}`,
      'Step 4/4 : RUN echo in the tester stage', ' ---> Using cache', ' ---> <id>',
      'Successfully built <id>', 'Successfully tagged ms:tester', '',
    ].join('\n'));
    assert.equal(stepIds(t.stdout).at(-1), stepIds(r.stdout)[3], 'the tester stage\'s image');
  });

  it('ONBUILD: the parent stores its triggers, a child build runs them straight after FROM', async () => {
    await ok(build(['-t', 'onbuild:parent', context('onbuild/parent')]));
    assert.equal((await ok(d.docker(['inspect', '-f', '{{json .Config.OnBuild}}', 'onbuild:parent']))).stdout, '["RUN echo triggered > /onbuild.txt","COPY note.txt /note.txt"]\n');
    assert.equal((await d.docker(['run', '--rm', 'onbuild:parent', 'ls', '/onbuild.txt'])).code, 1, 'the parent itself has no /onbuild.txt');
    const c = await ok(build(['-t', 'onbuild:child', context('onbuild/child')]));
    assert.equal(shape(c.stdout), [
      'Sending build context to Docker daemon <ctx>',
      'Step 1/2 : FROM onbuild:parent',
      '# Executing 2 build triggers',
      ' ---> Running in <ctr>', 'Removing intermediate container <ctr>', ' ---> <id>',
      'Step 2/2 : RUN cat /onbuild.txt /note.txt', ' ---> Running in <ctr>', 'triggered', 'child-note', 'Removing intermediate container <ctr>', ' ---> <id>',
      'Successfully built <id>', 'Successfully tagged onbuild:child', '',
    ].join('\n'));
    assert.equal((await ok(d.docker(['inspect', '-f', '{{json .Config.OnBuild}}', 'onbuild:child']))).stdout, 'null\n', 'triggers do not pass on to grandchildren');
    // one trigger: singular
    await ok(build(['-t', 'onbuild:one', files({ Dockerfile: 'FROM busybox:1.35\nONBUILD RUN echo one trigger ran\n' })]));
    const one = await ok(build([files({ Dockerfile: 'FROM onbuild:one\n' })]));
    assert.match(one.stdout, /^Step 1\/1 : FROM onbuild:one\n# Executing 1 build trigger\n ---> Running in [0-9a-f]{12}\none trigger ran\n/m);
  });

  it('.dockerignore keeps files out of the context and the image (`!` exceptions, `**`, dirs)', async () => {
    const ctx = files({
      'keep.log': 'keep\n', 'drop.log': 'drop\n', 'logs/x.txt': 'x\n', 'src/main.txt': 'code\n', 'src/temp/t.txt': 't\n',
      'a/b/temp/d.txt': 'd\n', 'big.bin': randomBytes(300 * 1024),
      '.dockerignore': '# comment\n*.log\n!keep.log\nlogs/\n**/temp\nbig.bin\n',
      Dockerfile: 'FROM busybox:1.35\nCOPY . /ctx/\nRUN find /ctx | sort\n',
    });
    const r = await ok(build(['-t', 'ign:v1', ctx]));
    const size = /^Sending build context to Docker daemon +([\d.]+)kB$/m.exec(progressless(r.stdout));
    assert.ok(size && Number(size[1]) < 20, `the 300 kB big.bin is not sent: ${r.stdout.split('\n')[0]}`);
    assert.match(r.stdout, /\n ---> Running in [0-9a-f]{12}\n\/ctx\n\/ctx\/\.dockerignore\n\/ctx\/Dockerfile\n\/ctx\/a\n\/ctx\/a\/b\n\/ctx\/keep\.log\n\/ctx\/src\n\/ctx\/src\/main\.txt\nRemoving intermediate/);
    assert.equal((await d.docker(['run', '--rm', 'ign:v1', 'cat', '/ctx/drop.log'])).code, 1);
    // COPY of an ignored file: Docker's words
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox:1.35\nCOPY drop.log /\n');
    const f = await build([ctx]);
    assert.equal(f.code, 1);
    assert.equal(f.stderr, 'COPY failed: file not found in build context or excluded by .dockerignore: stat drop.log: file does not exist\n');
  });

  it('a failing RUN exits with its code and Docker\'s message, tags nothing; --force-rm leaves no container; earlier steps stay cached', async () => {
    const ctx = files({ Dockerfile: 'FROM busybox:1.35\nRUN echo step one > /one\nRUN exit 3\n' });
    // Plain --rm (the CLI's default) in Docker 20.10: the failed step's container stays, `Exited (3)`, in
    // `docker ps -a`; only --force-rm removes it (and prints `Removing intermediate container`).
    const r = await build(['--force-rm', '-t', 'fail:v1', ctx]);
    assert.equal(r.code, 3);
    assert.equal(r.stderr, 'The command \'/bin/sh -c exit 3\' returned a non-zero code: 3\n');
    assert.equal(shape(r.stdout), [
      'Sending build context to Docker daemon <ctx>',
      'Step 1/3 : FROM busybox:1.35', ` ---> ${BUSYBOX_ID}`,
      'Step 2/3 : RUN echo step one > /one', ' ---> Running in <ctr>', 'Removing intermediate container <ctr>', ' ---> <id>',
      'Step 3/3 : RUN exit 3', ' ---> Running in <ctr>', 'Removing intermediate container <ctr>', '',
    ].join('\n'));
    const failed = [...r.stdout.matchAll(/ ---> Running in ([0-9a-f]{12})\n/g)].at(-1)?.[1];
    assert.ok(failed);
    assert.ok(!(await containerIds()).includes(failed), 'no container left behind');
    assert.equal((await d.docker(['image', 'inspect', 'fail:v1'])).code, 1, 'nothing tagged');

    const again = await build28(['--force-rm', '-t', 'fail:v1', ctx]);
    assert.equal(again.code, 3);
    assert.match(again.stdout, /Step 2\/3 : RUN echo step one > \/one\n ---> Using cache\n/);
    assert.equal(again.stderr, 'The command \'/bin/sh -c exit 3\' returned a non-zero code: 3\n');

    const one = await build28(['--force-rm', '-t', 'fail:v2', files({ Dockerfile: 'FROM busybox:1.35\nRUN echo to stdout; echo to stderr >&2; exit 1\n' })]);
    assert.equal(one.code, 1);
    assert.equal(one.stderr, 'The command \'/bin/sh -c echo to stdout; echo to stderr >&2; exit 1\' returned a non-zero code: 1\n');
    // the step's stdout as is, its stderr in red (ESC[91m … ESC[0m); the two streams in either order
    assert.match(one.stdout, /\n ---> Running in [0-9a-f]{12}\n(to stdout\n\x1b\[91mto stderr\n\x1b\[0m|\x1b\[91mto stderr\n\x1b\[0mto stdout\n)Removing intermediate container/);
    assert.equal((await d.docker(['images', '-q', 'fail'])).stdout, '');
  });

  it('bad input: unknown instruction, missing base image, empty Dockerfile, missing COPY source, unknown --target', async () => {
    const fails = async (r: Promise<RunResult>, stderr: string | RegExp, stdout?: RegExp): Promise<void> => {
      const x = await r;
      assert.equal(x.code, 1, `exit code\n${x.stdout}${x.stderr}`);
      if (typeof stderr === 'string') assert.equal(x.stderr, stderr);
      else assert.match(x.stderr, stderr);
      if (stdout) assert.match(progressless(x.stdout), stdout);
    };
    const only = /^Sending build context to Docker daemon +[\d.]+k?B\n$/;
    const bogus = files({ Dockerfile: 'FROM busybox:1.35\nBOGUS x\n' });
    await fails(build([bogus]), 'Error response from daemon: dockerfile parse error line 2: unknown instruction: BOGUS\n', only);
    await fails(build28([bogus]), 'Error response from daemon: dockerfile parse error line 2: unknown instruction: BOGUS\n', only);
    // offline: the pull of the missing base fails (Docker: the resolver's error; berth, which cannot pull yet, says so)
    await fails(build([files({ Dockerfile: 'FROM nosuch:image\n' })]), /^(Get "https:\/\/registry-1\.docker\.io\/v2\/": .+|pull access denied for nosuch: berth cannot pull images yet, .+)\n$/,
      /^Sending build context to Docker daemon +[\d.]+k?B\nStep 1\/1 : FROM nosuch:image\n$/);
    await fails(build([files({ Dockerfile: '' })]), 'Error response from daemon: the Dockerfile (Dockerfile) cannot be empty\n', only);
    await fails(build([files({ Dockerfile: '# only a comment\n\n' })]), 'Error response from daemon: failed to parse Dockerfile: file with no instructions\n', only);
    await fails(build([files({ Dockerfile: 'FROM busybox:1.35\nCOPY missing.txt /x\n' })]),
      'COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist\n',
      /\nStep 2\/2 : COPY missing\.txt \/x\n$/);
    await fails(build(['--target', 'nosuch', files({ Dockerfile: 'FROM busybox:1.35 AS a\nRUN true\n' })]),
      'Error response from daemon: failed to reach build target nosuch in Dockerfile\n', only);
  });

  it('stdin and flags: `-` with a Dockerfile or a tar, `-f -`, `-f` inside the context, -q, --iidfile, two -t, --build-arg, --label, --no-cache', async () => {
    // a Dockerfile on stdin: no context, so COPY has nothing to copy
    const df = await ok(build(['-'], { input: 'FROM busybox:1.35\nRUN echo from a stdin Dockerfile\n' }));
    assert.match(df.stdout, /\n ---> Running in [0-9a-f]{12}\nfrom a stdin Dockerfile\n/);
    const nocopy = await build(['-'], { input: 'FROM busybox:1.35\nCOPY f.txt /f.txt\n' });
    assert.equal(nocopy.code, 1);
    assert.equal(nocopy.stderr, 'COPY failed: file not found in build context or excluded by .dockerignore: stat f.txt: file does not exist\n');

    // a context tar on stdin: the daemon does not filter it by its .dockerignore (the CLI does that, for a directory),
    // it only drops the Dockerfile and the .dockerignore itself when the .dockerignore names them
    const tarDir = files({ 'f.txt': 'from the tar\n', 'x.log': 'log\n', '.dockerignore': '*.log\n.dockerignore\nDockerfile\n', Dockerfile: 'FROM busybox:1.35\nCOPY . /ctx/\nCMD ["ls", "-A", "/ctx"]\n' });
    const tar = join(tmp, 'ctx.tar');
    assert.equal(spawnSync('tar', ['-cf', tar, '-C', tarDir, '.']).status, 0);
    await ok(build(['-t', 'fromtar:v1', '-'], { input: { file: tar } }));
    assert.equal((await ok(d.docker(['run', '--rm', 'fromtar:v1']))).stdout, 'f.txt\nx.log\n');

    // -f - with a directory context; -f naming a file in a subdirectory
    const ctx = files({ 'f.txt': 'ctx file\n', 'sub/Dockerfile.alt': 'FROM busybox:1.35\nCOPY f.txt /alt.txt\nCMD ["cat", "/alt.txt"]\n' });
    // (the CLI adds the Dockerfile as `.dockerfile.<random>` plus a `.dockerignore` naming both, and ends the tar
    // right after the last file's data, unpadded: Go's tar reader takes that; neither file ends up in the image)
    await ok(build(['-t', 'dash-f:v1', '-f', '-', ctx], { input: 'FROM busybox:1.35\nCOPY . /ctx/\nCMD ["sh", "-c", "ls -A /ctx; cat /ctx/f.txt"]\n' }));
    assert.equal((await ok(d.docker(['run', '--rm', 'dash-f:v1']))).stdout, 'f.txt\nsub\nctx file\n');
    await ok(build(['-t', 'alt:v1', '-f', join(ctx, 'sub', 'Dockerfile.alt'), ctx]));
    assert.equal((await ok(d.docker(['run', '--rm', 'alt:v1']))).stdout, 'ctx file\n');

    // -q, --iidfile, two -t, --label
    const args = files({ Dockerfile: 'FROM busybox:1.35\nARG WHO=default-who\nRUN echo "hello $WHO" > /who.txt && cat /who.txt\nLABEL stage=one\n' });
    const iid = join(tmp, 'iid');
    const q = await ok(build(['-q', '--iidfile', iid, '-t', 'q:1', '-t', 'q:2', '--label', 'extra=yes', args]));
    assert.match(q.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(readFileSync(iid, 'utf8'), q.stdout, 'with -q the ID file gets the stream\'s line, newline and all');
    assert.equal(await imageId('q:1'), q.stdout.trim());
    assert.equal(await imageId('q:2'), q.stdout.trim());
    assert.equal((await ok(d.docker(['inspect', '-f', '{{json .Config.Labels}}', 'q:1']))).stdout, '{"extra":"yes","stage":"one"}\n');
    assert.equal((await ok(d.docker(['run', '--rm', 'q:1', 'cat', '/who.txt']))).stdout, 'hello default-who\n');
    // --label adds a LABEL step of its own at the end
    const lab = await ok(build(['--label', 'extra=yes', '--label', 'other=2', '--iidfile', iid, args]));
    assert.match(readFileSync(iid, 'utf8'), /^sha256:[0-9a-f]{64}$/, 'without -q: the aux ID, no newline');
    assert.match(lab.stdout, /\nStep 5\/6 : LABEL extra=yes\n(?:.*\n)+?Step 6\/6 : LABEL other=2\n/);

    // --build-arg overrides the ARG default; an undeclared one is reported, not used
    const ba = await ok(build(['--build-arg', 'WHO=override', '--build-arg', 'NOTDECL=x', '-t', 'ba:v1', args]));
    assert.match(ba.stdout, /\nStep 2\/4 : ARG WHO=default-who\n ---> Using cache\n/);
    assert.match(ba.stdout, /\n ---> Running in [0-9a-f]{12}\nhello override\n/);
    assert.match(ba.stdout, /\n\[Warning\] One or more build-args \[NOTDECL\] were not consumed\nSuccessfully built /);
    assert.equal((await ok(d.docker(['run', '--rm', 'ba:v1', 'cat', '/who.txt']))).stdout, 'hello override\n');
    assert.equal((await ok(d.docker(['run', '--rm', 'ba:v1', 'sh', '-c', 'echo "[$WHO]"']))).stdout, '[]\n', 'ARG values do not exist at run time');

    // --no-cache: every step runs again, a new image
    const nc = await ok(build(['--no-cache', '-t', 'q:nocache', args]));
    assert.doesNotMatch(nc.stdout, /Using cache/);
    assert.match(nc.stdout, /\nhello default-who\n/);
    assert.notEqual(await imageId('q:nocache'), q.stdout.trim());
  });

  it('remote sources: ADD <url> (mode 600, not unpacked), a context or a Dockerfile by URL, a git repository #ref:subdir', async () => {
    // a web server inside the daemon's netns (the only place its builds can reach)
    const www = mkdtempSync(join(tmp, 'www-'));
    writeFileSync(join(www, 'file.txt'), 'remote content\n');
    assert.equal(spawnSync('tar', ['-czf', join(www, 'packed.tar.gz'), '-C', www, 'file.txt']).status, 0);
    const ctxDir = files({ Dockerfile: 'FROM busybox:1.35\nCOPY hi.txt /\nRUN cat /hi.txt\n', 'hi.txt': 'hi from a remote context\n' });
    assert.equal(spawnSync('tar', ['-czf', join(www, 'ctx.tar.gz'), '-C', ctxDir, '.']).status, 0);
    writeFileSync(join(www, 'Dockerfile.txt'), 'FROM busybox:1.35\nRUN echo from a remote Dockerfile\n');
    const src = files({ 'sub/Dockerfile': 'FROM busybox:1.35\nCOPY g.txt /\nRUN cat /g.txt\n', 'sub/g.txt': 'from git\n' });
    const git = (args: string[], cwd: string) => assert.equal(spawnSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd }).status, 0, `git ${args.join(' ')}`);
    git(['init', '-q', '-b', 'main'], src); git(['add', '.'], src); git(['commit', '-qm', 'x'], src);
    git(['clone', '-q', '--bare', src, join(www, 'repo.git')], www); git(['update-server-info'], join(www, 'repo.git'));
    const server = spawn('nsenter', [`--net=/run/netns/${d.netns}`, 'python3', '-m', 'http.server', '8765', '--bind', '127.0.0.1', '--directory', www], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50 && (await d.inNetns('curl', ['-sf', 'http://127.0.0.1:8765/file.txt'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
      const add = await ok(build(['-t', 'added:v1', files({ Dockerfile: 'FROM busybox:1.35\nADD http://127.0.0.1:8765/file.txt /srv/\nADD http://127.0.0.1:8765/packed.tar.gz /srv/\n' })]));
      assert.match(add.stdout, /Step 3\/3 : ADD http:\/\/127\.0\.0\.1:8765\/packed\.tar\.gz \/srv\/\n/);
      const ls = await ok(d.docker(['run', '--rm', 'added:v1', 'sh', '-c', 'stat -c "%a %n" /srv/*; cat /srv/file.txt']));
      assert.equal(ls.stdout, '600 /srv/file.txt\n600 /srv/packed.tar.gz\nremote content\n');
      const missing = await build([files({ Dockerfile: 'FROM busybox:1.35\nADD http://127.0.0.1:8765/nothere.txt /\n' })]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^ADD failed: failed to GET http:\/\/127\.0\.0\.1:8765\/nothere\.txt with status 404 File not found: /);
      // remote= is what docker-py and the API send (the docker CLI fetches URLs itself, from its own netns)
      const remote = async (url: string) => (await ok(d.exec('curl', ['-sS', '--unix-socket', d.socket, '-X', 'POST', `http://localhost/v1.41/build?remote=${encodeURIComponent(url)}`]))).stdout;
      assert.match(await remote('http://127.0.0.1:8765/ctx.tar.gz'), /"stream":"hi from a remote context\\n"/);
      assert.match(await remote('http://127.0.0.1:8765/Dockerfile.txt'), /"stream":"from a remote Dockerfile\\n"/);
      assert.match(await remote('http://127.0.0.1:8765/repo.git#main:sub'), /"stream":"from git\\n"/);
    } finally {
      server.kill();
    }
  });

  it('kill -9 of the daemon during a RUN step: after the restart nothing of the build is left but its container, and a rebuild reuses the finished steps', { skip: d0() }, async () => {
    const ctx = files({ Dockerfile: 'FROM busybox:1.35\nRUN echo one > /one\nRUN sleep 30\n' });
    const building = build(['-t', 'killed:v1', ctx]);
    // the third step's container is running: kill the daemon there
    for (let i = 0; i < 100 && (await d.docker(['ps', '-q', '--filter', 'status=running'])).stdout === ''; i++) await new Promise((r) => setTimeout(r, 100));
    const [step] = (await ok(d.docker(['ps', '-q', '--filter', 'status=running']))).stdout.split('\n');
    assert.ok(step, 'the RUN step runs');
    await d.kill9();
    assert.notEqual((await building).code, 0, 'the client sees the build fail');
    await d.restart();
    for (let i = 0; i < 50 && (await d.docker(['ps'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    const scratch = join(d.root, 'builder');
    assert.deepEqual(existsSync(scratch) ? readdirSync(scratch) : [], [], 'no build context left');
    // every read-write layer left belongs to a container (the step's own, still running, as any container)
    const mounts = readdirSync(join(d.root, 'image', 'layerdb', 'mounts')).sort();
    const all = (await ok(d.docker(['ps', '-aq', '--no-trunc']))).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(mounts, all);
    assert.ok(all.some((id) => id.startsWith(step!)), 'the interrupted step\'s container is still there');
    await ok(d.docker(['rm', '-f', step!]));
    assert.equal((await d.docker(['image', 'inspect', 'killed:v1'])).code, 1, 'nothing tagged');
    const again = await ok(build(['-t', 'killed:v1', files({ Dockerfile: 'FROM busybox:1.35\nRUN echo one > /one\nRUN cat /one\n' })]));
    assert.match(again.stdout, /Step 2\/3 : RUN echo one > \/one\n ---> Using cache\n/);
    assert.match(again.stdout, /\none\n/);
  });
});
