/**
 * Docker Engine API client: one method per endpoint the CLI uses. Responses are typed
 * loosely (see types.ts); errors from the daemon become ApiError with the daemon's message.
 */
import type { Readable } from 'node:stream';
import { parseHost, rawRequest, readAll, type Endpoint, type RawResponse } from './http.ts';
import type {
  ContainerSummary, ImageSummary, ContainerInspect, ImageInspect, HistoryItem, VersionInfo, CreateResponse, WaitResponse, ExecInspectResponse, ExecCreateBody,
} from './types.ts';

export const DEFAULT_API_VERSION = '1.41';

/** An error answer from the daemon: status code and its `message`. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export type Query = Record<string, string | number | boolean | string[] | undefined | null>;

export interface ClientOptions {
  host: string;
  /** API version to put in the path; undefined = DEFAULT_API_VERSION */
  version?: string | undefined;
}

function qs(q: Query | undefined): string {
  if (!q) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) { for (const x of v) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(x)}`); continue; }
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'boolean' ? (v ? '1' : '0') : String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** Docker's filters encoding: {"name":{"web":true}}. */
export function encodeFilters(filters: string[]): string | undefined {
  if (!filters.length) return undefined;
  const out: Record<string, Record<string, boolean>> = {};
  for (const f of filters) {
    const i = f.indexOf('=');
    if (i < 0) throw new Error(`bad format of filter (expected name=value)`);
    const k = f.slice(0, i).trim().toLowerCase();
    (out[k] ??= {})[f.slice(i + 1)] = true;
  }
  return JSON.stringify(out);
}

export class Client {
  readonly endpoint: Endpoint;
  version: string;
  /** true when the version was not pinned (DOCKER_API_VERSION): an older daemon's version is adopted */
  readonly negotiate: boolean;
  constructor(opts: ClientOptions) {
    this.endpoint = parseHost(opts.host);
    this.version = opts.version ?? DEFAULT_API_VERSION;
    this.negotiate = opts.version === undefined;
  }

  /** Sends a request; throws ApiError for a status >= 400. */
  async request(method: string, path: string, opts: { query?: Query; body?: unknown; stream?: Readable; headers?: Record<string, string>; upgrade?: boolean; raw?: boolean } = {}): Promise<RawResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    let body: Buffer | string | Readable | undefined;
    if (opts.stream) body = opts.stream;
    else if (opts.body !== undefined) { body = JSON.stringify(opts.body); headers['Content-Type'] = 'application/json'; }
    const prefix = opts.raw ? '' : `/v${this.version}`;
    const res = await rawRequest(this.endpoint, { method, path: prefix + path + qs(opts.query), headers, ...(body !== undefined ? { body } : {}), ...(opts.upgrade ? { upgrade: true } : {}) });
    if (res.status >= 400) {
      const text = (await readAll(res.body)).toString();
      let msg = text.trim();
      try { const j = JSON.parse(text) as { message?: string }; if (typeof j.message === 'string') msg = j.message.trim(); } catch { /* plain text */ }
      if (!msg) msg = `${res.status}`;
      // an older daemon: speak its version, as the docker CLI's negotiation would (one retry)
      const older = /is too new\. Maximum supported API version is (\d+\.\d+)/.exec(msg);
      if (older && this.negotiate && !opts.stream && !opts.raw && older[1] !== this.version) {
        this.version = older[1]!;
        return this.request(method, path, opts);
      }
      throw new ApiError(res.status, msg);
    }
    return res;
  }

  async json<T>(method: string, path: string, opts: Parameters<Client['request']>[2] = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    const b = await readAll(res.body);
    return (b.length ? JSON.parse(b.toString()) : undefined) as T;
  }

  async ok(method: string, path: string, opts: Parameters<Client['request']>[2] = {}): Promise<void> {
    const res = await this.request(method, path, opts);
    await readAll(res.body);
  }

  ping(): Promise<RawResponse> { return this.request('GET', '/_ping', { raw: true }); }
  version_(): Promise<VersionInfo> { return this.json('GET', '/version'); }
  info(): Promise<Record<string, unknown>> { return this.json('GET', '/info'); }
  df(): Promise<Record<string, unknown>> { return this.json('GET', '/system/df'); }

  // containers
  containerList(q: Query): Promise<ContainerSummary[]> { return this.json('GET', '/containers/json', { query: q }); }
  containerInspect(id: string, size = false): Promise<ContainerInspect> {
    return this.json('GET', `/containers/${encodeURIComponent(id)}/json`, { query: { size: size || undefined } });
  }
  containerCreate(body: unknown, name?: string, platform?: string): Promise<CreateResponse> {
    return this.json('POST', '/containers/create', { query: { name, platform }, body });
  }
  containerStart(id: string): Promise<void> { return this.ok('POST', `/containers/${encodeURIComponent(id)}/start`); }
  containerStop(id: string, t?: number, signal?: string): Promise<void> {
    return this.ok('POST', `/containers/${encodeURIComponent(id)}/stop`, { query: { t, signal } });
  }
  containerRestart(id: string, t?: number, signal?: string): Promise<void> {
    return this.ok('POST', `/containers/${encodeURIComponent(id)}/restart`, { query: { t, signal } });
  }
  containerKill(id: string, signal?: string): Promise<void> { return this.ok('POST', `/containers/${encodeURIComponent(id)}/kill`, { query: { signal } }); }
  containerRemove(id: string, q: Query): Promise<void> { return this.ok('DELETE', `/containers/${encodeURIComponent(id)}`, { query: q }); }
  containerRename(id: string, name: string): Promise<void> { return this.ok('POST', `/containers/${encodeURIComponent(id)}/rename`, { query: { name } }); }
  containerPause(id: string): Promise<void> { return this.ok('POST', `/containers/${encodeURIComponent(id)}/pause`); }
  containerUnpause(id: string): Promise<void> { return this.ok('POST', `/containers/${encodeURIComponent(id)}/unpause`); }
  containerTop(id: string, psArgs?: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    return this.json('GET', `/containers/${encodeURIComponent(id)}/top`, { query: { ps_args: psArgs } });
  }
  /** Opens the wait; resolves when the response head is in (so the wait is registered), the body gives the result. */
  async containerWait(id: string, condition?: string): Promise<() => Promise<WaitResponse>> {
    const res = await this.request('POST', `/containers/${encodeURIComponent(id)}/wait`, { query: { condition } });
    return async () => JSON.parse((await readAll(res.body)).toString()) as WaitResponse;
  }
  containerResize(id: string, h: number, w: number): Promise<void> { return this.ok('POST', `/containers/${encodeURIComponent(id)}/resize`, { query: { h, w } }); }
  containerLogs(id: string, q: Query): Promise<RawResponse> { return this.request('GET', `/containers/${encodeURIComponent(id)}/logs`, { query: q }); }
  containerAttach(id: string, q: Query): Promise<RawResponse> {
    return this.request('POST', `/containers/${encodeURIComponent(id)}/attach`, { query: q, upgrade: true, headers: { 'Content-Type': 'text/plain' } });
  }
  commit(q: Query): Promise<{ Id: string }> { return this.json('POST', '/commit', { query: q }); }
  execCreate(id: string, body: ExecCreateBody): Promise<{ Id: string }> { return this.json('POST', `/containers/${encodeURIComponent(id)}/exec`, { body }); }
  /** Detached: an ordinary request. Else the hijacked stream (101 UPGRADED). */
  execStart(id: string, body: { Detach: boolean; Tty: boolean; ConsoleSize?: [number, number] }): Promise<RawResponse> {
    return body.Detach
      ? this.request('POST', `/exec/${encodeURIComponent(id)}/start`, { body })
      : this.request('POST', `/exec/${encodeURIComponent(id)}/start`, { body, upgrade: true });
  }
  execInspect(id: string): Promise<ExecInspectResponse> { return this.json('GET', `/exec/${encodeURIComponent(id)}/json`); }
  execResize(id: string, h: number, w: number): Promise<void> { return this.ok('POST', `/exec/${encodeURIComponent(id)}/resize`, { query: { h, w } }); }
  containerExport(id: string): Promise<RawResponse> { return this.request('GET', `/containers/${encodeURIComponent(id)}/export`); }
  containerPrune(filters?: string): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
    return this.json('POST', '/containers/prune', { query: { filters } });
  }

  // images
  imageList(q: Query): Promise<ImageSummary[]> { return this.json('GET', '/images/json', { query: q }); }
  imageInspect(name: string): Promise<ImageInspect> { return this.json('GET', `/images/${name}/json`); }
  imageHistory(name: string): Promise<HistoryItem[]> { return this.json('GET', `/images/${name}/history`); }
  imageTag(name: string, repo: string, tag?: string): Promise<void> { return this.ok('POST', `/images/${name}/tag`, { query: { repo, tag } }); }
  imageRemove(name: string, q: Query): Promise<Array<{ Untagged?: string; Deleted?: string }>> { return this.json('DELETE', `/images/${name}`, { query: q }); }
  imageLoad(body: Readable, quiet: boolean): Promise<RawResponse> {
    return this.request('POST', '/images/load', { query: { quiet }, stream: body, headers: { 'Content-Type': 'application/x-tar' } });
  }
  imageSave(names: string[]): Promise<RawResponse> {
    return this.request('GET', `/images/get?${names.map((n) => `names=${encodeURIComponent(n)}`).join('&')}`);
  }
  imageImport(body: Readable, q: Query, changes: string[]): Promise<RawResponse> {
    const extra = changes.map((c) => `&changes=${encodeURIComponent(c)}`).join('');
    const base = qs({ ...q, fromSrc: '-' });
    return this.request('POST', `/images/create${base}${extra}`, { stream: body, headers: { 'Content-Type': 'application/x-tar' } });
  }
  imagePrune(filters?: string): Promise<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }> | null; SpaceReclaimed: number }> {
    return this.json('POST', '/images/prune', { query: { filters } });
  }
}
