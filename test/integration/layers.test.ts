/** Acceptance 4: whiteouts, opaque dirs, hardlinks, symlinks, xattrs, setuid bits and ownership survive into a container. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDaemon, integrationSkip, FIXTURES, type Daemon } from '../helpers/daemon.ts';

describe('layers', { skip: integrationSkip() }, () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
    await d.load('layers');
  });
  after(() => d?.cleanup());

  it('layers-test-check.sh passes in a container of layers:test', async () => {
    const r = await d.docker(['run', '--rm', '-i', '--network', 'none', 'layers:test', 'sh', '-s'], {
      input: { file: join(FIXTURES, 'layers-test-check.sh') },
    });
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.at(-1), 'ALL OK', r.stdout + r.stderr);
    assert.equal(r.code, 0);
  });
});
