import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { startProxy, portFree } from './proxy.ts';

async function freePort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as net.AddressInfo;
  s.close();
  await once(s, 'close');
  return port;
}

const tcp = (hostPort: number, containerPort: number) =>
  ({ proto: 'tcp' as const, hostIp: '127.0.0.1', hostPort, containerIp: '127.0.0.1', containerPort });

test('TCP: both directions, and a client half-close still gets the reply', async (t) => {
  // The "container": collects everything until the client's FIN, then answers and closes.
  const backend = net.createServer({ allowHalfOpen: true }, (c) => {
    const chunks: Buffer[] = [];
    c.write('hello\n');
    c.on('data', (d) => chunks.push(d));
    c.on('end', () => c.end(`got ${Buffer.concat(chunks).length} bytes: ${Buffer.concat(chunks).subarray(0, 5)}`));
  });
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  t.after(() => backend.close());
  const hostPort = await freePort();
  const proxy = await startProxy(tcp(hostPort, (backend.address() as net.AddressInfo).port));
  t.after(() => proxy.close());

  const c = net.connect({ host: '127.0.0.1', port: hostPort, allowHalfOpen: true });
  const got: Buffer[] = [];
  c.on('data', (d) => got.push(d));
  const payload = Buffer.alloc(4 << 20, 'x');
  payload.write('first');
  c.end(payload);
  await once(c, 'end');
  assert.equal(Buffer.concat(got).toString(), `hello\ngot ${4 << 20} bytes: first`);
  c.destroy();
});

test('TCP: a refused container port closes the client connection', async (t) => {
  const hostPort = await freePort();
  const proxy = await startProxy(tcp(hostPort, await freePort()));
  t.after(() => proxy.close());
  const c = net.connect({ host: '127.0.0.1', port: hostPort });
  c.on('error', () => {});
  c.write('anyone?');
  const t0 = Date.now();
  await once(c, 'close');
  assert.ok(Date.now() - t0 < 1000);
});

test('TCP: close() drops open connections and frees the port', async () => {
  const backend = net.createServer((c) => c.pipe(c));
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  const hostPort = await freePort();
  const proxy = await startProxy(tcp(hostPort, (backend.address() as net.AddressInfo).port));
  assert.equal(await portFree('tcp', '127.0.0.1', hostPort), false);
  const c = net.connect({ host: '127.0.0.1', port: hostPort });
  c.on('error', () => {});
  c.write('ping');
  await once(c, 'data');
  await proxy.close();
  await once(c, 'close');
  assert.equal(await portFree('tcp', '127.0.0.1', hostPort), true);
  backend.close();
});

test('UDP: datagrams reach the container and its replies reach each client', async (t) => {
  const backend = dgram.createSocket('udp4');
  backend.on('message', (m, from) => backend.send(Buffer.from(`echo ${m}`), from.port, from.address));
  backend.bind(0, '127.0.0.1');
  await once(backend, 'listening');
  t.after(() => backend.close());
  const hostPort = await freePort();
  const proxy = await startProxy({ proto: 'udp', hostIp: '127.0.0.1', hostPort, containerIp: '127.0.0.1', containerPort: backend.address().port });
  t.after(() => proxy.close());

  const ask = async (msg: string): Promise<string> => {
    const c = dgram.createSocket('udp4');
    c.send(msg, hostPort, '127.0.0.1');
    const [m] = await once(c, 'message') as [Buffer];
    c.close();
    return m.toString();
  };
  assert.deepEqual(await Promise.all([ask('one'), ask('two'), ask('three')]), ['echo one', 'echo two', 'echo three']);
  assert.equal(await portFree('udp', '127.0.0.1', hostPort), false);
});

test('UDP: an idle flow is forgotten, a new datagram opens a new one', async (t) => {
  const seen = new Set<number>();
  const backend = dgram.createSocket('udp4');
  backend.on('message', (m, from) => { seen.add(from.port); backend.send(m, from.port, from.address); });
  backend.bind(0, '127.0.0.1');
  await once(backend, 'listening');
  t.after(() => backend.close());
  const hostPort = await freePort();
  const proxy = await startProxy({ proto: 'udp', hostIp: '127.0.0.1', hostPort, containerIp: '127.0.0.1', containerPort: backend.address().port }, { udpIdleMs: 100 });
  t.after(() => proxy.close());
  const c = dgram.createSocket('udp4');
  t.after(() => c.close());
  c.send('a', hostPort, '127.0.0.1');
  await once(c, 'message');
  c.send('b', hostPort, '127.0.0.1');
  await once(c, 'message');
  assert.equal(seen.size, 1, 'one flow while active');
  await new Promise((r) => setTimeout(r, 250));
  c.send('c', hostPort, '127.0.0.1');
  await once(c, 'message');
  assert.equal(seen.size, 2, 'a new upstream socket after the idle timeout');
});

test('a taken port: Docker\'s "port is already allocated"', async () => {
  const holder = net.createServer();
  holder.listen(0, '0.0.0.0');
  await once(holder, 'listening');
  const { port } = holder.address() as net.AddressInfo;
  try {
    assert.equal(await portFree('tcp', '', port), false);
    await assert.rejects(startProxy({ proto: 'tcp', hostIp: '', hostPort: port, containerIp: '127.0.0.1', containerPort: 80 }),
      { name: 'ConflictError', message: `Bind for 0.0.0.0:${port} failed: port is already allocated` });
    await assert.rejects(startProxy({ proto: 'tcp', hostIp: '127.0.0.1', hostPort: port, containerIp: '127.0.0.1', containerPort: 80 }),
      { message: `Bind for 127.0.0.1:${port} failed: port is already allocated` });
  } finally {
    holder.close();
  }
  const u = dgram.createSocket('udp4');
  u.bind(0, '0.0.0.0');
  await once(u, 'listening');
  try {
    const uport = u.address().port;
    assert.equal(await portFree('udp', '0.0.0.0', uport), false);
    await assert.rejects(startProxy({ proto: 'udp', hostIp: '0.0.0.0', hostPort: uport, containerIp: '127.0.0.1', containerPort: 80 }),
      { message: `Bind for 0.0.0.0:${uport} failed: port is already allocated` });
  } finally {
    u.close();
  }
});
