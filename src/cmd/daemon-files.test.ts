import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { sdNotify, acquirePidFile, releasePidFile } from './daemon-files.ts';

test('sd_notify sends READY=1 to a unix datagram socket of our own (bound by python3)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-notify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 'notify.sock');
  const py = spawn('python3', ['-c', `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
s.settimeout(10)
print(s.recv(4096).decode(), flush=True)
`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  py.stdout.on('data', (b: Buffer) => { out += b; });
  while (!out.includes('bound')) await once(py.stdout, 'data');
  assert.equal(await sdNotify('READY=1', sock), true);
  const [code] = await once(py, 'close');
  assert.equal(code, 0);
  assert.equal(out.split('\n')[1], 'READY=1');
  assert.equal(await sdNotify('READY=1', undefined), false);
});

test('pid file: taken once, stale pid replaced, live berthd refused', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pid-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = join(dir, 'sub', 'berthd.pid');
  acquirePidFile(p);
  assert.equal(readFileSync(p, 'utf8'), String(process.pid));
  releasePidFile(p);
  assert.equal(existsSync(p), false);
  writeFileSync(p, '999999999'); // no such process
  acquirePidFile(p);
  assert.equal(readFileSync(p, 'utf8'), String(process.pid));
  releasePidFile(p);
  writeFileSync(p, '1'); // pid 1 is alive but is not berthd: stale
  acquirePidFile(p);
  releasePidFile(p);
  const other = spawn('sh', ['-c', 'sleep 30', 'berthd'], { stdio: 'ignore' });
  t.after(() => other.kill('SIGKILL'));
  writeFileSync(p, String(other.pid));
  assert.throws(() => acquirePidFile(p), { message: `failed to start daemon: pid file found, ensure berthd is not running or delete ${p}` });
  assert.equal(readFileSync(p, 'utf8'), String(other.pid));
});
