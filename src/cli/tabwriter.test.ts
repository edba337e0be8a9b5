import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tabulate } from './tabwriter.ts';

test('docker table layout: min width 10, padding 3, last cell unpadded', () => {
  const text = 'CONTAINER ID\tIMAGE\tNAMES\nd4673d78352f\tbusybox:1.35\tappdns\n';
  assert.equal(tabulate(text),
    'CONTAINER ID   IMAGE          NAMES\n' +
    'd4673d78352f   busybox:1.35   appdns\n');
});

test('short columns get the minimum width; empty cells are padded', () => {
  assert.equal(tabulate('A\tB\tC\n\tx\ty\n'), 'A         B         C\n          x         y\n');
});

test('a trailing empty cell keeps the padding of the column before it (docker ps LABELS)', () => {
  assert.equal(tabulate('NAMES\tMOUNTS\tLABELS\nweb\t\t\n'), 'NAMES     MOUNTS    LABELS\nweb                 \n');
});

test('columns are aligned per block of lines that have them', () => {
  // the middle line has no tab: it ends the block, so the widths before and after differ
  assert.equal(tabulate('aaaaaaaaaaaaaa\tb\nno tabs here\nc\td\n'), 'aaaaaaaaaaaaaa   b\nno tabs here\nc         d\n');
});

test('widths count characters, not bytes (… is one)', () => {
  assert.equal(tabulate('"sh -c \'i=0; while :…"\tx\n"sleep 100000"\ty\n'),
    '"sh -c \'i=0; while :…"   x\n"sleep 100000"           y\n');
});

test('docker top: min width 20', () => {
  assert.equal(tabulate('UID\tPID\tCMD\nroot\t1\tsleep\n', 20, 3), 'UID                 PID                 CMD\nroot                1                   sleep\n');
});
