/** Acceptance 5: kill -9 of the daemon leaves a running container running; after the restart stop works and the exit code is recorded. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, integrationSkip, type Daemon } from '../helpers/daemon.ts';

describe('live restore', { skip: integrationSkip() }, () => {
  let d: Daemon;
  before(async () => {
    // Docker needs --live-restore for this; berth's containers always outlive the daemon (conmon).
    d = await startDaemon({ args: process.env.BERTH_TEST_ENGINE === 'docker' ? ['--live-restore'] : [] });
    await d.load('busybox');
  });
  after(() => d?.cleanup());

  it('a sleep 1000 container survives kill -9 of the daemon; stop then works and records the code', async () => {
    const run = await d.docker(['run', '-d', '--name', 'sleeper', 'busybox:1.35', 'sleep', '1000']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const pid = Number((await d.docker(['inspect', '--format', '{{.State.Pid}}', 'sleeper'])).stdout.trim());
    assert.ok(pid > 0);
    const out = await d.docker(['run', '-d', '--name', 'talker', 'busybox:1.35', 'sh', '-c', 'echo before; sleep 3; echo during; sleep 1000']);
    assert.equal(out.code, 0, out.stderr);

    await d.kill9();
    process.kill(pid, 0); // the container's process is alive while the daemon is down
    await new Promise((r) => setTimeout(r, 3500)); // talker writes "during" while the daemon is down
    await d.restart();

    const st = await d.docker(['inspect', '--format', '{{.State.Status}} {{.State.Running}} {{.State.Pid}}', 'sleeper']);
    assert.equal(st.stdout.trim(), `running true ${pid}`);
    const ps = await d.docker(['ps', '--format', '{{.ID}} {{.Status}}']);
    assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)} Up \\d+ seconds\\n`, 'm'));
    const logs = await d.docker(['logs', 'talker']);
    assert.equal(logs.stdout, 'before\nduring\n');

    const stop = await d.docker(['stop', '-t', '1', 'sleeper']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout, 'sleeper\n');
    const stopped = await d.docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'sleeper']);
    assert.equal(stopped.stdout, 'exited 137\n');
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
    const ps2 = await d.docker(['ps', '-a', '--filter', 'name=sleeper', '--format', '{{.Status}}']);
    assert.match(ps2.stdout, /^Exited \(137\) /);
  });

  it('a container that exits while the daemon is down is recorded after the restart', async () => {
    const run = await d.docker(['run', '-d', '--name', 'short', 'busybox:1.35', 'sh', '-c', 'sleep 2; exit 7']);
    assert.equal(run.code, 0, run.stderr);
    await d.kill9();
    await new Promise((r) => setTimeout(r, 3000));
    await d.restart();
    const w = await d.docker(['wait', 'short']);
    assert.equal(w.stdout, '7\n');
    const st = await d.docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'short']);
    assert.equal(st.stdout, 'exited 7\n');
  });
});
