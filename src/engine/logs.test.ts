import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, appendFile, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogConverter, goJsonString, parseK8sLine, readJsonLog, lastJsonLogTime } from './logs.ts';
import { rfc3339Nano, rfc3339NanoFixed, parseRfc3339 } from './time.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function dir(): Promise<string> { const d = await mkdtemp(join(tmpdir(), 'berth-logs-')); dirs.push(d); return d; }

test('Go time formats: RFC3339Nano drops trailing zeros, logs -t keeps 9 digits', () => {
  const t = parseRfc3339('2026-11-23T14:14:52.85766795Z')!;
  assert.equal(rfc3339Nano(t), '2026-11-23T14:14:52.85766795Z');
  assert.equal(rfc3339NanoFixed(t), '2026-11-23T14:14:52.857667950Z');
  assert.equal(rfc3339Nano(parseRfc3339('2026-11-23T14:14:52Z')!), '2026-11-23T14:14:52Z');
  // conmon writes local time with an offset
  assert.equal(rfc3339Nano(parseRfc3339('2026-11-23T16:14:52.000000001+02:00')!), '2026-11-23T14:14:52.000000001Z');
});

test('json strings are escaped as Go does', () => {
  assert.equal(goJsonString('a<b>&"\n\t'), '"a\\u003cb\\u003e\\u0026\\"\\n\\t"');
});

test('k8s-file lines parse, including an empty full line', () => {
  const r = parseK8sLine(Buffer.from('2026-11-23T06:56:40.310831207+00:00 stderr F out line'))!;
  assert.equal(r.stream, 'stderr');
  assert.equal(r.partial, false);
  assert.equal(r.text.toString(), 'out line');
  assert.equal(parseK8sLine(Buffer.from('2026-11-23T06:56:40.310831207+00:00 stdout F'))!.text.length, 0);
  assert.equal(parseK8sLine(Buffer.from('garbage')), undefined);
});

test('conversion to json-file: full lines, joined partial lines, a final partial line without newline', async () => {
  const d = await dir();
  const staging = join(d, 'ctr.log');
  const json = join(d, 'c-json.log');
  await writeFile(staging, [
    '2026-11-23T14:14:52.826429582+00:00 stdout F hello stdout',
    '2026-11-23T14:14:52.829281872+00:00 stderr F hello stderr',
    '2026-11-23T14:14:52.830000000+00:00 stdout P par',
    '2026-11-23T14:14:52.831000000+00:00 stdout F tial <x>',
    '2026-11-23T14:14:52.857667950+00:00 stdout P no newline at end',
    '',
  ].join('\n'));
  const conv = new LogConverter(staging, json, { offset: 0, ino: 0 });
  await conv.pump();
  // the trailing partial line is held back until more comes or the container ends
  assert.equal((await readFile(json, 'utf8')).split('\n').length - 1, 3);
  await conv.finish();
  assert.equal(await readFile(json, 'utf8'), [
    '{"log":"hello stdout\\n","stream":"stdout","time":"2026-11-23T14:14:52.826429582Z"}',
    '{"log":"hello stderr\\n","stream":"stderr","time":"2026-11-23T14:14:52.829281872Z"}',
    '{"log":"partial \\u003cx\\u003e\\n","stream":"stdout","time":"2026-11-23T14:14:52.83Z"}',
    '{"log":"no newline at end","stream":"stdout","time":"2026-11-23T14:14:52.85766795Z"}',
    '',
  ].join('\n'));
  const { entries } = await readJsonLog(json);
  assert.deepEqual(entries.map((e) => e.log), ['hello stdout\n', 'hello stderr\n', 'partial <x>\n', 'no newline at end']);
});

test('tty output keeps its \\r before the newline', async () => {
  const d = await dir();
  await writeFile(join(d, 'ctr.log'), '2026-11-23T14:14:53.219577993+00:00 stdout F tty line\r\n');
  const conv = new LogConverter(join(d, 'ctr.log'), join(d, 'j.log'), { offset: 0, ino: 0 });
  await conv.finish();
  assert.equal(await readFile(join(d, 'j.log'), 'utf8'), '{"log":"tty line\\r\\n","stream":"stdout","time":"2026-11-23T14:14:53.219577993Z"}\n');
});

test('incremental pumps convert only what is new; a record split across writes waits for its newline', async () => {
  const d = await dir();
  const staging = join(d, 'ctr.log');
  const json = join(d, 'j.log');
  await writeFile(staging, '2026-11-23T00:00:01.000000001Z stdout F one\n2026-11-23T00:00:02Z stdout F tw');
  const conv = new LogConverter(staging, json, { offset: 0, ino: 0 });
  await conv.pump();
  await appendFile(staging, 'o\n');
  await conv.pump();
  await conv.pump();
  const { entries } = await readJsonLog(json);
  assert.deepEqual(entries.map((e) => e.log), ['one\n', 'two\n']);
  assert.equal(conv.state.offset, (await readFile(staging)).length);
});

