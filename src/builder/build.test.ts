/**
 * The classic builder end to end on a fake engine (fake-backend.test.ts): what `docker build` shows (the
 * stream, line for line), what the images record (history, config), and the layer cache. Expected texts
 * are dockerd 20.10's (DOCKER_BUILDKIT=0), recorded in ../shared/reference/docker-20.10/api/build.txt or
 * observed with the same Dockerfiles against dockerd 20.10.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { BuildStepError } from './build.ts';
import { FakeBackend, runBuild, short } from './fake-backend.test.ts';

/** The stream with the step IDs masked (` ---> <id>`), after checking each Running-in ID is the one removed. */
function masked(messages: string[]): string[] {
  const out: string[] = [];
  let running: string | undefined;
  for (const m of messages) {
    let r = /^ ---> Running in ([0-9a-f]{12})\n$/.exec(m);
    if (r) { running = r[1]; out.push(' ---> Running in <id>\n'); continue; }
    r = /^Removing intermediate container ([0-9a-f]{12})\n$/.exec(m);
    if (r) { assert.equal(r[1], running, 'the container removed is the one the step ran in'); out.push('Removing intermediate container <id>\n'); continue; }
    r = /^ ---> ([0-9a-f]{12})\n$/.exec(m);
    if (r) { out.push(' ---> <id>\n'); continue; }
    out.push(m);
  }
  return out;
}

/** The IDs of the ` ---> <id>` lines, in order. */
function stepIds(messages: string[]): string[] {
  return messages.flatMap((m) => /^ ---> ([0-9a-f]{12})\n$/.exec(m)?.[1] ?? []);
}

const step = (n: string, text: string) => [`Step ${n} : ${text}`, '\n'];
const nop = [' ---> Running in <id>\n', 'Removing intermediate container <id>\n', ' ---> <id>\n'];
const cached = [' ---> Using cache\n', ' ---> <id>\n'];

async function failure(p: Promise<unknown>): Promise<Error & { text: string; messages: string[]; code?: number }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { text: string; messages: string[] };
  }
  assert.fail('the build succeeded');
}

const DEMO = [
  'FROM busybox:1.35',
  'LABEL org.example.role="demo"',
  'ENV GREETING=hello',
  'WORKDIR /app',
  'COPY greeting.txt /app/',
  'RUN echo "built at build time" > /app/built.txt && cat /app/greeting.txt',
  'EXPOSE 8000',
  'USER nobody',
  'CMD ["sh", "-c", "cat /app/greeting.txt; echo $GREETING"]',
].join('\n') + '\n';

