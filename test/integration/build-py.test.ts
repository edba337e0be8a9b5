/**
 * Issue 6 through docker-py (python3-docker): images.build from a directory returns the image and the JSON stream;
 * a failing RUN raises BuildError with Docker's message; a parse error is an APIError 400; the low-level
 * api.build with a Dockerfile file object (docker-py's default rm=False keeps the step containers), quiet mode.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, integrationSkip, type Daemon } from '../helpers/daemon.ts';

const SCRIPT = `
import docker, io, json, sys
c = docker.DockerClient(base_url=sys.argv[1])
out = {}
img, logs = c.images.build(path=sys.argv[2], tag="pybuilt:v1", rm=True)
out["image"] = [img.id, img.tags, img.attrs["Config"]["Cmd"]]
out["logs"] = list(logs)
out["run"] = c.containers.run("pybuilt:v1", remove=True).decode()

before = {x.id for x in c.containers.list(all=True)}
try:
    c.images.build(fileobj=io.BytesIO(b"FROM busybox:1.35\\nRUN echo failing; exit 2\\n"), tag="pyfail:v1", rm=True, forcerm=True)
except docker.errors.BuildError as e:
    out["builderror"] = [e.msg, list(e.build_log)]
out["left"] = [x.id for x in c.containers.list(all=True) if x.id not in before]
out["pyfail"] = [t for i in c.images.list() for t in i.tags if t.startswith("pyfail")]
try:
    c.images.build(fileobj=io.BytesIO(b"FROM busybox:1.35\\nBOGUS x\\n"))
except docker.errors.APIError as e:
    out["apierror"] = [type(e).__name__, e.status_code, e.explanation]

before = {x.id for x in c.containers.list(all=True)}
out["api"] = list(c.api.build(fileobj=io.BytesIO(b'FROM busybox:1.35\\nRUN echo "from py 1" > /msg\\nRUN cat /msg\\n'), tag="pyapi:v1", decode=True))
out["kept"] = sorted(x.id[:12] for x in c.containers.list(all=True) if x.id not in before)
out["apirun"] = c.containers.run("pyapi:v1", "cat /msg", remove=True).decode()
out["quiet"] = list(c.api.build(fileobj=io.BytesIO(b"FROM busybox:1.35\\nENV FROM_PY=1\\n"), quiet=True, decode=True))
print(json.dumps(out))
`;

type Line = { stream?: string; aux?: { ID: string }; error?: string; errorDetail?: { code?: number; message: string } };

describe('build through docker-py', { skip: integrationSkip() }, () => {
  let d: Daemon;
  let tmp: string;
  before(async () => {
    d = await startDaemon();
    await d.load('busybox');
    tmp = mkdtempSync('/var/tmp/berth-build-py-');
  });
  after(async () => {
    await d?.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('images.build, BuildError, APIError, api.build with a fileobj, quiet', async () => {
    cpSync(join(import.meta.dirname, 'build-contexts', 'reference'), join(tmp, 'reference'), { recursive: true });
    const r = await d.exec('python3', ['-c', SCRIPT, d.host, join(tmp, 'reference')], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;

    const [id, tags, cmd] = out.image as [string, string[], string[]];
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(tags, ['pybuilt:v1']);
    assert.deepEqual(cmd, ['sh', '-c', 'cat /app/greeting.txt; echo $GREETING']);
    // the stream as the API sends it: the step line and its newline apart, the aux ID before `Successfully built`
    const logs = out.logs as Line[];
    assert.deepEqual(logs.slice(0, 6), [
      { stream: 'Step 1/9 : FROM busybox:1.35' }, { stream: '\n' }, { stream: ' ---> 0dcfc6fe9a75\n' },
      { stream: 'Step 2/9 : LABEL org.example.role="demo"' }, { stream: '\n' }, { stream: logs[5]!.stream },
    ]);
    assert.match(logs[5]!.stream!, /^ ---> Running in [0-9a-f]{12}\n$/);
    assert.deepEqual(logs.slice(-3), [{ aux: { ID: id } }, { stream: `Successfully built ${id.slice(7, 19)}\n` }, { stream: 'Successfully tagged pybuilt:v1\n' }]);
    assert.ok(logs.some((l) => l.stream === 'hi from the build context\n'), 'the RUN step\'s output');
    assert.equal(logs.filter((l) => /^Step \d\/9 : /.test(l.stream ?? '')).length, 9);
    assert.equal(out.run, 'hi from the build context\nhello\n');

    const [msg, buildLog] = out.builderror as [string, Line[]];
    assert.equal(msg, 'The command \'/bin/sh -c echo failing; exit 2\' returned a non-zero code: 2');
    const ctr = /^ ---> Running in ([0-9a-f]{12})\n$/.exec(buildLog.at(-4)?.stream ?? '')?.[1];
    assert.ok(ctr, JSON.stringify(buildLog));
    assert.deepEqual(buildLog.slice(-3, -1), [{ stream: 'failing\n' }, { stream: `Removing intermediate container ${ctr}\n` }]);
    assert.deepEqual(buildLog.at(-1), { errorDetail: { code: 2, message: msg }, error: msg });
    assert.deepEqual(out.left, [], 'forcerm: no container left behind');
    assert.deepEqual(out.pyfail, [], 'nothing tagged');
    assert.deepEqual(out.apierror, ['APIError', 400, 'dockerfile parse error line 2: unknown instruction: BOGUS']);

    // docker-py's api.build defaults to rm=False: no `Removing intermediate container`, the two RUN step containers
    // stay. (Only RUN steps here: for config-only steps Docker leaves a never-started container too, berth makes
    // none; the README lists it.)
    const api = out.api as Line[];
    const running = api.map((l) => /^ ---> Running in ([0-9a-f]{12})\n$/.exec(l.stream ?? '')?.[1]).filter((x): x is string => !!x);
    assert.equal(running.length, 2);
    assert.ok(!api.some((l) => l.stream?.startsWith('Removing intermediate container')));
    assert.deepEqual(out.kept, [...running].sort());
    assert.equal(api.at(-1)!.stream, 'Successfully tagged pyapi:v1\n');
    assert.equal(out.apirun, 'from py 1\n');
    const quiet = out.quiet as Line[];
    assert.equal(quiet.length, 1);
    assert.match(quiet[0]!.stream!, /^sha256:[0-9a-f]{64}\n$/);
  });
});
