/**
 * attach-socket (no root). node-unix-socket aborts the whole process (Rust panic, exit 134) when a socket is
 * destroyed synchronously inside its own 'data' handler; the wrapper must survive exactly that. Each case runs in a
 * child process, since the failure mode is an abort.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const NODE = process.execPath;
const WRAPPER = join(import.meta.dirname, 'attach-socket.ts');

/** Run body in a child process with `dir`, a temp dir of its own (removed afterwards), in scope. */
function runChild(body: string): { code: number | null; signal: string | null; out: string; err: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-sq-'));
  const script = `
    import { createRequire } from 'node:module';
    import { mkdirSync } from 'node:fs';
    import { connectSeqpacket } from ${JSON.stringify(WRAPPER)};
    const { SeqpacketServer, SeqpacketSocket } = createRequire(${JSON.stringify(WRAPPER)})('node-unix-socket');
    const dir = ${JSON.stringify(dir)};
    ${body}
  `;
  try {
    const r = spawnSync(NODE, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr, dir };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('closing from inside the packet handler does not abort the process', () => {
  const r = runChild(`
    const path = dir + '/s.sock';
    const srv = new SeqpacketServer();
    srv.listen(path);
    srv.on('connection', (s) => { s.write(Buffer.from('\\x02hello')); s.write(Buffer.from('\\x03world')); });
    const conn = await connectSeqpacket(path);
    conn.onPacket((p) => { console.log('packet', p[0], p.subarray(1).toString()); conn.close(); });
    conn.onClose(() => { console.log('closed'); srv.close(); });
  `);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'packet 2 hello\nclosed\n');
});

test('half-close, then the peer closes: EOF reaches the server and onClose fires once', () => {
  const r = runChild(`
    const path = dir + '/s.sock';
    const srv = new SeqpacketServer();
    srv.listen(path);
    srv.on('connection', (s) => {
      s.on('data', (b) => s.write(Buffer.concat([Buffer.from([2]), b])));
      s.on('end', () => { console.log('server saw EOF'); s.write(Buffer.from('\\x02bye')); setImmediate(() => s.destroy()); });
    });
    const conn = await connectSeqpacket(path);
    conn.onPacket((p) => console.log('echo', p.subarray(1).toString()));
    let n = 0;
    conn.onClose(() => { console.log('closed', ++n); srv.close(); });
    conn.write(Buffer.from('hi'));
    setTimeout(() => conn.end(), 50);
  `);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'echo hi\nserver saw EOF\necho bye\nclosed 1\n');
});

test('a socket path longer than sun_path is reached through /proc/self/fd', () => {
  const r = runChild(`
    const deep = dir + '/' + 'x'.repeat(60) + '/' + 'y'.repeat(60);
    mkdirSync(deep, { recursive: true });
    process.chdir(deep);
    const srv = new SeqpacketServer();
    srv.listen('s.sock');
    srv.on('connection', (s) => s.write(Buffer.from('\\x02long')));
    const conn = await connectSeqpacket(deep + '/s.sock');
    conn.onPacket((p) => { console.log(p.subarray(1).toString()); conn.close(); });
    conn.onClose(() => srv.close());
  `);
  assert.ok(Buffer.byteLength(join(r.dir, 'x'.repeat(60), 'y'.repeat(60), 's.sock')) > 108);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'long\n');
});

test('connecting where nothing listens rejects', () => {
  const r = runChild(`
    try { await connectSeqpacket(dir + '/none.sock'); console.log('connected?'); } catch (e) { console.log('rejected'); }
  `);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'rejected\n');
});

test('canary: the raw library still aborts on a synchronous destroy inside data (why the wrapper defers)', () => {
  const r = runChild(`
    const path = dir + '/s.sock';
    const srv = new SeqpacketServer();
    srv.listen(path);
    srv.on('connection', (s) => s.write(Buffer.from('x')));
    const c = new SeqpacketSocket();
    c.on('data', () => { c.destroy(); setTimeout(() => srv.close(), 50); });
    c.connect(path);
  `);
  // If this starts passing with code 0, node-unix-socket fixed the bug; the deferral can then go.
  assert.equal(r.signal, 'SIGABRT', `code ${r.code}: ${r.err.slice(0, 300)}`);
});
