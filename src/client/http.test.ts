import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Client, ApiError } from './client.ts';
import { ConnectError, readAll } from './http.ts';

/** A raw server: handler gets the request text and the socket. */
async function serve(handler: (req: string, sock: Socket) => void): Promise<{ host: string; close: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-client-'));
  const path = join(dir, 's.sock');
  const srv: Server = createServer((sock) => {
    let buf = '';
    sock.on('data', (c) => {
      buf += c.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end);
      const cl = /content-length: (\d+)/i.exec(head);
      const chunked = /transfer-encoding: chunked/i.test(head);
      if (cl && buf.length < end + 4 + Number(cl[1])) return;
      if (chunked && !buf.endsWith('0\r\n\r\n')) return;
      sock.removeAllListeners('data');
      handler(buf, sock);
    });
  });
  await new Promise<void>((r) => srv.listen(path, r));
  return { host: `unix://${path}`, close: () => { srv.close(); rmSync(dir, { recursive: true, force: true }); } };
}

test('JSON request and response with Content-Length; API version prefix', async () => {
  let seen = '';
  const s = await serve((req, sock) => {
    seen = req;
    const body = '[{"Id":"abc"}]';
    sock.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
  try {
    const c = new Client({ host: s.host });
    const list = await c.containerList({ all: true, filters: '{"name":{"web":true}}' });
    assert.deepEqual(list, [{ Id: 'abc' }]);
    assert.match(seen, /^GET \/v1\.41\/containers\/json\?all=1&filters=%7B%22name%22%3A%7B%22web%22%3Atrue%7D%7D HTTP\/1\.1\r\n/);
  } finally { s.close(); }
});

test('chunked response split across writes', async () => {
  const s = await serve((_req, sock) => {
    sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel');
    setTimeout(() => { sock.write('lo\r\n6\r\n world\r'); setTimeout(() => sock.end('\n0\r\n\r\n'), 5); }, 5);
  });
  try {
    const c = new Client({ host: s.host });
    const res = await c.request('GET', '/x');
    assert.equal((await readAll(res.body)).toString(), 'hello world');
  } finally { s.close(); }
});

test('daemon errors become ApiError with the message', async () => {
  const s = await serve((_req, sock) => {
    const body = '{"message":"No such container: nosuch"}\n';
    sock.end(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
  try {
    await assert.rejects(new Client({ host: s.host }).containerStop('nosuch'), (e: Error) => e instanceof ApiError && e.status === 404 && e.message === 'No such container: nosuch');
  } finally { s.close(); }
});

test('streamed request body goes out chunked', async () => {
  let seen = '';
  const s = await serve((req, sock) => { seen = req; sock.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'); });
  try {
    await new Client({ host: s.host }).request('POST', '/images/load', { stream: Readable.from([Buffer.from('abc'), Buffer.from('de')]) });
    assert.match(seen, /Transfer-Encoding: chunked\r\n/);
    assert.ok(seen.endsWith('\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n'));
  } finally { s.close(); }
});

test('hijack: 101 then a raw two-way stream, bytes after the head kept', async () => {
  const s = await serve((req, sock) => {
    assert.match(req, /Connection: Upgrade\r\nUpgrade: tcp\r\n/);
    sock.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nfirst|');
    sock.on('data', (c) => sock.write(`echo:${c}`));
    sock.on('end', () => sock.end('|bye'));
  });
  try {
    const res = await new Client({ host: s.host }).containerAttach('x', { stream: true, stdin: true });
    assert.equal(res.status, 101);
    res.socket.write('ping');
    setTimeout(() => res.socket.end(), 20);
    assert.equal((await readAll(res.body)).toString(), 'first|echo:ping|bye');
  } finally { s.close(); }
});

test('no daemon: docker\'s message', async () => {
  await assert.rejects(new Client({ host: 'unix:///nonexistent.sock' }).ping(),
    (e: Error) => e instanceof ConnectError && e.message === 'Cannot connect to the Docker daemon at unix:///nonexistent.sock. Is the docker daemon running?');
});
