/**
 * The userland proxy of published ports (what docker-proxy does): it holds hostIp:hostPort, so that the port counts
 * as taken on the host, and carries the traffic the DNAT rules cannot see (from the host itself, from 127.0.0.1)
 * to the container.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { ConflictError, errno, log } from '../lib/index.ts';

export interface ProxySpec {
  proto: 'tcp' | 'udp' | 'sctp';
  /** '' or 0.0.0.0: every address. */
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

export interface ProxyOptions {
  /** A UDP flow without traffic for this long is forgotten; docker-proxy's UDPConnTrackTimeout is 90 s. */
  udpIdleMs?: number;
}

export interface Proxy { close(): Promise<void> }

const UDP_IDLE_MS = 90_000;

const bindHost = (hostIp: string): string => hostIp || '0.0.0.0';
const udpType = (ip: string): dgram.SocketType => (net.isIPv6(ip) ? 'udp6' : 'udp4');

function bindError(spec: ProxySpec, e: unknown): Error {
  if (errno(e) === 'EADDRINUSE') {
    return new ConflictError(`Bind for ${bindHost(spec.hostIp)}:${spec.hostPort} failed: port is already allocated`, { cause: e });
  }
  return e instanceof Error ? e : new Error(String(e));
}

export async function startProxy(spec: ProxySpec, opts: ProxyOptions = {}): Promise<Proxy> {
  if (spec.proto === 'tcp') return startTcp(spec);
  if (spec.proto === 'udp') return startUdp(spec, opts.udpIdleMs ?? UDP_IDLE_MS);
  // Node has no SCTP sockets: the DNAT rules still publish the port, only the host's own connections miss out.
  log().warn({ port: spec.hostPort }, 'no userland proxy for SCTP ports');
  return { close: async () => {} };
}

function startTcp(spec: ProxySpec): Promise<Proxy> {
  const conns = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const upstream = net.connect({ host: spec.containerIp, port: spec.containerPort, allowHalfOpen: true, noDelay: true });
    conns.add(client);
    // pipe() ends the other side when one side ends: a half-close travels through and the reply still comes back.
    client.pipe(upstream);
    upstream.pipe(client);
    // A refused or reset container side closes the client's connection, as docker-proxy does.
    const drop = (): void => { client.destroy(); upstream.destroy(); };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', () => { conns.delete(client); upstream.destroy(); });
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(bindError(spec, e)));
    // ipv6Only: `::` must not take the IPv4 port too (0.0.0.0 has its own proxy), as docker-proxy binds them apart
    server.listen({ host: bindHost(spec.hostIp), port: spec.hostPort, ipv6Only: net.isIPv6(bindHost(spec.hostIp)) }, () => {
      server.on('error', (e) => log().warn({ err: e, port: spec.hostPort }, 'userland proxy: listener error'));
      resolve({
        close: () => new Promise<void>((r) => {
          for (const c of conns) c.destroy();
          server.close(() => r());
        }),
      });
    });
  });
}

function startUdp(spec: ProxySpec, idleMs: number): Promise<Proxy> {
  // No reuseAddr: a second bind of the same port must fail, that is how a taken port shows.
  const sock = dgram.createSocket({ type: udpType(bindHost(spec.hostIp)), ipv6Only: net.isIPv6(bindHost(spec.hostIp)) });
  /** client "address|port" → the socket that speaks to the container for that client. */
  const flows = new Map<string, { up: dgram.Socket; timer: NodeJS.Timeout }>();
  let closed = false;

  const flow = (address: string, port: number): { up: dgram.Socket; timer: NodeJS.Timeout } => {
    const key = `${address}|${port}`;
    let f = flows.get(key);
    if (f) return f;
    const up = dgram.createSocket(udpType(spec.containerIp));
    const forget = (): void => { flows.delete(key); up.close(); };
    f = { up, timer: setTimeout(forget, idleMs) };
    f.timer.unref();
    flows.set(key, f);
    const timer = f.timer;
    up.on('message', (m, from) => {
      // Unconnected (a send() during connect() throws in Node), so check who is talking.
      if (from.port !== spec.containerPort || from.address !== spec.containerIp || closed) return;
      timer.refresh();
      sock.send(m, port, address, () => {});
    });
    up.on('error', () => {});
    return f;
  };

  return new Promise((resolve, reject) => {
    sock.once('error', (e) => reject(bindError(spec, e)));
    sock.bind({ address: bindHost(spec.hostIp), port: spec.hostPort, exclusive: true }, () => {
      sock.removeAllListeners('error');
      sock.on('error', (e) => log().warn({ err: e, port: spec.hostPort }, 'userland proxy: UDP socket error'));
      sock.on('message', (m, from) => {
        const f = flow(from.address, from.port);
        f.timer.refresh();
        f.up.send(m, spec.containerPort, spec.containerIp, () => {});
      });
      resolve({
        close: () => new Promise<void>((r) => {
          closed = true;
          for (const { up, timer } of flows.values()) { clearTimeout(timer); up.close(); }
          flows.clear();
          sock.close(() => r());
        }),
      });
    });
  });
}

/** Whether hostIp:port can be bound for proto now (the ephemeral allocator skips ports something else holds). */
export async function portFree(proto: ProxySpec['proto'], hostIp: string, port: number): Promise<boolean> {
  if (proto === 'sctp') return true;
  const host = bindHost(hostIp);
  return new Promise((resolve) => {
    if (proto === 'tcp') {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen({ host, port, exclusive: true, ipv6Only: net.isIPv6(host) }, () => s.close(() => resolve(true)));
    } else {
      const s = dgram.createSocket({ type: udpType(host), ipv6Only: net.isIPv6(host) });
      s.once('error', () => { s.close(); resolve(false); });
      s.bind({ address: host, port, exclusive: true }, () => s.close(() => resolve(true)));
    }
  });
}
