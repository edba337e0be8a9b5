/**
 * Access control. The HTTP layer asks an Authorizer whether a request may do what it asks (the scopes Docker's token
 * flow names: `repository:<name>:pull,push`, `registry:catalog:*`). htpasswd basic auth is the first one; a bearer token
 * authorizer (a later slice) fits the same interface: it answers with a `WWW-Authenticate: Bearer realm=…,service=…,scope=…`
 * challenge instead.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import bcrypt from 'bcryptjs';

export interface Access {
  type: 'repository' | 'registry';
  name: string;
  actions: string[];
}

export type AuthResult =
  | { ok: true; user?: string }
  | { ok: false; challenge: Record<string, string>; code: 'UNAUTHORIZED' | 'DENIED' };

export interface Authorizer {
  authorize(req: IncomingMessage, access: Access[]): Promise<AuthResult>;
}

/** No authentication: everything is allowed. */
export const allowAll: Authorizer = { authorize: async () => ({ ok: true }) };

/** Parse an htpasswd file: `user:$2y$…` lines (bcrypt only, as distribution). */
export function parseHtpasswd(text: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const i = t.indexOf(':');
    if (i > 0) users.set(t.slice(0, i), t.slice(i + 1));
  }
  return users;
}

/**
 * htpasswd basic auth: any listed user may do anything. bcrypt is slow by design (~50 ms a check), so a checked
 * user:password pair is remembered (by its sha256) as long as the user's hash is unchanged.
 */
export class HtpasswdAuthorizer implements Authorizer {
  readonly #users: Map<string, string>;
  readonly #realm: string;
  readonly #verified = new Map<string, string>();

  constructor(users: Map<string, string>, realm = 'berth-registry') {
    this.#users = users;
    this.#realm = realm;
  }

  static fromFile(path: string, realm?: string): HtpasswdAuthorizer {
    return new HtpasswdAuthorizer(parseHtpasswd(readFileSync(path, 'utf8')), realm);
  }

  async authorize(req: IncomingMessage): Promise<AuthResult> {
    const fail: AuthResult = { ok: false, code: 'UNAUTHORIZED', challenge: { 'WWW-Authenticate': `Basic realm="${this.#realm}"` } };
    const h = req.headers.authorization;
    if (!h || !/^basic /i.test(h)) return fail;
    const decoded = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) return fail;
    const user = decoded.slice(0, i);
    const hash = this.#users.get(user);
    if (!hash) return fail;
    const key = createHash('sha256').update(decoded).digest('hex');
    if (this.#verified.get(key) === hash) return { ok: true, user };
    // htpasswd -B writes $2y$, which is bcrypt's $2b$ under another name
    if (!(await bcrypt.compare(decoded.slice(i + 1), hash.replace(/^\$2y\$/, '$2b$')))) return fail;
    this.#verified.set(key, hash);
    return { ok: true, user };
  }
}