describe('build: the 9-step build of the reference recording', () => {
  let be: FakeBackend;
  let busybox: string;
  beforeEach(() => { be = new FakeBackend(); busybox = be.addBusybox().id; });
  afterEach(() => be.cleanup());

  it('prints Docker\'s stream, records Docker\'s history and config, and a rebuild is all cache with the same ID', async () => {
    const ctx = { Dockerfile: DEMO, 'greeting.txt': 'hi from the build context\n' };
    const b1 = await runBuild(be, ctx);
    assert.deepEqual(masked(b1.messages), [
      ...step('1/9', 'FROM busybox:1.35'), ' ---> <id>\n',
      ...step('2/9', 'LABEL org.example.role="demo"'), ...nop,
      ...step('3/9', 'ENV GREETING=hello'), ...nop,
      ...step('4/9', 'WORKDIR /app'), ...nop,
      ...step('5/9', 'COPY greeting.txt /app/'), ' ---> <id>\n',
      ...step('6/9', 'RUN echo "built at build time" > /app/built.txt && cat /app/greeting.txt'),
      ' ---> Running in <id>\n', 'hi from the build context\n', 'Removing intermediate container <id>\n', ' ---> <id>\n',
      ...step('7/9', 'EXPOSE 8000'), ...nop,
      ...step('8/9', 'USER nobody'), ...nop,
      ...step('9/9', 'CMD ["sh", "-c", "cat /app/greeting.txt; echo $GREETING"]'), ...nop,
    ]);
    const ids = stepIds(b1.messages);
    assert.equal(ids[0], short(busybox));
    assert.equal(ids.at(-1), short(b1.id));
    assert.deepEqual(ids.slice(1), be.commits.map((c) => short(c.id)), 'each step prints the image it made');
    assert.equal(new Set(ids).size, 9);

    const hist = be.history(b1.id).slice(1);
    assert.equal(hist.length, 8);
    assert.match(hist[3]!, /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \/app\/ $/);
    assert.deepEqual([...hist.slice(0, 3), ...hist.slice(4)], [
      '/bin/sh -c #(nop)  LABEL org.example.role=demo',
      '/bin/sh -c #(nop)  ENV GREETING=hello',
      '/bin/sh -c #(nop) WORKDIR /app',
      '/bin/sh -c echo "built at build time" > /app/built.txt && cat /app/greeting.txt',
      '/bin/sh -c #(nop)  EXPOSE 8000',
      '/bin/sh -c #(nop)  USER nobody',
      '/bin/sh -c #(nop)  CMD ["sh" "-c" "cat /app/greeting.txt; echo $GREETING"]',
    ]);
    assert.deepEqual(be.commits.map((c) => c.from.kind), ['none', 'none', 'layer', 'layer', 'container', 'none', 'none', 'none']);

    const img = be.image(b1.id);
    const cfg = img.config.config!;
    assert.deepEqual(cfg.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello']);
    assert.equal(cfg.WorkingDir, '/app');
    assert.equal(cfg.User, 'nobody');
    assert.deepEqual(cfg.ExposedPorts, { '8000/tcp': {} });
    assert.deepEqual(cfg.Labels, { 'org.example.role': 'demo' });
    assert.deepEqual(cfg.Cmd, ['sh', '-c', 'cat /app/greeting.txt; echo $GREETING']);
    assert.equal(cfg.Image, be.commits.at(-2)!.id, 'Image names the parent');
    assert.equal(cfg.OnBuild ?? null, null);
    assert.deepEqual(img.config.container_config!.Cmd, ['/bin/sh', '-c', '#(nop) ', 'CMD ["sh" "-c" "cat /app/greeting.txt; echo $GREETING"]']);
    assert.equal(be.file(b1.id, 'app/greeting.txt'), 'hi from the build context\n');
    assert.equal(be.file(b1.id, 'app/built.txt'), 'built at build time\n');
    assert.deepEqual(be.liveContainers(), [], 'no intermediate container is left');
    assert.equal(be.layers.size, 0, 'no scratch layer is left');

    const commits = be.commits.length;
    const containers = be.containers.size;
    const b2 = await runBuild(be, ctx);
    assert.equal(b2.id, b1.id);
    assert.deepEqual(masked(b2.messages), [
      ...step('1/9', 'FROM busybox:1.35'), ' ---> <id>\n',
      ...step('2/9', 'LABEL org.example.role="demo"'), ...cached,
      ...step('3/9', 'ENV GREETING=hello'), ...cached,
      ...step('4/9', 'WORKDIR /app'), ...cached,
      ...step('5/9', 'COPY greeting.txt /app/'), ...cached,
      ...step('6/9', 'RUN echo "built at build time" > /app/built.txt && cat /app/greeting.txt'), ...cached,
      ...step('7/9', 'EXPOSE 8000'), ...cached,
      ...step('8/9', 'USER nobody'), ...cached,
      ...step('9/9', 'CMD ["sh", "-c", "cat /app/greeting.txt; echo $GREETING"]'), ...cached,
    ]);
    assert.deepEqual(stepIds(b2.messages), ids, 'the cached steps print the same images');
    assert.equal(be.commits.length, commits, 'nothing committed');
    assert.equal(be.containers.size, containers, 'no container created');
  });

  it('a changed file re-runs from its COPY on; a new mtime alone or a rebuild of the old content hits the cache', async () => {
    const b1 = await runBuild(be, { Dockerfile: DEMO, 'greeting.txt': 'hi from the build context\n' });
    const b2 = await runBuild(be, { Dockerfile: DEMO, 'greeting.txt': 'changed\n' });
    const m = masked(b2.messages);
    assert.deepEqual(m.filter((x) => x === ' ---> Using cache\n').length, 3, 'steps 2-4 come from the cache');
    const copyAt = m.indexOf('Step 5/9 : COPY greeting.txt /app/');
    assert.ok(!m.slice(copyAt).includes(' ---> Using cache\n'), 'COPY and every later step run again');
    assert.ok(m.includes('changed\n'), 'the RUN ran again and saw the new file');
    assert.notEqual(b2.id, b1.id);
    assert.deepEqual(stepIds(b2.messages).slice(0, 4), stepIds(b1.messages).slice(0, 4));

    const b3 = await runBuild(be, { Dockerfile: DEMO, 'greeting.txt': { content: 'hi from the build context\n', mtime: 1700000000 } });
    assert.equal(b3.id, b1.id, 'the old content (new mtime) finds the first build\'s images');
    assert.equal(masked(b3.messages).filter((x) => x === ' ---> Using cache\n').length, 8);
  });

  it('a changed file mode invalidates the COPY (Docker hashes the header without mtime)', async () => {
    await runBuild(be, { Dockerfile: DEMO, 'greeting.txt': 'x\n' });
    const b2 = await runBuild(be, { Dockerfile: DEMO, 'greeting.txt': { content: 'x\n', mode: 0o755 } });
    assert.equal(masked(b2.messages).filter((x) => x === ' ---> Using cache\n').length, 3);
  });

  it('--no-cache runs every step again', async () => {
    const ctx = { Dockerfile: DEMO, 'greeting.txt': 'g\n' };
    await runBuild(be, ctx);
    const b2 = await runBuild(be, ctx, { noCache: true });
    assert.ok(!b2.messages.includes(' ---> Using cache\n'));
  });
});

describe('build: ARG and build args', () => {
  let be: FakeBackend;
  beforeEach(() => { be = new FakeBackend(); be.addBusybox(); });
  afterEach(() => be.cleanup());

  const DF = [
    'ARG TAG=1.35',
    'FROM busybox:${TAG}',
    'ARG TAG',
    'ARG MSG=default',
    'ENV FROMENV=env',
    'ARG FROMENV=arg',
    'LABEL m=$MSG f=$FROMENV t=$TAG',
    'RUN echo $MSG $TAG $FROMENV',
  ].join('\n');

  it('a build arg overrides the default; ARG before FROM picks the base; a bare ARG takes the meta value; ENV beats ARG', async () => {
    const b = await runBuild(be, { Dockerfile: DF }, { buildArgs: { MSG: 'given', HTTP_PROXY: 'http://proxy:3128', UNUSED: 'x' } });
    const m = masked(b.messages);
    assert.deepEqual(m.slice(0, 5), [...step('1/8', 'ARG TAG=1.35'), ...step('2/8', 'FROM busybox:${TAG}'), ' ---> <id>\n']);
    assert.equal(stepIds(b.messages)[0], short(be.image('busybox:1.35').id));
    assert.ok(m.includes('given 1.35 env\n'), m.join(''));
    assert.deepEqual(be.image(b.id).config.config!.Labels, { m: 'given', f: 'env', t: '1.35' });
    assert.deepEqual(be.history(b.id).slice(1), [
      '/bin/sh -c #(nop)  ARG TAG',
      '/bin/sh -c #(nop)  ARG MSG=default',
      '/bin/sh -c #(nop)  ENV FROMENV=env',
      '/bin/sh -c #(nop)  ARG FROMENV=arg',
      '/bin/sh -c #(nop)  LABEL m=given f=env t=1.35',
      '|2 MSG=given TAG=1.35 /bin/sh -c echo $MSG $TAG $FROMENV',
    ]);
    const run = [...be.containers.values()][0]!;
    const env = run.config.Env as string[];
    assert.ok(env.includes('HTTP_PROXY=http://proxy:3128'), 'the proxy reaches the RUN');
    assert.ok(env.includes('MSG=given') && env.includes('TAG=1.35') && !env.includes('FROMENV=arg'));
    assert.equal(m.at(-1), '[Warning] One or more build-args [UNUSED] were not consumed\n');
    assert.equal(m.filter((x) => x.startsWith('[Warning]')).length, 1);
  });

  it('the meta ARG is overridden by --build-arg, in FROM and in a bare ARG', async () => {
    const other = be.addImage(['busybox:other'], { Env: ['PATH=/bin'], Cmd: ['sh'] }, { 'etc/passwd': 'root:x:0:0::/:/bin/sh\n' });
    const b = await runBuild(be, { Dockerfile: DF }, { buildArgs: { TAG: 'other' } });
    assert.equal(stepIds(b.messages)[0], short(other.id));
    assert.equal(be.image(b.id).config.config!.Labels!.t, 'other');
    assert.equal(be.history(b.id).at(-1), '|2 MSG=default TAG=other /bin/sh -c echo $MSG $TAG $FROMENV');
    assert.ok(!b.text.includes('[Warning]'));
  });

  it('a proxy build arg alone: `|0` in the RUN\'s history, no warning', async () => {
    const b = await runBuild(be, { Dockerfile: 'FROM busybox:1.35\nRUN echo proxy\n' }, { buildArgs: { HTTP_PROXY: 'http://p' } });
    assert.equal(be.history(b.id).at(-1), '|0 /bin/sh -c echo proxy');
    assert.ok(!b.text.includes('[Warning]'));
  });

  it('an ARG with no value anywhere is not in the RUN\'s environment', async () => {
    const b = await runBuild(be, { Dockerfile: 'FROM busybox:1.35\nARG NOVAL\nARG P="80 443/udp"\nRUN echo noval=$NOVAL\n' });
    assert.equal(be.history(b.id).at(-1), '|1 P=80 443/udp /bin/sh -c echo noval=$NOVAL');
    assert.ok(b.messages.includes('noval=\n'));
  });

  it('a RUN reuses the cache only with the same build-arg values', async () => {
    const df = { Dockerfile: 'FROM busybox:1.35\nARG MSG=d\nRUN echo $MSG\n' };
    const a = await runBuild(be, df, { buildArgs: { MSG: 'one' } });
    const b = await runBuild(be, df, { buildArgs: { MSG: 'two' } });
    assert.notEqual(a.id, b.id);
    assert.ok(b.messages.includes('two\n'));
    const c = await runBuild(be, df, { buildArgs: { MSG: 'one' } });
    assert.equal(c.id, a.id);
  });
});

describe('build: a failing RUN', () => {
  let be: FakeBackend;
  beforeEach(() => { be = new FakeBackend(); be.addBusybox(); });
  afterEach(() => be.cleanup());

  it('fails with Docker\'s message and the exit code; the step container is removed (rm, berth\'s rule); nothing is committed', async () => {
    const err = await failure(runBuild(be, { Dockerfile: 'FROM busybox:1.35\nRUN echo out; echo err >&2; exit 3\n' }));
    assert.ok(err instanceof BuildStepError);
    assert.equal(err.message, 'The command \'/bin/sh -c echo out; echo err >&2; exit 3\' returned a non-zero code: 3');
    assert.equal(err.code, 3);
    assert.deepEqual(masked(err.messages), [
      ...step('1/2', 'FROM busybox:1.35'), ' ---> <id>\n',
      ...step('2/2', 'RUN echo out; echo err >&2; exit 3'), ' ---> Running in <id>\n', 'out\n', '\x1b[91merr\n\x1b[0m',
    ]);
    assert.equal(be.containers.size, 1);
    assert.deepEqual(be.liveContainers(), []);
    assert.equal(be.commits.length, 0);
  });

  it('with rm=false the failed container stays; forcerm removes it anyway', async () => {
    const ctx = { Dockerfile: 'FROM busybox:1.35\nRUN exit 3\n' };
    const err = await failure(runBuild(be, ctx, { remove: false }));
    assert.equal(err.message, 'The command \'/bin/sh -c exit 3\' returned a non-zero code: 3');
    assert.equal(be.liveContainers().length, 1);
    await failure(runBuild(be, ctx, { remove: false, forceRemove: true }));
    assert.equal(be.liveContainers().length, 1, 'the second build\'s container is gone');
  });

  it('with rm=false a successful step keeps its container and prints no Removing line', async () => {
    const b = await runBuild(be, { Dockerfile: 'FROM busybox:1.35\nRUN echo ok\n' }, { remove: false });
    assert.deepEqual(masked(b.messages).slice(3), [...step('2/2', 'RUN echo ok'), ' ---> Running in <id>\n', 'ok\n', ' ---> <id>\n']);
    assert.equal(be.liveContainers().length, 1);
  });

  it('the steps before the failure stay usable as cache', async () => {
    await failure(runBuild(be, { Dockerfile: 'FROM busybox:1.35\nENV A=1\nRUN exit 1\n' }));
    const b = await runBuild(be, { Dockerfile: 'FROM busybox:1.35\nENV A=1\nRUN echo fixed\n' });
    assert.deepEqual(masked(b.messages).slice(3, 7), [...step('2/3', 'ENV A=1'), ...cached]);
  });
});

describe('build: errors before the first step', () => {
  let be: FakeBackend;
  beforeEach(() => { be = new FakeBackend(); be.addBusybox(); });
  afterEach(() => be.cleanup());

  const cases: [string, string][] = [
    ['FROM busybox:1.35\nCOPY --foo=bar a /\n', 'dockerfile parse error line 2: Unknown flag: foo'],
    ['FROM busybox:1.35\nSHELL /bin/bash -c\n', 'dockerfile parse error line 2: SHELL requires the arguments to be in JSON form'],
    ['FROM busybox:1.35 AS 1bad\n', 'dockerfile parse error line 1: invalid name for build stage: "1bad", name can\'t start with a number or contain symbols'],
    ['FROM busybox:1.35\nBOGUS x\n', 'dockerfile parse error line 2: unknown instruction: BOGUS'],
    // dockerd 20.10: `Error response from daemon: no build stage in current context` (no line prefix)
    ['RUN true\nFROM busybox:1.35\n', 'no build stage in current context'],
  ];
  for (const [df, msg] of cases) {
    it(msg, async () => {
      const err = await failure(runBuild(be, { Dockerfile: df }));
      assert.equal(err.message, msg);
      assert.equal(err.text, '', 'nothing was printed');
      assert.ok(!(err instanceof BuildStepError), 'an HTTP error (400), not a stream error');
    });
  }

  it('a duplicate stage name fails when that stage starts, as dockerd 20.10: `a stage name already used`', async () => {
    const err = await failure(runBuild(be, { Dockerfile: 'FROM busybox:1.35 AS a\nFROM busybox:1.35 AS A\n' }));
    assert.equal(err.message, 'a stage name already used');
    assert.deepEqual(masked(err.messages), [...step('1/2', 'FROM busybox:1.35 AS a'), ' ---> <id>\n']);
  });

  it('--target naming no stage', async () => {
    const err = await failure(runBuild(be, { Dockerfile: 'FROM busybox:1.35 AS a\n' }, { target: 'nope' }));
    assert.equal(err.message, 'failed to reach build target nope in Dockerfile');
  });

  it('no Dockerfile in the context; -f names one in a subdirectory', async () => {
    const err = await failure(runBuild(be, { 'a.txt': 'a' }));
    assert.equal(err.message, 'Cannot locate specified Dockerfile: Dockerfile');
    const err2 = await failure(runBuild(be, { Dockerfile: 'FROM busybox:1.35\n' }, { dockerfile: 'sub/Dockerfile.dev' }));
    assert.equal(err2.message, 'Cannot locate specified Dockerfile: sub/Dockerfile.dev');
    const b = await runBuild(be, { 'sub/Dockerfile.dev': 'FROM busybox:1.35\nENV DEV=1\n' }, { dockerfile: 'sub/Dockerfile.dev' });
    assert.deepEqual(be.image(b.id).config.config!.Env!.at(-1), 'DEV=1');
  });

  it('a lower-case dockerfile is found when -f is not given', async () => {
    const b = await runBuild(be, { dockerfile: 'FROM busybox:1.35\nENV LOWER=1\n' });
    assert.equal(be.image(b.id).config.config!.Env!.at(-1), 'LOWER=1');
  });

  it('FROM an image that is not here fails as a step error after the Step line', async () => {
    const err = await failure(runBuild(be, { Dockerfile: 'FROM nosuch:image\n' }));
    assert.ok(err instanceof BuildStepError);
    assert.deepEqual(err.messages, ['Step 1/1 : FROM nosuch:image', '\n']);
  });
});

describe('build: multi-stage', () => {
  let be: FakeBackend;
  beforeEach(() => { be = new FakeBackend(); be.addBusybox(); });
  afterEach(() => be.cleanup());

  const DF = [
    'FROM busybox:1.35 AS builder',
    'RUN echo artifact > /out.txt',
    'FROM busybox:1.35 AS second',
    'COPY --from=builder /out.txt /from-name.txt',
    'COPY --from=0 /out.txt /from-index.txt',
    'FROM builder',
    'RUN cat /out.txt',
  ].join('\n');

  it('COPY --from a stage by name and by index; FROM an earlier stage', async () => {
    const b = await runBuild(be, { Dockerfile: DF });
    const ids = stepIds(b.messages);
    assert.deepEqual(masked(b.messages).slice(-9), [
      ...step('6/7', 'FROM builder'), ' ---> <id>\n',
      ...step('7/7', 'RUN cat /out.txt'), ' ---> Running in <id>\n', 'artifact\n', 'Removing intermediate container <id>\n', ' ---> <id>\n',
    ]);
    assert.equal(ids[5], ids[1], 'FROM builder starts from the builder stage\'s image');
    assert.equal(be.file(ids[4]!, 'from-name.txt'), 'artifact\n');
    assert.equal(be.file(ids[4]!, 'from-index.txt'), 'artifact\n');
    assert.equal(be.layers.size, 0, 'the --from layers are dropped');
  });

  it('a rebuild is all cache, the COPY --from steps too, and gives the same image', async () => {
    const b1 = await runBuild(be, { Dockerfile: DF });
    const b2 = await runBuild(be, { Dockerfile: DF });
    assert.equal(b2.id, b1.id);
    assert.equal(b2.messages.filter((x) => x === ' ---> Using cache\n').length, 4);
    assert.ok(!b2.text.includes('Running in'));
  });

  it('--target stops at the stage: later steps are neither run nor counted', async () => {
    const b = await runBuild(be, { Dockerfile: DF }, { target: 'second' });
    const m = masked(b.messages);
    assert.equal(m.filter((x) => x.startsWith('Step ')).length, 5);
    assert.equal(m[0], 'Step 1/5 : FROM busybox:1.35 AS builder');
    assert.equal(m.at(-3), 'Step 5/5 : COPY --from=0 /out.txt /from-index.txt');
    assert.equal(be.file(b.id, 'from-index.txt'), 'artifact\n');
  });

  it('COPY --from=0 inside stage 0 refers to the current stage', async () => {
    const err = await failure(runBuild(be, { Dockerfile: 'FROM busybox:1.35\nCOPY --from=0 a /\n' }));
    assert.equal(err.message, 'invalid from flag value 0: refers to current build stage');
  });
});

describe('build: ONBUILD', () => {
  let be: FakeBackend;
  beforeEach(() => { be = new FakeBackend(); be.addBusybox(); });
  afterEach(() => be.cleanup());

  it('the parent stores the triggers; a child build runs them first; the child has no OnBuild', async () => {
    const parent = await runBuild(be, { Dockerfile: 'FROM busybox:1.35\nONBUILD RUN echo one\nONBUILD COPY t.txt /t.txt\n' });
    assert.deepEqual(be.image(parent.id).config.config!.OnBuild, ['RUN echo one', 'COPY t.txt /t.txt']);
    assert.deepEqual(be.history(parent.id).slice(1), ['/bin/sh -c #(nop)  ONBUILD RUN echo one', '/bin/sh -c #(nop)  ONBUILD COPY t.txt /t.txt']);
    await be.tagImage(parent.id, 'ob', 'latest');

    const child = await runBuild(be, { Dockerfile: 'FROM ob\nRUN echo child\n', 't.txt': 'trigger file\n' });
    assert.deepEqual(masked(child.messages), [
      ...step('1/2', 'FROM ob'),
      '# Executing 2 build triggers\n',
      ' ---> Running in <id>\n', 'one\n', 'Removing intermediate container <id>\n',
      ' ---> <id>\n',
      ...step('2/2', 'RUN echo child'), ' ---> Running in <id>\n', 'child\n', 'Removing intermediate container <id>\n', ' ---> <id>\n',
    ]);
    const img = be.image(child.id);
    assert.equal(img.config.config!.OnBuild ?? null, null);
    assert.equal(be.file(child.id, 't.txt'), 'trigger file\n');
    const hist = be.history(child.id);
    assert.equal(hist.at(-3), '/bin/sh -c echo one');
    assert.match(hist.at(-2)!, /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \/t.txt $/);
  });

  it('a single trigger: `# Executing 1 build trigger`', async () => {
    const parent = await runBuild(be, { Dockerfile: 'FROM busybox:1.35\nONBUILD ENV T=1\n' });
    await be.tagImage(parent.id, 'ob1', 'latest');
    const child = await runBuild(be, { Dockerfile: 'FROM ob1\n' });
    assert.equal(child.messages[2], '# Executing 1 build trigger\n');
    assert.deepEqual(be.image(child.id).config.config!.Env!.at(-1), 'T=1');
  });
});

describe('build: config instructions', () => {
  let be: FakeBackend;
  beforeEach(() => { be = new FakeBackend(); be.addBusybox(); });
  afterEach(() => be.cleanup());

  it('SHELL wraps the shell forms of CMD and RUN; ENTRYPOINT after CMD in the same stage keeps the CMD', async () => {
    const b = await runBuild(be, { Dockerfile: 'FROM busybox:1.35\nSHELL ["/bin/bash", "-c"]\nCMD echo hi\nENTRYPOINT ["ep"]\nRUN echo ran\n' });
    const cfg = be.image(b.id).config.config!;
    assert.deepEqual(cfg.Cmd, ['/bin/bash', '-c', 'echo hi']);
    assert.deepEqual(cfg.Entrypoint, ['ep']);
    assert.deepEqual(cfg.Shell, ['/bin/bash', '-c']);
    assert.deepEqual(be.history(b.id).slice(1), [
      '/bin/bash -c #(nop)  SHELL [/bin/bash -c]',
      '/bin/bash -c #(nop)  CMD ["/bin/bash" "-c" "echo hi"]',
      '/bin/bash -c #(nop)  ENTRYPOINT ["ep"]',
      '/bin/bash -c echo ran',
    ]);
    const run = [...be.containers.values()][0]!;
    assert.deepEqual(run.config.Cmd, ['/bin/bash', '-c', 'echo ran']);

    await be.tagImage(b.id, 'cmd', 'latest');
    const c = await runBuild(be, { Dockerfile: 'FROM cmd\nENTRYPOINT ["ep2"]\n' });
    assert.equal(be.image(c.id).config.config!.Cmd ?? null, null, 'ENTRYPOINT alone clears the inherited CMD');
    const d = await runBuild(be, { Dockerfile: 'FROM busybox:1.35\nENTRYPOINT echo ep\n' });
    assert.deepEqual(be.image(d.id).config.config!.Entrypoint, ['/bin/sh', '-c', 'echo ep']);
    assert.equal(be.history(d.id).at(-1), '/bin/sh -c #(nop)  ENTRYPOINT ["/bin/sh" "-c" "echo ep"]');
  });

  it('USER with ARG expansion, VOLUME, STOPSIGNAL, HEALTHCHECK: config and history as dockerd 20.10', async () => {
    const b = await runBuild(be, { Dockerfile: 'FROM busybox:1.35\nARG U=nobody\nUSER $U:${U}\nVOLUME /v1 /v2\nVOLUME ["/json"]\nSTOPSIGNAL SIGKILL\nHEALTHCHECK --interval=5s CMD curl -f x\n' });
    const cfg = be.image(b.id).config.config!;
    assert.equal(cfg.User, 'nobody:nobody');
    assert.deepEqual(cfg.Volumes, { '/v1': {}, '/v2': {}, '/json': {} });
    assert.equal(cfg.StopSignal, 'SIGKILL');
    assert.deepEqual(cfg.Healthcheck, { Test: ['CMD-SHELL', 'curl -f x'], Interval: 5_000_000_000 });
    assert.deepEqual(be.history(b.id).slice(1), [
      '/bin/sh -c #(nop)  ARG U=nobody',
      '/bin/sh -c #(nop)  USER nobody:nobody',
      '/bin/sh -c #(nop)  VOLUME [/v1 /v2]',
      '/bin/sh -c #(nop)  VOLUME [/json]',
      '/bin/sh -c #(nop)  STOPSIGNAL SIGKILL',
      '/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "curl -f x"] "5s" "0s" "0s" \'\\x00\'}',
    ]);
  });

  it('HEALTHCHECK exec form with options, and NONE', async () => {
    const b = await runBuild(be, { Dockerfile: 'FROM busybox:1.35\nHEALTHCHECK NONE\nHEALTHCHECK --interval=1m30s --timeout=3s --retries=3 CMD ["curl", "-f", "y"]\n' });
    assert.deepEqual(be.history(b.id).slice(1), [
      '/bin/sh -c #(nop)  HEALTHCHECK &{["NONE"] "0s" "0s" "0s" \'\\x00\'}',
      '/bin/sh -c #(nop)  HEALTHCHECK &{["CMD" "curl" "-f" "y"] "1m30s" "3s" "0s" \'\\x03\'}',
    ]);
    assert.deepEqual(be.image(b.id).config.config!.Healthcheck, { Test: ['CMD', 'curl', '-f', 'y'], Interval: 90e9, Timeout: 3e9, Retries: 3 });
  });

  it('EXPOSE: the ports in the config; the history has the arguments sorted as written, each then expanded (dockerd 20.10)', async () => {
    const b = await runBuild(be, { Dockerfile: 'FROM busybox:1.35\nARG P="80 443/udp"\nEXPOSE 8000-8001/udp 9000\nEXPOSE 9000 80\nEXPOSE $P\n' });
    assert.deepEqual(be.image(b.id).config.config!.ExposedPorts, { '8000/udp': {}, '8001/udp': {}, '9000/tcp': {}, '80/tcp': {}, '443/udp': {} });
    assert.deepEqual(be.history(b.id).slice(2), [
      '/bin/sh -c #(nop)  EXPOSE 8000-8001/udp 9000',
      '/bin/sh -c #(nop)  EXPOSE 80 9000',
      '/bin/sh -c #(nop)  EXPOSE 80 443/udp',
    ]);
  });

  it('ENV in the legacy `key value` form, LABEL with spaces, MAINTAINER, WORKDIR relative', async () => {
    const b = await runBuild(be, { Dockerfile: 'FROM busybox:1.35\nENV legacy value with spaces\nLABEL a=b "c d"=e\nMAINTAINER me\nWORKDIR rel\nWORKDIR sub\n' });
    const img = be.image(b.id);
    assert.equal(img.config.config!.Env!.at(-1), 'legacy=value with spaces');
    assert.deepEqual(img.config.config!.Labels, { a: 'b', 'c d': 'e' });
    assert.equal(img.config.config!.WorkingDir, '/rel/sub');
    assert.equal(img.config.author, 'me');
    assert.deepEqual(be.history(b.id).slice(1), [
      '/bin/sh -c #(nop)  ENV legacy=value with spaces',
      '/bin/sh -c #(nop)  LABEL a=b c d=e',
      '/bin/sh -c #(nop)  MAINTAINER me',
      '/bin/sh -c #(nop) WORKDIR /rel',
      '/bin/sh -c #(nop) WORKDIR /rel/sub',
    ]);
  });

  it('--label: one LABEL step per label, sorted, after the last step (dockerd 20.10)', async () => {
    const b = await runBuild(be, { Dockerfile: 'FROM busybox:1.35\nENV A=1\n' }, { labels: { z: '1', y: '2' } });
    assert.deepEqual(masked(b.messages), [
      ...step('1/4', 'FROM busybox:1.35'), ' ---> <id>\n',
      ...step('2/4', 'ENV A=1'), ...nop,
      ...step('3/4', 'LABEL y=2'), ...nop,
      ...step('4/4', 'LABEL z=1'), ...nop,
    ]);
    assert.deepEqual(be.history(b.id).slice(-2), ['/bin/sh -c #(nop)  LABEL y=2', '/bin/sh -c #(nop)  LABEL z=1']);
    assert.deepEqual(be.image(b.id).config.config!.Labels, { y: '2', z: '1' });
  });

  it('COPY\'s history names --chown, expanded, with no space before the hash (dockerd 20.10)', async () => {
    const b = await runBuild(be, { Dockerfile: 'FROM busybox:1.35\nARG U=nobody\nCOPY --chown=$U a.txt /n.txt\n', 'a.txt': 'a\n' });
    assert.match(be.history(b.id).at(-1)!, /^\/bin\/sh -c #\(nop\) COPY --chown=nobodyfile:[0-9a-f]{64} in \/n\.txt $/);
  });

  it('COPY\'s history names the destination as written after expansion, not made absolute (dockerd 20.10)', async () => {
    const b = await runBuild(be, { Dockerfile: 'FROM busybox:1.35\nARG D=dd/\nWORKDIR /app\nCOPY a.txt .\nCOPY a.txt $D\nCOPY a.txt ../up/\n', 'a.txt': 'a\n' });
    const h = be.history(b.id).slice(-3);
    assert.match(h[0]!, /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \. $/);
    assert.match(h[1]!, /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in dd\/ $/);
    assert.match(h[2]!, /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \.\.\/up\/ $/);
    assert.equal(be.file(b.id, 'app/a.txt'), 'a\n');
    assert.equal(be.file(b.id, 'app/dd/a.txt'), 'a\n');
    assert.equal(be.file(b.id, 'up/a.txt'), 'a\n');
  });

  it('COPY into the WORKDIR: `.`, `sub/`, a new name (files land where Docker puts them)', async () => {
    const b = await runBuild(be, { Dockerfile: 'FROM busybox:1.35\nWORKDIR /app\nCOPY a.txt .\nCOPY a.txt sub/\nCOPY a.txt new.txt\nCOPY dir /app/d\n', 'a.txt': 'a\n', 'dir/x/y.txt': 'y\n' });
    assert.equal(be.file(b.id, 'app/a.txt'), 'a\n');
    assert.equal(be.file(b.id, 'app/sub/a.txt'), 'a\n');
    assert.equal(be.file(b.id, 'app/new.txt'), 'a\n');
    assert.equal(be.file(b.id, 'app/d/x/y.txt'), 'y\n');
  });

  it('COPY of several files to `.` is refused, as dockerd 20.10 (the destination must end with /)', async () => {
    const err = await failure(runBuild(be, { Dockerfile: 'FROM busybox:1.35\nWORKDIR /app\nCOPY a.txt b.txt .\n', 'a.txt': 'a', 'b.txt': 'b' }));
    assert.equal(err.message, 'When using COPY with more than one source file, the destination must be a directory and end with a /');
  });

  it('a COPY of a missing file fails with Docker\'s message after its Step line', async () => {
    const err = await failure(runBuild(be, { Dockerfile: 'FROM busybox:1.35\nCOPY nope.txt /\n' }));
    assert.ok(err instanceof BuildStepError);
    assert.equal(err.message, 'COPY failed: file not found in build context or excluded by .dockerignore: stat nope.txt: file does not exist');
    assert.deepEqual(err.messages.slice(-2), ['Step 2/2 : COPY nope.txt /', '\n']);
  });
});

