/**
 * The embedded DNS server of user-defined networks (Docker's 127.0.0.11, moby libnetwork/resolver.go), bound
 * aardvark-dns style on a bridge's gateway address, UDP and TCP. It answers the network's container names, aliases
 * and short ids itself and forwards everything else, byte for byte, to the host's nameservers.
 * Wire format per RFC 1035, only as much of it as that needs.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { log, SystemError } from '../lib/index.ts';

export interface DnsRecords {
  /** Lower-cased name without a trailing dot → IPv4 addresses; [] when unknown. */
  lookup(name: string): string[];
  /** IPv4 address → the name PTR answers with (Docker: `<container>.<network>`). */
  reverse?(ip: string): string | undefined;
}

export interface DnsServerOptions {
  address: string;
  port?: number;
  records: DnsRecords;
  /** Nameserver addresses to forward to (the host's resolv.conf), read on every forwarded query. */
  upstream: () => string[];
  /** Port of the upstream servers (tests). */
  upstreamPort?: number;
  /** Per-upstream timeout; Docker's extIOTimeout is 4 s. */
  timeoutMs?: number;
  /** Suffixes stripped from a name unknown as asked, so `web.<network>` resolves as Docker's does. */
  domains?: string[];
}

const A = 1, PTR = 12, MX = 15, AAAA = 28, OPT = 41, IN = 1;
const NOERROR = 0, FORMERR = 1, SERVFAIL = 2, NOTIMP = 4;
const TTL = 600;
const MAX_UPSTREAMS = 3; // Docker's maxExtDNS
const MAX_INFLIGHT = 1024; // Docker's maxConcurrent
const TCP_IDLE_MS = 10_000;

interface Query {
  id: number;
  flags: number;
  /** Lower case, no trailing dot. */
  name: string;
  type: number;
  class: number;
  /** End of the question section: the reply echoes bytes 12..qend so the asker's 0x20 casing survives. */
  qend: number;
  /** Largest UDP reply the asker takes (EDNS0), at least 512. */
  udpSize: number;
  /** Set when the message is a query we refuse outright. */
  rcode?: number;
}

/** A (possibly compressed) domain name at off → [lower-cased dotted name, offset after it in the message]. */
function readName(buf: Buffer, off: number): [string, number] | undefined {
  const labels: string[] = [];
  let end = -1, len = 0;
  for (let pos = off; ;) {
    const n = buf[pos];
    if (n === undefined) return undefined;
    if (n === 0) return [labels.join('.'), end < 0 ? pos + 1 : end];
    if ((n & 0xc0) === 0xc0) {
      const to = ((n & 0x3f) << 8) | (buf[pos + 1] ?? 0x100);
      // Only strictly backward jumps: a pointer loop cannot exist then.
      if (pos + 1 >= buf.length || to >= pos) return undefined;
      if (end < 0) end = pos + 2;
      pos = to;
      continue;
    }
    if (n > 63 || pos + 1 + n > buf.length || (len += n + 1) > 255) return undefined;
    // A dot inside a label must not make `a.b` out of one label.
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + n).toLowerCase().replaceAll('.', '\\.'));
    pos += 1 + n;
  }
}

/** undefined: not a query we answer at all (a response, garbage). */
function parseQuery(buf: Buffer): Query | undefined {
  if (buf.length < 12) return undefined;
  const id = buf.readUInt16BE(0), flags = buf.readUInt16BE(2);
  if (flags & 0x8000) return undefined; // a response: answering it could start a loop
  const q: Query = { id, flags, name: '', type: 0, class: 0, qend: 12, udpSize: 512 };
  if ((flags >> 11) & 0xf) return { ...q, rcode: NOTIMP };
  if (buf.readUInt16BE(4) !== 1) return { ...q, rcode: FORMERR };
  const name = readName(buf, 12);
  if (!name || name[1] + 4 > buf.length) return undefined;
  q.name = name[0];
  q.type = buf.readUInt16BE(name[1]);
  q.class = buf.readUInt16BE(name[1] + 2);
  q.qend = name[1] + 4;
  // EDNS0: the OPT record sits in the additional section, its class is the asker's UDP payload size.
  if (buf.readUInt16BE(6) === 0 && buf.readUInt16BE(8) === 0 && buf.readUInt16BE(10) > 0) {
    const opt = readName(buf, q.qend);
    if (opt && opt[1] + 4 <= buf.length && buf.readUInt16BE(opt[1]) === OPT) q.udpSize = Math.max(512, buf.readUInt16BE(opt[1] + 2));
  }
  return q;
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean).map((l) => Buffer.from(l, 'latin1').subarray(0, 63));
  const out = Buffer.alloc(parts.reduce((n, p) => n + p.length + 1, 1));
  let off = 0;
  for (const p of parts) { out[off++] = p.length; off += p.copy(out, off); }
  return out;
}

