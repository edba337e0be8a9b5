import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shouldRestart, nextBackoff, restartOnBoot, BACKOFF_MAX_MS } from './restart.ts';

test('policies decide as moby restartmanager does', () => {
  const no = { Name: 'no', MaximumRetryCount: 0 };
  const always = { Name: 'always', MaximumRetryCount: 0 };
  const unless = { Name: 'unless-stopped', MaximumRetryCount: 0 };
  const onf = (n: number) => ({ Name: 'on-failure', MaximumRetryCount: n });
  assert.equal(shouldRestart(no, 1, false, 0), false);
  assert.equal(shouldRestart(undefined, 1, false, 0), false);
  assert.equal(shouldRestart(always, 0, false, 5), true);
  assert.equal(shouldRestart(unless, 0, false, 0), true);
  assert.equal(shouldRestart(unless, 0, true, 0), false);
  assert.equal(shouldRestart(onf(0), 0, false, 0), false, 'on-failure ignores a clean exit');
  assert.equal(shouldRestart(onf(0), 3, false, 99), true, 'no bound');
  assert.equal(shouldRestart(onf(2), 3, false, 1), true);
  assert.equal(shouldRestart(onf(2), 3, false, 2), false, 'bound reached');
  // boot: always comes back even after a manual stop; unless-stopped does not
  assert.equal(restartOnBoot(always, 0, true, 0), true);
  assert.equal(restartOnBoot(unless, 0, true, 0), false);
  assert.equal(restartOnBoot(unless, 137, false, 0), true);
});

test('back-off doubles from 100 ms to a minute and resets after 10 s up', () => {
  let b = 0;
  const seen: number[] = [];
  for (let i = 0; i < 12; i++) { b = nextBackoff(b, 50); seen.push(b); }
  assert.deepEqual(seen.slice(0, 5), [100, 200, 400, 800, 1600]);
  assert.equal(seen.at(-1), BACKOFF_MAX_MS);
  assert.equal(nextBackoff(BACKOFF_MAX_MS, 10_000), 100);
});