test('conmon replacing the staging file (its size bound) loses nothing the converter had a chance to read', async () => {
  const d = await dir();
  const staging = join(d, 'ctr.log');
  const json = join(d, 'j.log');
  await writeFile(staging, '2026-11-23T00:00:01Z stdout F a\n');
  const conv = new LogConverter(staging, json, { offset: 0, ino: 0 });
  await conv.pump();
  await appendFile(staging, '2026-11-23T00:00:02Z stdout F b\n');
  // conmon's truncation: a new file renamed over the old one
  await writeFile(`${staging}.tmp`, '2026-11-23T00:00:03Z stdout F c\n');
  await rename(`${staging}.tmp`, staging);
  await conv.pump();
  await conv.finish();
  const { entries } = await readJsonLog(json);
  assert.deepEqual(entries.map((e) => e.log), ['a\n', 'b\n', 'c\n']);
});

test('after a daemon crash, conversion resumes from the stored offset and skips what was already written', async () => {
  const d = await dir();
  const staging = join(d, 'ctr.log');
  const json = join(d, 'j.log');
  await writeFile(staging, '2026-11-23T00:00:01Z stdout F a\n2026-11-23T00:00:02Z stdout F b\n');
  const first = new LogConverter(staging, json, { offset: 0, ino: 0 });
  await first.pump();
  await first.close();
  const saved = { offset: 0, ino: 0 }; // the crash happened before the offset was persisted
  await appendFile(staging, '2026-11-23T00:00:03Z stderr F written while down\n');
  const skipUntil = await lastJsonLogTime(json);
  const second = new LogConverter(staging, json, saved, { skipUntil: skipUntil! });
  await second.finish();
  const { entries } = await readJsonLog(json);
  assert.deepEqual(entries.map((e) => `${e.stream}:${e.log}`), ['stdout:a\n', 'stdout:b\n', 'stderr:written while down\n']);
});

test('a staging file shorter than the stored offset is read from its start', async () => {
  const d = await dir();
  const staging = join(d, 'ctr.log');
  const json = join(d, 'j.log');
  await writeFile(staging, '2026-11-23T00:00:09Z stdout F new\n');
  const conv = new LogConverter(staging, json, { offset: 10_000, ino: 0 });
  await conv.finish();
  assert.deepEqual((await readJsonLog(json)).entries.map((e) => e.log), ['new\n']);
  await rm(d, { recursive: true });
});

test('rotation by max-size keeps max-file files', async () => {
  const d = await dir();
  const staging = join(d, 'ctr.log');
  const json = join(d, 'j.log');
  const conv = new LogConverter(staging, json, { offset: 0, ino: 0 }, { rotation: { maxSize: 150, maxFiles: 2 } });
  for (let i = 0; i < 6; i++) {
    await appendFile(staging, `2026-11-23T00:00:0${i}Z stdout F line ${i} ${'x'.repeat(40)}\n`);
    await conv.pump();
  }
  await conv.finish();
  const live = (await readJsonLog(json)).entries;
  const old = (await readJsonLog(`${json}.1`)).entries;
  assert.ok(live.length >= 1 && old.length >= 1);
  assert.match(live.at(-1)!.log, /^line 5 /);
  await assert.rejects(readFile(`${json}.2`));
});

test('rotation applies per line: a batch of many lines still leaves every file within max-size, lines in order', async () => {
  const d = await dir();
  const staging = join(d, 'ctr.log');
  const json = join(d, 'j.log');
  const conv = new LogConverter(staging, json, { offset: 0, ino: 0 }, { rotation: { maxSize: 1024, maxFiles: 3 } });
  let text = '';
  for (let i = 0; i < 200; i++) text += `2026-11-23T00:00:00.${String(i).padStart(9, '0')}Z stdout F line-${i}\n`;
  await appendFile(staging, text); // one pump sees all 200 lines
  await conv.pump();
  await conv.finish();
  const files = [`${json}.2`, `${json}.1`, json];
  const kept: string[] = [];
  for (const f of files) {
    assert.ok((await stat(f)).size <= 1024, `${f} within max-size`);
    kept.push(...(await readJsonLog(f)).entries.map((e) => e.log.trim()));
  }
  await assert.rejects(stat(`${json}.3`));
  const first = Number(kept[0]!.slice(5));
  assert.deepEqual(kept, Array.from({ length: 200 - first }, (_, i) => `line-${first + i}`), 'the newest lines, in order, none missing');
  await rm(d, { recursive: true });
});
