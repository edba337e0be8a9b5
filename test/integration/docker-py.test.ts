/** docker-py 5 (python3-docker) drives the daemon: ping, version, run. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, integrationSkip, type Daemon } from '../helpers/daemon.ts';

const SCRIPT = `
import docker, json, sys
c = docker.DockerClient(base_url=sys.argv[1])
out = {"ping": c.ping(), "api": c.version()["ApiVersion"]}
out["run"] = c.containers.run("busybox:1.35", ["echo", "hello from py"], remove=True).decode()
ctr = c.containers.run("busybox:1.35", ["sh", "-c", "exit 4"], detach=True)
out["wait"] = ctr.wait()["StatusCode"]
ctr.remove()
try:
    c.containers.get("nosuch")
except docker.errors.NotFound as e:
    out["notfound"] = e.explanation
out["images"] = sorted(t for i in c.images.list() for t in i.tags)
print(json.dumps(out))
`;

describe('docker-py', { skip: integrationSkip() }, () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
    await d.load('busybox');
  });
  after(() => d?.cleanup());

  it('ping, version, run, wait, NotFound, images', async () => {
    const r = await d.exec('python3', ['-c', SCRIPT, d.host]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out.ping, true);
    assert.ok(Number(out.api) >= 1.41);
    assert.equal(out.run, 'hello from py\n');
    assert.equal(out.wait, 4);
    assert.equal(out.notfound, 'No such container: nosuch');
    assert.deepEqual(out.images, ['busybox:1.35', 'busybox:latest']);
  });
});
