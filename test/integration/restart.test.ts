/**
 * Issue 4 §3, acceptance 5: restart policies across container exits and daemon restarts (Docker's back-off,
 * RestartCount, stop ends restarting), and live-restore on and off.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, integrationSkip, type Daemon } from '../helpers/daemon.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(fn: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(100);
  }
}

describe('restart policies', { skip: integrationSkip() }, () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
    await d.load('busybox');
  });
  after(() => d?.cleanup());

  const state = async (name: string) => (await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}', name])).stdout.trim();

  it('on-failure:2 runs three times, then stays exited with RestartCount 2', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'onf', '--restart', 'on-failure:2', 'busybox:1.35', 'sh', '-c', 'echo run; exit 3'])).code, 0);
    await until(async () => (await state('onf')) === 'exited 3 2', 10_000, 'on-failure:2 to give up');
    await sleep(1000);
    assert.equal(await state('onf'), 'exited 3 2');
    assert.equal((await d.docker(['logs', 'onf'])).stdout, 'run\nrun\nrun\n');
    // a clean exit is not restarted by on-failure
    assert.equal((await d.docker(['run', '-d', '--name', 'onf0', '--restart', 'on-failure', 'busybox:1.35', 'true'])).code, 0);
    await sleep(800);
    assert.equal(await state('onf0'), 'exited 0 0');
  });

  it('always restarts with a doubling back-off; ps shows Restarting; stop ends it', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'alw', '--restart', 'always', 'busybox:1.35', 'sh', '-c', 'exit 1'])).code, 0);
    await sleep(2000);
    // 100 + 200 + 400 + 800 ms of back-off (plus start time) fit in 2 s: a few restarts (fewer on a loaded machine), not dozens
    const n = Number((await state('alw')).split(' ')[2]);
    assert.ok(n >= 1 && n <= 6, `RestartCount after 2 s: ${n}`);
    await until(async () => /^Restarting \(1\) /.test((await d.docker(['ps', '--filter', 'name=alw', '--format', '{{.Status}}'])).stdout), 5000, 'ps to show Restarting');
    const stop = await d.docker(['stop', 'alw']);
    assert.equal(stop.code, 0, stop.stderr);
    const after = await state('alw');
    await sleep(2500);
    assert.equal(await state('alw'), after, 'no restart after stop');
    assert.match(after, /^exited 1 \d+$/);
  });

  it('stop of a paused container sends its stop signal and thaws it, so it exits by itself (STOPSIGNAL SIGQUIT)', async () => {
    const r = await d.docker(['run', '-d', '--name', 'pq', '--stop-signal', 'SIGQUIT', 'busybox:1.35', 'sh', '-c', 'trap "exit 0" QUIT; sleep 1000 & wait']);
    assert.equal(r.code, 0, r.stderr);
    await sleep(300);
    assert.equal((await d.docker(['pause', 'pq'])).code, 0);
    const t0 = Date.now();
    assert.equal((await d.docker(['stop', 'pq'])).code, 0);
    assert.ok(Date.now() - t0 < 5000, 'no stop timeout waited out');
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'pq'])).stdout, 'exited 0\n');
  });

  it('a daemon restart: always comes back even when stopped by hand, unless-stopped only when it was not', async () => {
    const run = async (name: string, policy: string) => {
      const r = await d.docker(['run', '-d', '--name', name, '--restart', policy, '--stop-timeout', '1', 'busybox:1.35', 'sleep', '1000']);
      assert.equal(r.code, 0, r.stderr);
    };
    await run('a-stopped', 'always');
    await run('u-stopped', 'unless-stopped');
    await run('u-running', 'unless-stopped');
    await run('n-running', 'no');
    assert.equal((await d.docker(['stop', '-t', '0', 'a-stopped', 'u-stopped'])).code, 0);
    await d.restart(); // live-restore off: the running ones are stopped at shutdown
    const status = async (n: string) => (await d.docker(['inspect', '-f', '{{.State.Status}}', n])).stdout.trim();
    assert.equal(await status('a-stopped'), 'running');
    assert.equal(await status('u-stopped'), 'exited');
    assert.equal(await status('u-running'), 'running');
    assert.equal(await status('n-running'), 'exited');
  });
});

describe('live-restore', { skip: integrationSkip() }, () => {
  it('on: a running container keeps running, same pid, across a daemon restart; off: it is stopped at shutdown', async () => {
    for (const live of [true, false]) {
      const d = await startDaemon({ config: { 'live-restore': live } });
      try {
        await d.load('busybox');
        assert.equal((await d.docker(['run', '-d', '--name', 'keep', '--stop-timeout', '1', 'busybox:1.35', 'sleep', '1000'])).code, 0);
        const pid = (await d.docker(['inspect', '-f', '{{.State.Pid}}', 'keep'])).stdout.trim();
        await d.restart();
        const st = (await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'keep'])).stdout.trim();
        if (live) assert.equal(st, `running ${pid}`);
        else assert.match(st, /^exited 0$/);
      } finally {
        await d.cleanup();
      }
    }
  });
});
