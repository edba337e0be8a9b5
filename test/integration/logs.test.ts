/**
 * Issue 4 §5, acceptance 8: json-file rotation (max-size, max-file; per container and from daemon.json) and
 * `logs` across the rotated files; `--log-driver none`; bad log options in Docker's words.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, integrationSkip, type Daemon } from '../helpers/daemon.ts';

const LINES = 'i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done';

function jsonLogs(d: Daemon, id: string): { name: string; size: number }[] {
  const dir = join(d.root, 'containers', id);
  return readdirSync(dir).filter((n) => n.includes('-json.log')).map((n) => ({ name: n, size: statSync(join(dir, n)).size }));
}

function checkKept(out: string): void {
  const lines = out.split('\n').filter(Boolean);
  assert.ok(lines.length > 10 && lines.length < 200, `some lines were rotated away (${lines.length} kept)`);
  const first = Number(lines[0]!.slice(5));
  assert.deepEqual(lines, Array.from({ length: 200 - first }, (_, i) => `line-${first + i}`), 'the newest lines, in order');
}

describe('logs: rotation and drivers', { skip: integrationSkip() }, () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon({ config: { 'log-opts': { 'max-size': '2k', 'max-file': '2' } } });
    await d.load('busybox');
  });
  after(() => d?.cleanup());
  const slack = () => (d.engine === 'docker' ? 80 : 0);

  it('--log-opt max-size=1k max-file=3: at most 3 files of at most 1 KiB; logs shows what is kept, in order', async () => {
    const r = await d.docker(['run', '--name', 'rot', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=3', 'busybox:1.35', 'sh', '-c', LINES]);
    assert.equal(r.code, 0, r.stderr);
    const id = (await d.docker(['inspect', '-f', '{{.Id}}', 'rot'])).stdout.trim();
    const files = jsonLogs(d, id);
    assert.equal(files.length, 3, JSON.stringify(files));
    // berth rotates before a line would pass max-size; Docker after a file has reached it (one line over at most)
    for (const f of files) assert.ok(f.size <= 1024 + slack(), `${f.name}: ${f.size} bytes`);
    checkKept((await d.docker(['logs', 'rot'])).stdout);
  });

  it('daemon.json log-opts apply to containers that name none', async () => {
    assert.equal((await d.docker(['run', '--name', 'dflt', 'busybox:1.35', 'sh', '-c', LINES])).code, 0);
    const id = (await d.docker(['inspect', '-f', '{{.Id}}', 'dflt'])).stdout.trim();
    assert.equal((await d.docker(['inspect', '-f', '{{json .HostConfig.LogConfig}}', 'dflt'])).stdout, '{"Type":"json-file","Config":{"max-file":"2","max-size":"2k"}}\n');
    const files = jsonLogs(d, id);
    assert.equal(files.length, 2);
    for (const f of files) assert.ok(f.size <= 2048 + slack(), `${f.name}: ${f.size} bytes`);
    checkKept((await d.docker(['logs', 'dflt'])).stdout);
  });

  it('--log-driver none: output still reaches an attached client; logs says the driver cannot be read', async () => {
    assert.deepEqual(await d.docker(['run', '--rm', '--log-driver', 'none', 'busybox:1.35', 'echo', 'hi']), { stdout: 'hi\n', stderr: '', code: 0 });
    assert.equal((await d.docker(['run', '-d', '--name', 'quiet', '--log-driver', 'none', 'busybox:1.35', 'echo', 'hi'])).code, 0);
    const logs = await d.docker(['logs', 'quiet']);
    assert.equal(logs.code, 1);
    assert.equal(logs.stderr, 'Error response from daemon: configured logging driver does not support reading\n');
  });

  it('logs --details puts the (empty) attributes and a space before each line', async () => {
    assert.equal((await d.docker(['run', '--name', 'det', 'busybox:1.35', 'sh', '-c', 'echo out1; echo out2'])).code, 0);
    assert.equal((await d.docker(['logs', '--details', 'det'])).stdout, ' out1\n out2\n');
  });

  it('bad log options are refused in Docker\'s words', async () => {
    const unknown = await d.docker(['create', '--log-opt', 'foo=1', 'busybox:1.35']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown log opt 'foo' for json-file log driver/);
    const driver = await d.docker(['create', '--log-driver', 'nosuch', 'busybox:1.35']);
    assert.equal(driver.code, 1);
    assert.match(driver.stderr, /error looking up logging plugin nosuch: plugin "nosuch" not found/);
  });
});