/** A resource record named by a pointer to the question's name (offset 12). */
function rr(type: number, rdata: Buffer): Buffer {
  const b = Buffer.alloc(12 + rdata.length);
  b.writeUInt16BE(0xc00c, 0);
  b.writeUInt16BE(type, 2);
  b.writeUInt16BE(IN, 4);
  b.writeUInt32BE(TTL, 6);
  b.writeUInt16BE(rdata.length, 10);
  rdata.copy(b, 12);
  return b;
}

/** Our own reply: Docker's SetReply (id, opcode, RD, CD copied) plus RA. */
function reply(q: Query, query: Buffer, rcode: number, answers: Buffer[] = [], maxSize = 0xffff): Buffer {
  const question = q.qend > 12 ? query.subarray(12, q.qend) : Buffer.alloc(0);
  let flags = 0x8000 | (q.flags & 0x7910) | 0x0080 | rcode;
  let size = 12 + question.length + answers.reduce((n, a) => n + a.length, 0);
  if (size > maxSize) {
    flags |= 0x0200; // TC: the asker retries over TCP
    answers = answers.slice();
    while (size > maxSize && answers.length) size -= answers.pop()!.length;
  }
  const head = Buffer.alloc(12);
  head.writeUInt16BE(q.id, 0);
  head.writeUInt16BE(flags, 2);
  head.writeUInt16BE(question.length ? 1 : 0, 4);
  head.writeUInt16BE(answers.length, 6);
  return Buffer.concat([head, question, ...answers]);
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** `4.3.2.1.in-addr.arpa` → `1.2.3.4`. */
function ptrAddress(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  const ip = m && `${m[4]}.${m[3]}.${m[2]}.${m[1]}`;
  return ip && net.isIPv4(ip) ? ip : undefined;
}

function frame(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}

/** Calls onMessage for each 2-byte-length-prefixed message arriving on sock (RFC 1035 §4.2.2). */
function readFrames(sock: net.Socket, onMessage: (msg: Buffer) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const n = buf.readUInt16BE(0);
      onMessage(buf.subarray(2, 2 + n));
      buf = buf.subarray(2 + n);
    }
  });
}

/** A reply to our query (same id, QR set), not a stray datagram. */
function isReplyTo(resp: Buffer, id: number): boolean {
  return resp.length >= 12 && resp.readUInt16BE(0) === id && (resp[2]! & 0x80) !== 0;
}

export class DnsServer {
  readonly #opts: DnsServerOptions;
  readonly #port: number;
  readonly #timeoutMs: number;
  #udp: dgram.Socket | undefined;
  #tcp: net.Server | undefined;
  readonly #conns = new Set<net.Socket>();
  #inflight = 0;

  constructor(opts: DnsServerOptions) {
    this.#opts = opts;
    this.#port = opts.port ?? 53;
    this.#timeoutMs = opts.timeoutMs ?? 4000;
  }

