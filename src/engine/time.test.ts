import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nowNanos, rfc3339Nano, rfc3339NanoFixed } from './time.ts';

test('now is the wall clock: always inside the millisecond Date.now() gives around it', () => {
  for (let i = 0; i < 20000; i++) {
    const before = Date.now();
    const ns = nowNanos();
    const after = Date.now();
    const ms = Number(ns / 1_000_000n);
    assert.ok(ms >= before && ms <= after, `${ms} outside [${before}, ${after}]`);
  }
});

test('Go time formats: RFC3339Nano drops trailing zeros, logs -t keeps nine digits', () => {
  const ns = 1700000000_857667950n;
  assert.equal(rfc3339Nano(ns), '2023-11-14T22:13:20.85766795Z');
  assert.equal(rfc3339NanoFixed(ns), '2023-11-14T22:13:20.857667950Z');
  assert.equal(rfc3339Nano(1700000000_000000000n), '2023-11-14T22:13:20Z');
});
