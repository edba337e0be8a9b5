/**
 * berth-registry's server: the OCI distribution API over filesystem storage in distribution's layout.
 * cmd/registry.ts composes it (flags → startRegistry, garbage-collect).
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { log } from '../../lib/index.ts';
import { allowAll, type Authorizer } from './auth.ts';
import { createHandler } from './http.ts';
import { Storage } from './storage.ts';

export { HtpasswdAuthorizer, parseHtpasswd, allowAll, type Authorizer, type Access, type AuthResult } from './auth.ts';
export { garbageCollect, type GcOptions, type GcResult } from './gc.ts';
export { RegistryError, type ErrorCode } from './errors.ts';
export { MediaTypes } from './manifest.ts';
export { Storage } from './storage.ts';
export { createHandler } from './http.ts';

export interface RegistryOptions {
  root: string;
  /** host:port; port 0 picks a free one. */
  addr: string;
  authorizer?: Authorizer;
  deleteEnabled?: boolean;
  tls?: { certFile: string; keyFile: string };
}

export interface RunningRegistry {
  server: Server;
  /** The address actually bound, e.g. 127.0.0.1:5000. */
  addr: string;
  close(): Promise<void>;
}

/** Split host:port ([v6]:port too). */
export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`invalid address ${addr}: want host:port`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port: Number(m[3]) };
}

export async function startRegistry(opts: RegistryOptions): Promise<RunningRegistry> {
  const handler = createHandler({ storage: new Storage(opts.root), authorizer: opts.authorizer ?? allowAll, deleteEnabled: opts.deleteEnabled ?? true });
  const server: Server = opts.tls
    ? createHttpsServer({ cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile) }, handler)
    : createHttpServer(handler);
  server.keepAliveTimeout = 60_000;
  const { host, port } = parseAddr(opts.addr);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const bound = `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  log().info({ addr: bound, root: opts.root, tls: !!opts.tls }, 'berth-registry listening');
  return {
    server,
    addr: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
