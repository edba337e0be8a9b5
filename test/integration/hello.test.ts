/** Acceptance 1 and 2 (issue 3): hello from busybox through docker 28.2 and berth; exit code, ps and logs of a failing container. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, integrationSkip, type Daemon } from '../helpers/daemon.ts';

describe('hello', { skip: integrationSkip() }, () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
    await d.load('busybox');
  });
  after(() => d?.cleanup());

  it('docker run --rm busybox:1.35 echo hello prints hello', async () => {
    const r = await d.docker(['run', '--rm', 'busybox:1.35', 'echo', 'hello']);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'hello\n');
    assert.equal(r.code, 0);
    const left = await d.docker(['ps', '-aq']);
    assert.equal(left.stdout, '', '--rm leaves no container');
  });

  it('berth run --rm busybox:1.35 echo hello prints hello', async () => {
    const r = await d.berth(['run', '--rm', 'busybox:1.35', 'echo', 'hello']);
    assert.equal(r.stdout, 'hello\n');
    assert.equal(r.code, 0);
  });

  it('the docker 20.10 CLI works too (hostname is the 12-character ID)', async () => {
    const r = await d.docker20(['run', '--rm', '--network', 'none', 'busybox:1.35', 'sh', '-c', 'echo hi from $(hostname | wc -c)']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^hi from 13\n$/);
  });

  it('run exits with the container code; ps -a shows Exited (3); logs keeps stdout and stderr apart', async () => {
    const r = await d.docker(['run', '--name', 'demo', 'busybox:1.35', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    const ps = await d.docker(['ps', '-a', '--filter', 'name=demo', '--format', '{{.Names}} {{.Status}}']);
    assert.match(ps.stdout, /^demo Exited \(3\) (Less than a second|\d+ seconds?) ago\n$/);
    const table = await d.docker(['ps', '-a']);
    assert.match(table.stdout, /^CONTAINER ID {3}IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES\n[0-9a-f]{12} {3}busybox:1\.35 {3}"sh -c 'echo out; ec…" {3}/);
    assert.match(table.stdout, /Exited \(3\)/);
    const logs = await d.docker(['logs', 'demo']);
    assert.equal(logs.stdout, 'out\n');
    assert.equal(logs.stderr, 'err\n');
    const blogs = await d.berth(['logs', 'demo']);
    assert.equal(blogs.stdout, 'out\n');
    assert.equal(blogs.stderr, 'err\n');
    const code = await d.docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'demo']);
    assert.equal(code.stdout, 'exited 3\n');
    assert.equal((await d.docker(['rm', 'demo'])).code, 0);
  });

  it('detached run, exit codes 125/126/127', async () => {
    assert.equal((await d.docker(['run', '--rm', 'busybox:1.35', 'nosuchcmd'])).code, 127);
    assert.equal((await d.docker(['run', '--rm', 'busybox:1.35', '/etc'])).code, 126);
    const bad = await d.docker(['run', '--rm', '-u', 'nosuchuser', 'busybox:1.35', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /unable to find user nosuchuser: no matching entries in passwd file/);
  });
});
