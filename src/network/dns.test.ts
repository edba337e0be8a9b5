import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { DnsServer, type DnsRecords } from './dns.ts';

// A tiny independent DNS client: query encoder, reply decoder (with compression pointers).

function query(id: number, name: string, type: number, extra?: Buffer): Buffer {
  const labels = name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const head = Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, extra ? 1 : 0]);
  return Buffer.concat([head, ...labels, Buffer.from([0, type >> 8, type & 0xff, 0, 1]), extra ?? Buffer.alloc(0)]);
}

function name(buf: Buffer, off: number): [string, number] {
  const parts: string[] = [];
  let end = -1;
  for (;;) {
    const n = buf[off]!;
    if (n === 0) return [parts.join('.'), end < 0 ? off + 1 : end];
    if (n >= 0xc0) { if (end < 0) end = off + 2; off = buf.readUInt16BE(off) & 0x3fff; continue; }
    parts.push(buf.toString('latin1', off + 1, off + 1 + n));
    off += 1 + n;
  }
}

interface Reply { id: number; flags: number; rcode: number; tc: boolean; question: string; answers: { name: string; type: number; ttl: number; data: string }[] }

function decode(buf: Buffer): Reply {
  const flags = buf.readUInt16BE(2);
  let [question, off] = buf.readUInt16BE(4) ? name(buf, 12) : ['', 8];
  off += 4;
  const answers: Reply['answers'] = [];
  for (let i = 0; i < buf.readUInt16BE(6); i++) {
    const [n, o] = name(buf, off);
    const type = buf.readUInt16BE(o), ttl = buf.readUInt32BE(o + 4), len = buf.readUInt16BE(o + 8);
    const data = type === 1 ? [...buf.subarray(o + 10, o + 14)].join('.') : type === 12 ? name(buf, o + 10)[0] : buf.toString('hex', o + 10, o + 10 + len);
    answers.push({ name: n, type, ttl, data });
    off = o + 10 + len;
  }
  return { id: buf.readUInt16BE(0), flags, rcode: flags & 0xf, tc: (flags & 0x200) !== 0, question, answers };
}

function udpAsk(port: number, msg: Buffer, timeoutMs = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); reject(new Error('no reply')); }, timeoutMs);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(m); });
    s.send(msg, port, '127.0.0.1');
  });
}

function tcpAsk(port: number, msgs: Buffer[]): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port });
    const out: Buffer[] = [];
    let buf = Buffer.alloc(0);
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length === msgs.length) { c.destroy(); resolve(out); }
    });
    c.on('error', reject);
    // Both messages in one write, and a half-close right after: the server must still answer both.
    c.end(Buffer.concat(msgs.map((m) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]))));
  });
}

async function freePort(): Promise<number> {
  for (;;) {
    const s = net.createServer();
    const port = await new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));
    await new Promise((r) => s.close(r));
    const u = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((r) => { u.once('error', () => r(false)); u.bind(port, '127.0.0.1', () => r(true)); });
    u.close();
    if (ok) return port;
  }
}

/** A fake upstream nameserver on UDP and TCP: answers every A query with 9.9.9.9, or stays silent. */
async function fakeUpstream(port: number, silent = false): Promise<{ ids: number[]; close(): Promise<void> }> {
  const ids: number[] = [];
  const answer = (q: Buffer): Buffer => {
    ids.push(q.readUInt16BE(0));
    const [, end] = name(q, 12);
    const head = Buffer.from(q.subarray(0, 12));
    head.writeUInt16BE(0x8180, 2);
    head.writeUInt16BE(1, 6);
    head.writeUInt16BE(0, 10);
    const a = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 9, 9, 9, 9]);
    return Buffer.concat([head, q.subarray(12, end + 4), a]);
  };
  const udp = dgram.createSocket('udp4');
  udp.on('message', (m, from) => { if (!silent) udp.send(answer(m), from.port, from.address); else ids.push(m.readUInt16BE(0)); });
  await new Promise<void>((r) => udp.bind(port, '127.0.0.1', r));
  const tcp = net.createServer((c) => c.once('data', (d) => { const r = answer(d.subarray(2)); c.end(Buffer.concat([Buffer.from([r.length >> 8, r.length & 0xff]), r])); }));
  await new Promise<void>((r) => tcp.listen(port, '127.0.0.1', r));
  return { ids, close: async () => { udp.close(); await new Promise((r) => tcp.close(r)); } };
}