  async start(): Promise<void> {
    const { address } = this.#opts, port = this.#port;
    const udp = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
    const tcp = net.createServer({ allowHalfOpen: true }, (c) => this.#serveTcp(c));
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ address, port, exclusive: true }, () => { udp.off('error', reject); resolve(); });
      });
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: address, port, exclusive: true }, () => { tcp.off('error', reject); resolve(); });
      });
    } catch (e) {
      try { udp.close(); } catch { /* never bound */ }
      tcp.close();
      const err = new SystemError(`error in opening name server socket on ${address}:${port}: ${(e as Error).message}`, { cause: e });
      throw Object.assign(err, { code: (e as { code?: string }).code });
    }
    udp.on('error', (e) => log().warn({ err: e, address }, 'embedded DNS: UDP socket error'));
    tcp.on('error', (e) => log().warn({ err: e, address }, 'embedded DNS: TCP listener error'));
    udp.on('message', (msg, from) => {
      void this.#answer(msg, false).then((r) => {
        if (r && this.#udp) this.#udp.send(r, from.port, from.address, () => {});
      });
    });
    this.#udp = udp;
    this.#tcp = tcp;
  }

  async close(): Promise<void> {
    const udp = this.#udp, tcp = this.#tcp;
    this.#udp = this.#tcp = undefined;
    for (const c of this.#conns) c.destroy();
    await Promise.all([
      udp && new Promise<void>((r) => udp.close(() => r())),
      tcp && new Promise<void>((r) => tcp.close(() => r())),
    ]);
  }

  #serveTcp(c: net.Socket): void {
    this.#conns.add(c);
    let pending = 0, ended = false;
    c.setTimeout(TCP_IDLE_MS, () => { if (!pending) c.destroy(); });
    c.on('error', () => c.destroy());
    c.on('close', () => this.#conns.delete(c));
    // The asker may half-close after its query: answer what is pending, then close our side.
    c.on('end', () => { ended = true; if (!pending) c.end(); });
    readFrames(c, (msg) => {
      pending++;
      void this.#answer(msg, true).then((r) => {
        pending--;
        if (r && c.writable) c.write(frame(r));
        if (ended && !pending) c.end();
      });
    });
  }

  /** The reply to one message, undefined to stay silent. Never throws: a bad packet must not hurt the daemon. */
  async #answer(msg: Buffer, tcp: boolean): Promise<Buffer | undefined> {
    let q: Query | undefined;
    try {
      q = parseQuery(msg);
      if (!q) return undefined;
      if (q.rcode !== undefined) return reply(q, msg, q.rcode);
      const local = this.#local(q, msg, tcp ? 0xffff : q.udpSize);
      if (local) return local;
      if (this.#inflight >= MAX_INFLIGHT) return reply(q, msg, SERVFAIL);
      this.#inflight++;
      try {
        return (await this.#forward(msg, q.id, tcp)) ?? reply(q, msg, SERVFAIL);
      } finally {
        this.#inflight--;
      }
    } catch (e) {
      log().debug({ err: e }, 'embedded DNS: query failed');
      return q && reply(q, msg, SERVFAIL);
    }
  }

  #resolve(name: string): string[] {
    const { records, domains = [] } = this.#opts;
    let found = records.lookup(name);
    for (const d of domains) {
      if (found.length) break;
      if (name.endsWith(`.${d}`)) found = records.lookup(name.slice(0, -d.length - 1));
    }
    return found.filter((ip) => net.isIPv4(ip));
  }

  /** Docker's handleIPQuery/handleMXQuery/handlePTRQuery; undefined when the name is not ours (forward it). */
  #local(q: Query, msg: Buffer, maxSize: number): Buffer | undefined {
    if (q.class !== IN) return undefined;
    switch (q.type) {
      case A: {
        const ips = shuffle(this.#resolve(q.name));
        if (!ips.length) return undefined;
        return reply(q, msg, NOERROR, ips.map((ip) => rr(A, Buffer.from(ip.split('.').map(Number)))), maxSize);
      }
      // A known name without IPv6 address (AAAA) or mail exchanger (MX): NOERROR with no answer, so that the
      // asker does not go on to the host's servers.
      case AAAA: case MX:
        return this.#resolve(q.name).length ? reply(q, msg, NOERROR) : undefined;
      case PTR: {
        const ip = ptrAddress(q.name);
        const host = ip && this.#opts.records.reverse?.(ip);
        return host ? reply(q, msg, NOERROR, [rr(PTR, encodeName(host))], maxSize) : undefined;
      }
      default:
        return undefined;
    }
  }

  /** Forward the query unchanged (same id) to each upstream in turn; as Docker, SERVFAIL and REFUSED mean: try the next. */
  async #forward(msg: Buffer, id: number, tcp: boolean): Promise<Buffer | undefined> {
    for (const server of this.#opts.upstream().slice(0, MAX_UPSTREAMS)) {
      const resp = await (tcp ? this.#askTcp(server, msg, id) : this.#askUdp(server, msg, id));
      const rcode = resp ? resp[3]! & 0xf : -1;
      if (resp && rcode !== SERVFAIL && rcode !== 5 /* REFUSED */) return resp;
    }
    return undefined;
  }

  #askUdp(server: string, msg: Buffer, id: number): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      // One socket per query, as Docker dials one: replies cannot be confused between askers reusing an id,
      // and the kernel picks a fresh source port each time.
      const s = dgram.createSocket(net.isIPv6(server) ? 'udp6' : 'udp4');
      let done = false;
      const finish = (r?: Buffer): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        s.close();
        resolve(r);
      };
      const timer = setTimeout(finish, this.#timeoutMs);
      s.on('error', () => finish()); // ECONNREFUSED from an ICMP unreachable: next server right away
      s.on('message', (m) => { if (isReplyTo(m, id)) finish(m); });
      s.connect(this.#opts.upstreamPort ?? 53, server, () => s.send(msg, (e) => e && finish()));
    });
  }

  #askTcp(server: string, msg: Buffer, id: number): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const s = net.connect({ host: server, port: this.#opts.upstreamPort ?? 53 });
      let done = false;
      const finish = (r?: Buffer): void => {
        if (done) return;
        done = true;
        s.destroy();
        resolve(r);
      };
      s.setTimeout(this.#timeoutMs, () => finish());
      s.on('error', () => finish());
      s.on('close', () => finish());
      readFrames(s, (m) => { if (isReplyTo(m, id)) finish(m); });
      s.write(frame(msg));
    });
  }
}
