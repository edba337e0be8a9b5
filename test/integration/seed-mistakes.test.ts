/**
 * The mistakes the course notes make (inventory §23), through the docker CLI and berth's own: each gets
 * Docker's words and exit code, and what is valid in the same command still happens.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, daemonStartFailure, integrationSkip, type Daemon } from '../helpers/daemon.ts';

describe('seed mistakes', { skip: integrationSkip() }, () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
    await d.load('busybox');
  });
  after(() => d?.cleanup());

  it('ERR-02: a single-dash long flag is an unknown shorthand flag (125)', async () => {
    const b = await d.berth(['run', '-rm', 'busybox:1.35', 'true']);
    assert.equal(b.code, 125);
    assert.equal(b.stderr, "unknown shorthand flag: 'r' in -rm\nSee 'berth run --help'.\n");
    const k = await d.docker20(['run', '-d', '-p', '80:80', '-name', 'x', 'busybox:1.35']);
    assert.equal(k.code, 125);
    assert.match(k.stderr, /^unknown shorthand flag: 'n' in -name$/m);
  });

  it('ERR-04: `--name -p 9090:8080 img` does not silently succeed', async () => {
    for (const cli of ['docker20', 'berth'] as const) {
      const r = await d[cli](['run', '-d', '--name', '-p', '9090:8080', 'busybox:1.35']);
      assert.equal(r.code, 125, `${cli}: ${r.stderr}`);
      assert.match(r.stderr, /invalid reference format|Invalid container name \(-p\)|Unable to find image '9090:8080'/);
    }
    assert.equal((await d.docker(['ps', '-aq'])).stdout, '', 'no container was created');
  });

  it('ERR-05: `rm -f $(docker ps -a)` without -q: header words are reported, real IDs still go (exit 0 as docker: -f ignores missing ones)', async () => {
    const ids = [];
    for (let i = 0; i < 2; i++) ids.push((await d.docker(['run', '-d', 'busybox:1.35', 'sleep', '1000'])).stdout.trim().slice(0, 12));
    const docker20 = await d.docker20(['rm', '-f', 'CONTAINER', ids[0]!]);
    const berth = await d.berth(['rm', '-f', 'CONTAINER', ids[1]!]);
    for (const [r, id] of [[docker20, ids[0]], [berth, ids[1]]] as const) {
      assert.equal(r.code, 0);
      assert.equal(r.stderr, 'Error: No such container: CONTAINER\n');
      assert.equal(r.stdout, `${id}\n`);
    }
    const plain = await d.berth(['rm', 'IMAGE']);
    assert.equal(plain.code, 1);
    assert.equal(plain.stderr, 'Error: No such container: IMAGE\n');
    assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
  });

  it('ERR-06: `start nosuch real` reports the first and still starts the second; `ps -all` is -a -l -l', async () => {
    await d.docker(['create', '--name', 'real', 'busybox:1.35', 'sleep', '1000']);
    await d.docker(['create', '--name', 'older', 'busybox:1.35', 'true']);
    await d.docker(['rm', 'real']);
    await d.docker(['create', '--name', 'real', 'busybox:1.35', 'sleep', '1000']);
    const r = await d.berth(['start', 'nosuch', 'real']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'real\n');
    assert.match(r.stderr, /No such container: nosuch/);
    const all = await d.berth(['ps', '-all', '--format', '{{.Names}}']);
    assert.equal(all.stdout, 'real\n', 'only the latest container');
    assert.equal((await d.docker(['rm', '-f', 'real', 'older'])).code, 0);
  });

  it('ERR-07: --ulimit cpus=1 is not a ulimit', async () => {
    const r = await d.berth(['run', '--ulimit', 'cpus=1', 'busybox:1.35']);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, 'invalid argument "cpus=1" for "--ulimit" flag: invalid ulimit type: cpus\nSee \'berth run --help\'.\n');
  });

  it('ERR-41: rmi of an image a running container uses is refused; -f only untags it and it becomes dangling', async () => {
    await d.docker(['tag', 'busybox:1.35', 'mine:v1']);
    assert.equal((await d.docker(['run', '-d', '--name', 'user', 'mine:v1', 'sleep', '1000'])).code, 0);
    const other = await d.berth(['rmi', 'mine:v1']);
    assert.equal(other.code, 0, 'another tag keeps the image: untag only');
    assert.equal(other.stdout, 'Untagged: mine:v1\n');
    await d.docker(['tag', 'busybox:1.35', 'mine:v1']);
    assert.equal((await d.docker(['rmi', 'busybox:1.35', 'busybox:latest'])).code, 0);
    const refused = await d.berth(['rmi', 'mine:v1']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^Error response from daemon: conflict: unable to remove repository reference "mine:v1" \(must force\) - container [0-9a-f]{12} is using its referenced image 0dcfc6fe9a75$/m);
    const forced = await d.berth(['rmi', '-f', 'mine:v1']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.stdout, 'Untagged: mine:v1\n');
    const dangling = await d.berth(['images', '-f', 'dangling=true', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    assert.equal(dangling.stdout, '<none>:<none> 0dcfc6fe9a75\n');
    assert.equal((await d.docker(['rm', '-f', 'user'])).code, 0);
    assert.equal((await d.docker(['tag', '0dcfc6fe9a75', 'busybox:1.35'])).code, 0);
  });
});

describe('seed mistakes: daemon.json', { skip: integrationSkip() }, () => {
  it('ERR-19: a daemon.json with # comments or a trailing comma stops the start, naming the file', async () => {
    for (const text of ['{\n  # mirrors\n  "debug": true\n}\n', '{"debug": true,}\n']) {
      const r = await daemonStartFailure({ config: text });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^unable to configure the Docker daemon with file \S+daemon\.json: invalid character '[#}]' looking for beginning of object key string$/m);
    }
  });
});