const table: Record<string, string[]> = {
  web: ['172.18.0.2'],
  '0123456789ab': ['172.18.0.2'],
  db: ['172.18.0.3', '172.18.0.4', '172.18.0.5'],
  many: Array.from({ length: 40 }, (_, i) => `172.18.1.${i + 1}`),
};
const records: DnsRecords = {
  lookup: (n) => table[n] ?? [],
  reverse: (ip) => (ip === '172.18.0.2' ? 'web.app' : undefined),
};

let port: number, upPort: number, silentPort: number;
let server: DnsServer, silentServer: DnsServer;
let up: Awaited<ReturnType<typeof fakeUpstream>>, silent: Awaited<ReturnType<typeof fakeUpstream>>;

before(async () => {
  [port, upPort] = [await freePort(), await freePort()];
  up = await fakeUpstream(upPort);
  server = new DnsServer({ address: '127.0.0.1', port, records, upstream: () => ['127.0.0.1'], upstreamPort: upPort, domains: ['app'] });
  await server.start();
  silentPort = await freePort();
  const sPort = await freePort();
  silent = await fakeUpstream(sPort, true);
  silentServer = new DnsServer({ address: '127.0.0.1', port: silentPort, records, upstream: () => ['127.0.0.1', '127.0.0.1'], upstreamPort: sPort, timeoutMs: 200 });
  await silentServer.start();
});

after(async () => {
  await Promise.all([server.close(), silentServer.close(), up.close(), silent.close()]);
});

test('A of a container name: case-insensitive, trailing dot, TTL 600, question echoed as asked', async () => {
  const r = decode(await udpAsk(port, query(0x1234, 'WeB.', 1)));
  assert.equal(r.id, 0x1234);
  assert.equal(r.rcode, 0);
  assert.equal(r.flags & 0x8180, 0x8180, 'QR, RD copied, RA');
  assert.equal(r.question, 'WeB');
  assert.deepEqual(r.answers, [{ name: 'WeB', type: 1, ttl: 600, data: '172.18.0.2' }]);
  assert.deepEqual(decode(await udpAsk(port, query(2, '0123456789AB', 1))).answers.map((a) => a.data), ['172.18.0.2']);
  assert.deepEqual(decode(await udpAsk(port, query(3, 'web.app', 1))).answers.map((a) => a.data), ['172.18.0.2'], 'name.<network>');
});

test('several addresses come back all, in varying order', async () => {
  const orders = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const ips = decode(await udpAsk(port, query(i, 'db', 1))).answers.map((a) => a.data);
    assert.deepEqual([...ips].sort(), table.db);
    orders.add(ips.join());
  }
  assert.ok(orders.size > 1, 'round robin');
});

test('AAAA and MX of a known name: NOERROR without answers, not forwarded', async () => {
  const before = up.ids.length;
  for (const type of [28, 15]) {
    const r = decode(await udpAsk(port, query(7, 'web', type)));
    assert.equal(r.rcode, 0);
    assert.deepEqual(r.answers, []);
  }
  assert.equal(up.ids.length, before);
});

test('PTR of a container address answers its name', async () => {
  const r = decode(await udpAsk(port, query(8, '2.0.18.172.in-addr.arpa', 12)));
  assert.deepEqual(r.answers, [{ name: '2.0.18.172.in-addr.arpa', type: 12, ttl: 600, data: 'web.app' }]);
});

test('unknown names go to the upstream with the original id', async () => {
  const r = decode(await udpAsk(port, query(0xbeef, 'example.com', 1)));
  assert.equal(r.id, 0xbeef);
  assert.deepEqual(r.answers.map((a) => [a.data, a.ttl]), [['9.9.9.9', 30]]);
  assert.equal(up.ids.at(-1), 0xbeef);
  // AAAA of an unknown name too.
  assert.equal(decode(await udpAsk(port, query(0xbef0, 'nothere', 28))).answers.length, 1);
  assert.equal(up.ids.at(-1), 0xbef0);
});

