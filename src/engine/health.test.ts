import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitor, probeArgs, goDuration, type ProbeResult } from './health.ts';
import type { HealthState } from './model.ts';

const S = 1_000_000_000;

function monitor(cfg: { Retries?: number; StartPeriod?: number }, startedAt = 0) {
  const state: HealthState = { Status: 'starting', FailingStreak: 0, Log: [] };
  const events: string[] = [];
  const m = new HealthMonitor(state, cfg, ['true'], startedAt, async () => { throw new Error('not used'); }, (s) => events.push(s));
  const at = (sec: number, exitCode: number): ProbeResult => ({ exitCode, output: `r${exitCode}`, start: new Date(sec * 1000), end: new Date(sec * 1000 + 5) });
  return { state, events, m, at };
}

test('exit 0 is healthy; retries failures in a row make it unhealthy; one success resets the streak', () => {
  const { state, events, m, at } = monitor({ Retries: 2 });
  m.record(at(1, 1));
  assert.equal(state.Status, 'starting');
  assert.equal(state.FailingStreak, 1);
  m.record(at(2, 0));
  assert.deepEqual([state.Status, state.FailingStreak], ['healthy', 0]);
  m.record(at(3, 1));
  assert.equal(state.Status, 'healthy');
  m.record(at(4, 2));
  assert.deepEqual([state.Status, state.FailingStreak], ['unhealthy', 2]);
  assert.deepEqual(events, ['healthy', 'unhealthy'], 'an event per change only');
});

test('failures within the start period do not count while it was never healthy; the log keeps 5', () => {
  const { state, m, at } = monitor({ Retries: 1, StartPeriod: 10 * S });
  for (let i = 1; i <= 6; i++) m.record(at(i, 1));
  assert.deepEqual([state.Status, state.FailingStreak], ['starting', 0]);
  assert.equal(state.Log.length, 5);
  assert.equal(state.Log[0]!.Start, '1970-01-01T00:00:02.000000000Z');
  m.record(at(11, 1));
  assert.equal(state.Status, 'unhealthy');
});

test('probe argv from CMD, CMD-SHELL and NONE; Go durations in the timeout text', () => {
  assert.deepEqual(probeArgs(['CMD', 'curl', '-f', 'x'], undefined), ['curl', '-f', 'x']);
  assert.deepEqual(probeArgs(['CMD-SHELL', 'exit 1'], undefined), ['/bin/sh', '-c', 'exit 1']);
  assert.deepEqual(probeArgs(['CMD-SHELL', 'exit 1'], ['/bin/bash', '-ec']), ['/bin/bash', '-ec', 'exit 1']);
  assert.equal(probeArgs(['NONE'], undefined), undefined);
  assert.equal(probeArgs([], undefined), undefined);
  assert.equal(goDuration(30_000), '30s');
  assert.equal(goDuration(1500), '1.5s');
  assert.equal(goDuration(500), '500ms');
});
