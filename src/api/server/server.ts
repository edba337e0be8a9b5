/**
 * node:http server for the Engine API: listens on unix sockets and tcp, strips and checks the `/v1.xx`
 * prefix, sets Docker's common headers, dispatches to the router, maps errors, and hands `Upgrade: tcp`
 * requests (attach) to hijack handlers.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { chmod, chown, lstat, unlink } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import type { EngineBackend } from '../../engine/index.ts';
import { InvalidArgumentError, SystemError, errno, log } from '../../lib/index.ts';
import { sendError, httpStatus, errorMessage } from './errors.ts';
import type { Ctx, HijackCtx } from './http.ts';
import { Router } from './router.ts';
import { API_VERSION, MIN_API_VERSION, compareVersions as cmpVersion } from './version.ts';
import { registerSystemRoutes } from './routes/system.ts';
import { registerContainerRoutes } from './routes/containers.ts';
import { registerImageRoutes } from './routes/images.ts';
import { registerVolumeRoutes } from './routes/volumes.ts';
import { registerNetworkRoutes } from './routes/networks.ts';
import { registerExecRoutes } from './routes/exec.ts';
import { registerCommitRoutes } from './routes/commit.ts';
import { registerBuildRoutes } from './routes/build.ts';

// Not `import … from 'node:http'`: an ES import of it also evaluates its lazy WebSocket exports, loading
// undici (~50–100 ms of daemon start-up); the CommonJS view is the same module without them.
const http = process.getBuiltinModule('node:http');

export interface ApiServerOptions {
  /** berth's version, for the `Server: berth/<version> (linux)` header. */
  version?: string;
  experimental?: boolean;
  /** Log every request (method, path, status) at debug level. */
  debug?: boolean;
  /** Group owning unix sockets (dockerd's `--group`); default: keep the process's group. */
  socketGroup?: number;
}

export interface ApiServer {
  /** `unix:///path` or `tcp://host:port` (`fd://` is not supported). Resolves once listening. */
  listen(host: string): Promise<void>;
  /** Stop accepting, end every connection (hijacked ones too), remove the unix socket files. */
  close(): Promise<void>;
  /** Addresses listened on (tcp with the real port when 0 was asked). */
  addresses(): string[];
}

