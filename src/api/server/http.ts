/** Request context and the small decoding/encoding helpers every route uses. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { EngineBackend } from '../../engine/index.ts';
import { InvalidArgumentError, goJsonError } from '../../lib/index.ts';
import { goJson } from './errors.ts';

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  query: URLSearchParams;
  /** The API version the client asked for (`/v1.xx`), or the current one. */
  version: string;
  backend: EngineBackend;
}

/** A hijacked connection (attach, exec start): raw bytes both ways once the handler wrote its status line. */
export interface HijackCtx extends Ctx {
  socket: Duplex;
  head: Buffer;
  /** The client asked for `Upgrade: tcp` (→ 101), else 200 on the same connection. */
  upgrade: boolean;
}

export type Handler = (ctx: Ctx) => Promise<void> | void;
export type HijackHandler = (ctx: HijackCtx) => Promise<void> | void;

/** Docker's httputils.BoolValue: anything but '', 0, no, false, none is true. */
export function boolValue(q: URLSearchParams, k: string): boolean {
  const v = q.get(k);
  if (v === null) return false;
  const s = v.trim().toLowerCase();
  return !(s === '' || s === '0' || s === 'no' || s === 'false' || s === 'none');
}

export function boolValueOr(q: URLSearchParams, k: string, def: boolean): boolean {
  const v = q.get(k);
  return v === null || v === '' ? def : boolValue(q, k);
}

/** Go's strconv.Atoi with its error text; undefined when the parameter is absent or empty. */
export function atoi(q: URLSearchParams, k: string): number | undefined {
  const v = q.get(k);
  if (v === null || v === '') return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw new InvalidArgumentError(`strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

/** Docker's Int64ValueOrZero. */
export function intOrZero(q: URLSearchParams, k: string): number {
  const v = q.get(k);
  return v !== null && /^[+-]?\d+$/.test(v) ? Number(v) : 0;
}

/** filters.FromJSON: `{"k":["v"]}` or the legacy `{"k":{"v":true}}`. */
export function parseFilters(raw: string | null): Record<string, string[]> {
  if (!raw) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new InvalidArgumentError(goJsonError(raw, false));
  }
  const out: Record<string, string[]> = {};
  if (v === null) return out;
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new InvalidArgumentError(`json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v === 'string' ? 'string' : typeof v} into Go value of type map[string]map[string]bool`);
  }
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (Array.isArray(val)) out[k] = val.map(String);
    else if (val && typeof val === 'object') out[k] = Object.keys(val).filter((x) => (val as Record<string, unknown>)[x]);
    else if (val === null) out[k] = [];
    else throw new InvalidArgumentError(`json: cannot unmarshal ${typeof val} into Go value of type map[string]bool`);
  }
  return out;
}

/** Docker's timestamp parameters (since/until): unix seconds with an optional fraction, or RFC 3339. 0 if absent. */
export function parseTime(v: string | null): number {
  if (!v) return 0;
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`invalid time value: ${v}`);
  return t / 1000;
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function isJsonType(ct: string): boolean {
  const base = ct.split(';', 1)[0]!.trim().toLowerCase();
  return base === 'application/json';
}

/** httputils.CheckForJSON + json.Decoder.Decode (Docker's error texts). An empty body is `EOF`. */
export async function readJson<T>(req: IncomingMessage, allowEmpty = false): Promise<T | undefined> {
  const ct = req.headers['content-type'] ?? '';
  const len = req.headers['content-length'];
  if (!(ct === '' && (len === undefined || len === '0')) && !isJsonType(ct)) {
    req.resume();
    throw new InvalidArgumentError(`Content-Type specified (${ct}) must be 'application/json'`);
  }
  const body = (await readBody(req)).toString('utf8');
  if (body.trim() === '') {
    if (allowEmpty) return undefined;
    throw new InvalidArgumentError('EOF');
  }
  try {
    return JSON.parse(body) as T;
  } catch {
    throw new InvalidArgumentError(goJsonError(body, true));
  }
}

export function sendJson(res: ServerResponse, status: number, v: unknown): void {
  const body = goJson(v);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendNoContent(res: ServerResponse, status = 204): void {
  res.writeHead(status);
  res.end();
}

/** Resolve when the response can take more data (backpressure). */
export function drained(res: NodeJS.WritableStream & { writableNeedDrain?: boolean; destroyed?: boolean }): Promise<void> {
  if (!res.writableNeedDrain || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** An AbortSignal that fires when the client goes away before the response finished. */
export function clientGone(ctx: Ctx): AbortSignal {
  const ac = new AbortController();
  ctx.res.on('close', () => { if (!ctx.res.writableFinished) ac.abort(); });
  return ac.signal;
}