test('silent upstreams: SERVFAIL after each has had its timeout', async () => {
  const t0 = Date.now();
  const r = decode(await udpAsk(silentPort, query(0x4242, 'example.com', 1)));
  const took = Date.now() - t0;
  assert.equal(r.id, 0x4242);
  assert.equal(r.rcode, 2);
  assert.equal(r.question, 'example.com');
  assert.ok(took >= 350 && took < 1500, `took ${took} ms`);
  assert.deepEqual(silent.ids.slice(-2), [0x4242, 0x4242], 'both upstreams tried');
});

test('TCP: local answers and forwarding over TCP, pipelined, after a half-close', async () => {
  const [a, b] = (await tcpAsk(port, [query(1, 'web', 1), query(2, 'example.org', 1)])).map(decode).sort((x, y) => x.id - y.id);
  assert.deepEqual(a!.answers.map((x) => x.data), ['172.18.0.2']);
  assert.deepEqual(b!.answers.map((x) => x.data), ['9.9.9.9']);
});

test('a reply too big for UDP is truncated with TC; TCP gets it whole', async () => {
  const u = decode(await udpAsk(port, query(1, 'many', 1)));
  assert.ok(u.tc && u.answers.length > 0 && u.answers.length < 40, `${u.answers.length} answers`);
  const [t] = (await tcpAsk(port, [query(1, 'many', 1)])).map(decode);
  assert.equal(t!.tc, false);
  assert.equal(t!.answers.length, 40);
  // An EDNS0 OPT record asking for 4096 bytes: everything fits over UDP too.
  const opt = Buffer.from([0, 0, 41, 0x10, 0x00, 0, 0, 0, 0, 0, 0]);
  const e = decode(await udpAsk(port, query(2, 'many', 1, opt)));
  assert.equal(e.tc, false);
  assert.equal(e.answers.length, 40);
});

test('malformed packets are ignored and the server keeps answering', async () => {
  const garbage = [
    Buffer.alloc(0),
    Buffer.from([1, 2, 3]),
    Buffer.concat([query(9, 'web', 1).subarray(0, 12), Buffer.from('not dns at all, not even close')]),
    query(9, 'web', 1).subarray(0, 15), // cut in the name
    Buffer.concat([query(9, 'web', 1).subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]), // pointer to itself
    Buffer.concat([query(9, 'web', 1).subarray(0, 12), Buffer.from([0xc0, 0xff, 0, 1, 0, 1])]), // pointer forward
    Buffer.from([0, 9, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]), // a response
  ];
  for (const g of garbage) await assert.rejects(udpAsk(port, g, 100), /no reply/);
  // The same over TCP, then a valid query on a fresh connection.
  const c = net.connect({ host: '127.0.0.1', port });
  await new Promise((r) => c.on('connect', r));
  c.end(Buffer.from([0, 3, 1, 2, 3, 0, 0]));
  await new Promise((r) => c.on('close', r));
  assert.deepEqual(decode(await udpAsk(port, query(10, 'web', 1))).answers.map((a) => a.data), ['172.18.0.2']);
  assert.deepEqual((await tcpAsk(port, [query(11, 'web', 1)])).map((m) => decode(m).id), [11]);
});

test('two queries in one message: FORMERR', async () => {
  const q = query(12, 'web', 1);
  q.writeUInt16BE(2, 4);
  const r = decode(await udpAsk(port, q));
  assert.equal(r.rcode, 1);
  assert.equal(r.id, 12);
});

test('a taken address fails start() with EADDRINUSE', async () => {
  const other = new DnsServer({ address: '127.0.0.1', port, records, upstream: () => [] });
  await assert.rejects(other.start(), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'EADDRINUSE');
    assert.match(e.message, /127\.0\.0\.1:\d+.*EADDRINUSE/);
    return true;
  });
});
