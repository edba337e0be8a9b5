/**
 * A small HTTP/1.1 client over node:net (unix or tcp). node:http costs ~30 ms of start-up,
 * this costs nearly nothing. One connection per request (`Connection: close`), except the
 * hijacked attach stream, which keeps its socket.
 */
import { connect, type Socket } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';

export interface Endpoint {
  /** unix socket path, or undefined for tcp */
  socketPath?: string;
  host?: string;
  port?: number;
  /** the address as given (for error messages): unix:///run/berth/berth.sock */
  url: string;
}

export function parseHost(url: string): Endpoint {
  if (url.startsWith('unix://')) return { socketPath: url.slice(7), url };
  if (url.startsWith('/')) return { socketPath: url, url: `unix://${url}` };
  const m = /^(?:tcp|http):\/\/\[?([^\]/]*?)\]?(?::(\d+))?\/?$/.exec(url);
  if (m) return { host: m[1] || '127.0.0.1', port: Number(m[2] ?? 2375), url };
  throw new Error(`Invalid bind address format: ${url}`);
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Readable;
  socket: Socket;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** a whole body, or a stream sent with chunked encoding */
  body?: Buffer | string | Readable;
  /** hijack: send Connection: Upgrade and hand back the raw socket after 101 */
  upgrade?: boolean;
}

/** Thrown when the daemon cannot be reached. */
export class ConnectError extends Error {
  readonly url: string;
  constructor(url: string, cause: unknown) {
    super(`Cannot connect to the Docker daemon at ${url}. Is the docker daemon running?`, { cause });
    this.url = url;
  }
}

/** Sends one request; resolves when the response head has arrived. */
export function rawRequest(ep: Endpoint, req: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = ep.socketPath ? connect(ep.socketPath) : connect(ep.port!, ep.host!);
    let settled = false;
    const fail = (e: unknown): void => {
      if (settled) return;
      settled = true;
      sock.destroy();
      reject(e);
    };
    sock.once('error', (e) => fail(new ConnectError(ep.url, e)));
    sock.once('connect', () => {
      sock.removeAllListeners('error');
      sock.on('error', (e) => fail(e));
      const h: Record<string, string> = { Host: ep.socketPath ? 'docker' : `${ep.host}:${ep.port}`, 'User-Agent': 'berth-cli', ...req.headers };
      const body = req.body;
      const streamed = body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body);
      if (req.upgrade) { h.Connection = 'Upgrade'; h.Upgrade = 'tcp'; } else h.Connection = 'close';
      if (streamed) h['Transfer-Encoding'] = 'chunked';
      else if (body !== undefined) h['Content-Length'] = String(Buffer.byteLength(body));
      else if (req.method === 'POST' || req.method === 'PUT') h['Content-Length'] = '0';
      let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
      for (const [k, v] of Object.entries(h)) head += `${k}: ${v}\r\n`;
      head += '\r\n';
      if (streamed) {
        sock.write(head);
        const src = body as Readable;
        src.on('data', (c: Buffer) => { if (c.length) sock.write(`${c.length.toString(16)}\r\n`); sock.write(c); sock.write('\r\n'); });
        src.on('end', () => sock.write('0\r\n\r\n'));
        src.on('error', fail);
      } else {
        sock.write(body !== undefined ? Buffer.concat([Buffer.from(head), Buffer.from(body)]) : head);
      }
    });
    let buf: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      sock.off('end', onEnd);
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(lines[0]!.split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const rest = buf.subarray(end + 4);
      settled = true;
      if (status === 101 || (req.upgrade && status < 300 && !headers['content-length'] && !headers['transfer-encoding'])) {
        // raw stream: the socket itself carries the data; re-emit what was read past the head
        sock.pause();
        if (rest.length) sock.unshift(rest);
        resolve({ status, headers, body: sock, socket: sock });
        return;
      }
      resolve({ status, headers, body: bodyStream(sock, headers, rest), socket: sock });
    };
    const onEnd = (): void => fail(new Error('unexpected EOF'));
    sock.on('data', onData);
    sock.on('end', onEnd);
  });
}

function bodyStream(sock: Socket, headers: Record<string, string>, first: Buffer): Readable {
  const out = new PassThrough();
  const chunked = /chunked/i.test(headers['transfer-encoding'] ?? '');
  const cl = headers['content-length'];
  if (!chunked) {
    let left = cl !== undefined ? Number(cl) : Infinity;
    const take = (c: Buffer): void => {
      if (left <= 0) return;
      const part = c.length > left ? c.subarray(0, left) : c;
      left -= part.length;
      if (part.length) out.write(part);
      if (left <= 0) { out.end(); sock.destroy(); }
    };
    if (left === 0) { out.end(); sock.destroy(); return out; }
    take(first);
    sock.on('data', take);
    sock.on('end', () => out.end());
    sock.on('error', (e) => out.destroy(e));
    out.on('close', () => sock.destroy());
    return out;
  }
  // chunked decoding
  let buf = first;
  let need = -1; // bytes of chunk data still expected (+2 for CRLF); -1 = reading a size line
  let done = false;
  const pump = (): void => {
    for (;;) {
      if (done) return;
      if (need < 0) {
        const i = buf.indexOf('\r\n');
        if (i < 0) return;
        const size = Number.parseInt(buf.subarray(0, i).toString('latin1'), 16);
        buf = buf.subarray(i + 2);
        if (size === 0) { done = true; out.end(); sock.destroy(); return; }
        need = size + 2;
      } else {
        if (buf.length === 0) return;
        const data = need > 2 ? buf.subarray(0, Math.min(buf.length, need - 2)) : Buffer.alloc(0);
        if (data.length) out.write(data);
        const consumed = Math.min(buf.length, need);
        need -= consumed;
        buf = buf.subarray(consumed);
        if (need === 0) need = -1;
      }
    }
  };
  pump();
  sock.on('data', (c: Buffer) => { buf = buf.length ? Buffer.concat([buf, c]) : c; pump(); });
  sock.on('end', () => { if (!done) out.end(); });
  sock.on('error', (e) => out.destroy(e));
  out.on('close', () => sock.destroy());
  return out;
}

export async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