export function createApiServer(backend: EngineBackend, opts: ApiServerOptions = {}): ApiServer {
  const serverHeader = `berth/${opts.version ?? '0.1.0'} (linux)`;
  const experimental = opts.experimental ? 'true' : 'false';
  const router = new Router();
  registerSystemRoutes(router);
  registerContainerRoutes(router);
  registerImageRoutes(router);
  registerVolumeRoutes(router);
  registerNetworkRoutes(router);
  registerExecRoutes(router);
  registerCommitRoutes(router);
  registerBuildRoutes(router);

  const servers: { server: Server; address: string; path?: string }[] = [];
  const hijacked = new Set<Duplex>();

  /** Split `/v1.41/x` → version + `/x`; undefined version when unprefixed. */
  function parse(url: string): { path: string; query: URLSearchParams; asked: string | undefined } {
    const q = url.indexOf('?');
    let path = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    if (path.includes('%')) {
      try { path = decodeURIComponent(path); } catch { /* keep raw */ }
    }
    let asked: string | undefined;
    if (path.startsWith('/v')) {
      const m = /^\/v([0-9]+(?:\.[0-9]+)*)(\/.*)$/.exec(path);
      if (m) { asked = m[1]!; path = m[2]!; }
    }
    return { path, query, asked };
  }

  function commonHeaders(res: ServerResponse, withExperimental: boolean): void {
    res.setHeader('Api-Version', API_VERSION);
    if (withExperimental) res.setHeader('Docker-Experimental', experimental);
    res.setHeader('Ostype', 'linux');
    res.setHeader('Server', serverHeader);
  }

  /** Docker's version middleware. Returns false when it answered. */
  function checkVersion(res: ServerResponse, asked: string | undefined): boolean {
    if (asked === undefined) return true;
    if (cmpVersion(asked, API_VERSION) > 0) {
      commonHeaders(res, false);
      sendError(res, new InvalidArgumentError(`client version ${asked} is too new. Maximum supported API version is ${API_VERSION}`));
      return false;
    }
    if (cmpVersion(asked, MIN_API_VERSION) < 0) {
      commonHeaders(res, false);
      const body = `client version ${asked} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version\n`;
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return false;
    }
    return true;
  }

  function notFound(res: ServerResponse): void {
    const body = '{"message":"page not found"}\n';
    res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Length': body.length });
    res.end(body);
  }

  function onRequest(req: IncomingMessage, res: ServerResponse, hijack?: { socket: Duplex; head: Buffer }): void {
    const { path, query, asked } = parse(req.url ?? '/');
    const method = req.method ?? 'GET';
    if (opts.debug) res.once('finish', () => log().debug({ method, url: req.url, status: res.statusCode }, 'API request'));
    const m = router.match(method, path);
    if (!m) {
      req.resume();
      notFound(res);
      return;
    }
    if (!checkVersion(res, asked)) {
      req.resume();
      return;
    }
    const version = asked ?? API_VERSION;
    if (m.route.hijack) {
      const socket = hijack?.socket ?? req.socket;
      if (!hijack) {
        hijacked.add(socket);
        socket.once('close', () => hijacked.delete(socket));
      }
      const hctx: HijackCtx = { req, res, params: m.params, query, version, backend, socket, head: hijack?.head ?? Buffer.alloc(0), upgrade: hijack !== undefined };
      Promise.resolve()
        .then(() => m.route.hijack!(hctx))
        .catch((err: unknown) => {
          log().error({ err, url: req.url }, 'hijacked request failed');
          socket.destroy();
        });
      return;
    }
    commonHeaders(res, true);
    const ctx: Ctx = { req, res, params: m.params, query, version, backend };
    let p: Promise<void> | void;
    try {
      p = m.route.handler!(ctx);
    } catch (err) {
      fail(ctx, err);
      return;
    }
    if (p) p.catch((err: unknown) => fail(ctx, err));
  }

  function fail(ctx: Ctx, err: unknown): void {
    if (httpStatus(err) >= 500) log().error({ err, url: ctx.req.url }, 'request failed');
    else log().debug({ err: errorMessage(err), url: ctx.req.url }, 'request error');
    ctx.req.resume();
    sendError(ctx.res, err);
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A route without a hijack handler answers as usual, on a response bound to the socket.
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.on('finish', () => socket.end());
    socket.on('error', () => socket.destroy());
    // Upgraded sockets are no longer the http server's: close() ends them itself.
    hijacked.add(socket);
    socket.once('close', () => hijacked.delete(socket));
    onRequest(req, res, { socket, head });
  }

  function makeServer(): Server {
    const server = http.createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000, requireHostHeader: false }, (req, res) => onRequest(req, res));
    server.on('upgrade', onUpgrade);
    server.on('clientError', (err, socket) => {
      if (socket.writable && errno(err) !== 'ECONNRESET') socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      else socket.destroy();
    });
    return server;
  }

  async function removeStaleSocket(path: string): Promise<void> {
    let st;
    try { st = await lstat(path); } catch (e) { if (errno(e) === 'ENOENT') return; throw e; }
    if (!st.isSocket()) throw new SystemError(`cannot listen on ${path}: file exists and is not a socket`);
    const alive = await new Promise<boolean>((resolve) => {
      const c = connect(path);
      c.once('connect', () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (alive) throw new SystemError(`cannot listen on ${path}: a daemon is already serving it`);
    await unlink(path);
  }

  return {
    async listen(host: string): Promise<void> {
      const server = makeServer();
      if (host.startsWith('unix://')) {
        const path = host.slice('unix://'.length);
        await removeStaleSocket(path);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(path, () => { server.off('error', reject); resolve(); });
        });
        await chmod(path, 0o660);
        if (opts.socketGroup !== undefined) await chown(path, process.getuid?.() ?? 0, opts.socketGroup);
        servers.push({ server, address: host, path });
        return;
      }
      const m = /^tcp:\/\/(\[[^\]]*\]|[^:/]*)(?::(\d+))?\/?$/.exec(host);
      if (!m) throw new InvalidArgumentError(`invalid host: ${host}`);
      const hostname = (m[1] || '127.0.0.1').replace(/^\[|\]$/g, '');
      const port = m[2] === undefined ? 2375 : Number(m[2]);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, hostname, () => { server.off('error', reject); resolve(); });
      });
      const a = server.address();
      const real = a && typeof a === 'object' ? a.port : port;
      servers.push({ server, address: `tcp://${hostname.includes(':') ? `[${hostname}]` : hostname}:${real}` });
    },

    async close(): Promise<void> {
      for (const s of hijacked) s.destroy();
      await Promise.all(servers.map(async ({ server, path }) => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        if (path) await unlink(path).catch(() => {});
      }));
      servers.length = 0;
    },

    addresses(): string[] {
      return servers.map((s) => s.address);
    },
  };
}
