/** The harness itself: a daemon in its own netns; cleanup leaves no process, mount, netns or dir behind. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { startDaemon, integrationSkip, pidsMentioning } from '../helpers/daemon.ts';

describe('harness', { skip: integrationSkip() }, () => {
  it('runs the daemon in its own netns and cleans up everything, even with a running container', async (t) => {
    const d = await startDaemon();
    t.after(() => d.cleanup());
    assert.equal(readlinkSync(`/proc/${d.pid}/ns/net`) === readlinkSync('/proc/self/ns/net'), false, 'daemon in another netns');
    await d.load('busybox');
    const r = await d.docker(['run', '-d', '--name', 'left-running', 'busybox:1.35', 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(pidsMentioning(d.dir).length > 1, 'helper processes carry the daemon dir');
    await d.cleanup();
    assert.deepEqual(pidsMentioning(d.dir), []);
    assert.equal(existsSync(d.dir), false);
    assert.equal(existsSync(`/run/netns/${d.netns}`), false);
    assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(d.dir), false);
    assert.throws(() => process.kill(d.pid, 0), /ESRCH/);
  });
});
