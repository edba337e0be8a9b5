/** Issue 4 §5, acceptance 7: HEALTHCHECK states in ps and inspect, health_status events, --no-healthcheck. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, integrationSkip, type Daemon } from '../helpers/daemon.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('health checks', { skip: integrationSkip() }, () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
    await d.load('busybox');
  });
  after(() => d?.cleanup());

  const status = async (name: string) => (await d.docker(['ps', '--filter', `name=${name}`, '--format', '{{.Status}}'])).stdout.trim();
  async function until(name: string, re: RegExp, ms = 15_000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const s = await status(name);
      if (re.test(s)) return s;
      if (Date.now() > end) throw new Error(`${name}: status stayed ${JSON.stringify(s)}`);
      await sleep(150);
    }
  }

  it('a failing check turns the container unhealthy in ps; inspect keeps the log; events say so', async () => {
    const since = Math.floor(Date.now() / 1000);
    const r = await d.docker(['run', '-d', '--name', 'sick', '--health-cmd', 'echo checking; exit 1', '--health-interval', '300ms',
      '--health-retries', '2', 'busybox:1.35', 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(await status('sick'), /^Up .*\(health: starting\)$/);
    assert.match(await until('sick', /unhealthy/), /^Up .* \(unhealthy\)$/);
    const h = JSON.parse((await d.docker(['inspect', '-f', '{{json .State.Health}}', 'sick'])).stdout) as { Status: string; FailingStreak: number; Log: { ExitCode: number; Output: string; Start: string; End: string }[] };
    assert.equal(h.Status, 'unhealthy');
    assert.ok(h.FailingStreak >= 2);
    assert.ok(h.Log.length >= 2 && h.Log.length <= 5);
    assert.deepEqual({ code: h.Log[0]!.ExitCode, out: h.Log[0]!.Output }, { code: 1, out: 'checking\n' });
    const ev = await d.docker(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'container=sick', '--format', '{{.Action}}']);
    assert.match(ev.stdout, /^health_status: unhealthy$/m);
    // each probe is an exec, in the events as dockerd reports it
    assert.match(ev.stdout, /^exec_create: \/bin\/sh -c echo checking; exit 1\nexec_start: \/bin\/sh -c echo checking; exit 1\nexec_die$/m);
  });

  it('a passing check turns it healthy; --no-healthcheck turns the image\'s off; a slow check times out', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'fine', '--health-cmd', 'true', '--health-interval', '300ms', 'busybox:1.35', 'sleep', '1000'])).code, 0);
    assert.match(await until('fine', /\(healthy\)/), /^Up .* \(healthy\)$/);
    assert.equal((await d.docker(['run', '-d', '--name', 'off', '--no-healthcheck', 'busybox:1.35', 'sleep', '1000'])).code, 0);
    await sleep(500);
    assert.match(await status('off'), /^Up [^(]*$/);
    assert.equal((await d.docker(['run', '-d', '--name', 'slow', '--health-cmd', 'sleep 5', '--health-interval', '300ms', '--health-timeout', '300ms',
      '--health-retries', '1', 'busybox:1.35', 'sleep', '1000'])).code, 0);
    await until('slow', /unhealthy/);
    const log = JSON.parse((await d.docker(['inspect', '-f', '{{json .State.Health.Log}}', 'slow'])).stdout) as { ExitCode: number; Output: string }[];
    assert.deepEqual({ code: log[0]!.ExitCode, out: log[0]!.Output }, { code: -1, out: 'Health check exceeded timeout (300ms)' });
  });
});
