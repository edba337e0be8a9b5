/**
 * The HTTP API (OCI Distribution Spec v1.1 with Docker's extensions), on node:http without a framework: one route
 * table, one small function per endpoint (distribution's registry/handlers: blob.go, blobupload.go, manifests.go,
 * tags.go, catalog.go), storage underneath.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { log } from '../../lib/index.ts';
import { allowAll, type Access, type Authorizer } from './auth.ts';
import { RegistryError } from './errors.ts';
import { isListType, MediaTypes } from './manifest.ts';
import { checkDigest, checkName, isDigest, isTag } from './names.ts';
import type { Storage } from './storage.ts';

export interface HandlerOptions {
  storage: Storage;
  authorizer?: Authorizer;
  /** DELETE of blobs and manifests (distribution: storage.delete.enabled); UNSUPPORTED when false. */
  deleteEnabled?: boolean;
}

type Headers = Record<string, string | number>;
interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  name: string;
  ref: string;
  opts: HandlerOptions;
}
type Handler = (c: Ctx) => Promise<void>;

const JSON_TYPE = 'application/json; charset=utf-8';
const MAX_MANIFEST = 4 << 20;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function send(res: ServerResponse, status: number, headers: Headers, body?: string | Buffer): void {
  const h: Headers = { ...headers };
  if (body !== undefined && h['Content-Length'] === undefined) h['Content-Length'] = Buffer.byteLength(body);
  if (body === undefined && h['Content-Length'] === undefined) h['Content-Length'] = 0;
  res.writeHead(status, { 'Docker-Distribution-API-Version': 'registry/2.0', ...h });
  res.end(body);
}

function sendError(res: ServerResponse, e: RegistryError, headers: Headers = {}): void {
  send(res, e.status, { 'Content-Type': JSON_TYPE, ...headers }, e.body() + '\n');
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > limit) throw new RegistryError('MANIFEST_INVALID', `manifest too big (more than ${limit} bytes)`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

const hasBody = (req: IncomingMessage): boolean =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

function uploadHeaders(name: string, uuid: string, size: number): Headers {
  return {
    Location: `/v2/${name}/blobs/uploads/${uuid}`,
    Range: `0-${size > 0 ? size - 1 : 0}`,
    'Docker-Upload-UUID': uuid,
  };
}

function blobCreated(name: string, digest: string): Headers {
  return { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest };
}

/** n/last pagination with distribution's Link header (`</v2/…?last=x&n=2>; rel="next"`, keys sorted as Go encodes them). */
function paginate(all: string[], q: URLSearchParams, path: string): { page: string[]; headers: Headers } {
  const nRaw = q.get('n');
  let n: number | undefined;
  if (nRaw !== null && nRaw !== '') {
    if (!/^\d+$/.test(nRaw)) throw new RegistryError('PAGINATION_NUMBER_INVALID', { n: nRaw });
    n = Number(nRaw);
  }
  const last = q.get('last');
  const rest = last ? all.filter((x) => x > last) : all;
  const page = n === undefined ? rest : rest.slice(0, n);
  const headers: Headers = {};
  if (n !== undefined && n > 0 && rest.length > n) {
    headers.Link = `<${path}?last=${encodeURIComponent(page.at(-1)!)}&n=${n}>; rel="next"`;
  }
  return { page, headers };
}

// ---- blobs ----

async function getBlob(c: Ctx): Promise<void> {
  const digest = checkDigest(c.ref);
  const size = await c.opts.storage.blobSize(c.name, digest);
  if (size === undefined) throw new RegistryError('BLOB_UNKNOWN', digest);
  const headers: Headers = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    ETag: `"${digest}"`,
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'max-age=31536000',
  };
  let range: { start: number; end: number } | undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(c.req.headers.range ?? '');
  if (m && (m[1] || m[2])) {
    let start = m[1] ? Number(m[1]) : size - Number(m[2]);
    let end = m[1] && m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
    if (start < 0) start = 0;
    if (start >= size || start > end) {
      // as Go's http.ServeContent answers
      send(c.res, 416, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Range': `bytes */${size}` }, 'invalid range: failed to overlap\n');
      return;
    }
    range = { start, end };
    headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  }
  headers['Content-Length'] = range ? range.end - range.start + 1 : size;
  c.res.writeHead(range ? 206 : 200, { 'Docker-Distribution-API-Version': 'registry/2.0', ...headers });
  if (c.req.method === 'HEAD' || size === 0) {
    c.res.end();
    return;
  }
  const s = c.opts.storage.blobStream(digest, range);
  s.on('error', (e) => c.res.destroy(e));
  s.pipe(c.res);
}

async function deleteBlob(c: Ctx): Promise<void> {
  if (c.opts.deleteEnabled === false) throw new RegistryError('UNSUPPORTED');
  const digest = checkDigest(c.ref);
  await c.opts.storage.deleteBlob(c.name, digest);
  send(c.res, 202, { 'Docker-Content-Digest': digest });
}

// ---- uploads ----

async function startUpload(c: Ctx): Promise<void> {
  const st = c.opts.storage;
  const q = c.url.searchParams;
  const mount = q.get('mount');
  const from = q.get('from');
  if (mount && from && isDigest(mount)) {
    checkName(from);
    if ((await st.blobSize(from, mount)) !== undefined) {
      await st.linkBlob(c.name, mount);
      send(c.res, 201, blobCreated(c.name, mount));
      return;
    }
  }
  const digest = q.get('digest');
  if (digest !== null) {
    checkDigest(digest);
    const uuid = await st.startUpload(c.name);
    await st.commitUpload(c.name, uuid, digest, c.req);
    send(c.res, 201, blobCreated(c.name, digest));
    return;
  }
  const uuid = await st.startUpload(c.name);
  send(c.res, 202, uploadHeaders(c.name, uuid, 0));
}

function uploadId(c: Ctx): string {
  if (!UUID_RE.test(c.ref)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', c.ref);
  return c.ref;
}

async function uploadStatus(c: Ctx): Promise<void> {
  const uuid = uploadId(c);
  send(c.res, 204, uploadHeaders(c.name, uuid, await c.opts.storage.uploadSize(c.name, uuid)));
}

async function patchUpload(c: Ctx): Promise<void> {
  const uuid = uploadId(c);
  let start: number | undefined;
  let end: number | undefined;
  const cr = c.req.headers['content-range'];
  if (cr !== undefined) {
    const m = /^(?:bytes )?(\d+)-(\d+)(?:\/\*|\/\d+)?$/.exec(cr);
    if (!m || Number(m[1]) > Number(m[2])) throw new RegistryError('RANGE_INVALID', cr);
    start = Number(m[1]);
    end = Number(m[2]);
  }
  const size = await c.opts.storage.appendUpload(c.name, uuid, c.req, start);
  if (end !== undefined && size !== end + 1) log().warn({ uuid, cr, size }, 'PATCH body did not match its Content-Range');
  send(c.res, 202, uploadHeaders(c.name, uuid, size));
}

async function putUpload(c: Ctx): Promise<void> {
  const uuid = uploadId(c);
  const digest = c.url.searchParams.get('digest');
  if (!digest) throw new RegistryError('DIGEST_INVALID', 'digest missing');
  checkDigest(digest);
  await c.opts.storage.commitUpload(c.name, uuid, digest, hasBody(c.req) ? c.req : undefined);
  send(c.res, 201, blobCreated(c.name, digest));
}

async function deleteUpload(c: Ctx): Promise<void> {
  await c.opts.storage.cancelUpload(c.name, uploadId(c));
  send(c.res, 204, {});
}

// ---- manifests ----

/** The types a client accepts (distribution: every Accept header, comma-separated, parameters dropped). */
function accepted(req: IncomingMessage): Set<string> | undefined {
  const raw = req.headersDistinct.accept;
  if (!raw) return undefined;
  return new Set(raw.flatMap((h) => h.split(',')).map((t) => t.split(';')[0]!.trim().toLowerCase()).filter(Boolean));
}

async function getManifest(c: Ctx): Promise<void> {
  const st = c.opts.storage;
  if (c.ref.includes(':')) checkDigest(c.ref);
  else if (!isTag(c.ref)) throw new RegistryError('MANIFEST_UNKNOWN', { Tag: c.ref });
  let m = await st.getManifest(c.name, c.ref);
  const accept = accepted(c.req);
  // By tag, as distribution: an OCI type the client does not accept is unknown to it; a manifest list it does
  // not accept is replaced by its linux/amd64 entry.
  if (accept && !c.ref.includes(':') && !accept.has(m.mediaType) && !accept.has('*/*')) {
    if (m.mediaType === MediaTypes.dockerList) {
      const list = JSON.parse(m.bytes.toString('utf8')) as { manifests: { digest: string; platform?: { os?: string; architecture?: string } }[] };
      const pick = list.manifests.find((d) => d.platform?.os === 'linux' && d.platform.architecture === 'amd64');
      if (!pick) throw new RegistryError('MANIFEST_UNKNOWN', 'no linux/amd64 manifest in the manifest list');
      m = await st.getManifest(c.name, pick.digest);
    } else if (m.mediaType === MediaTypes.ociManifest || m.mediaType === MediaTypes.ociIndex) {
      throw new RegistryError('MANIFEST_UNKNOWN', `OCI ${isListType(m.mediaType) ? 'index' : 'manifest'} found, but accept header does not support OCI ${isListType(m.mediaType) ? 'indexes' : 'manifests'}`);
    }
  }
  const headers: Headers = { 'Content-Type': m.mediaType, 'Docker-Content-Digest': m.digest, ETag: `"${m.digest}"`, 'Content-Length': m.bytes.length };
  c.res.writeHead(200, { 'Docker-Distribution-API-Version': 'registry/2.0', ...headers });
  c.res.end(c.req.method === 'HEAD' ? undefined : m.bytes);
}

async function putManifest(c: Ctx): Promise<void> {
  if (c.ref.includes(':')) checkDigest(c.ref);
  else if (!isTag(c.ref)) throw new RegistryError('TAG_INVALID', c.ref);
  const body = await readBody(c.req, MAX_MANIFEST);
  const { digest, parsed } = await c.opts.storage.putManifest(c.name, c.ref, body, c.req.headers['content-type']);
  const headers: Headers = { Location: `/v2/${c.name}/manifests/${digest}`, 'Docker-Content-Digest': digest };
  if (parsed.subject) headers['OCI-Subject'] = parsed.subject.digest;
  send(c.res, 201, headers);
}

async function deleteManifest(c: Ctx): Promise<void> {
  if (c.opts.deleteEnabled === false) throw new RegistryError('UNSUPPORTED');
  if (c.ref.includes(':')) checkDigest(c.ref);
  else if (!isTag(c.ref)) throw new RegistryError('TAG_INVALID', c.ref);
  await c.opts.storage.deleteManifest(c.name, c.ref);
  send(c.res, 202, {});
}

async function referrers(c: Ctx): Promise<void> {
  const digest = checkDigest(c.ref);
  const artifactType = c.url.searchParams.get('artifactType') ?? undefined;
  const manifests = await c.opts.storage.referrers(c.name, digest, artifactType);
  const headers: Headers = { 'Content-Type': MediaTypes.ociIndex };
  if (artifactType !== undefined) headers['OCI-Filters-Applied'] = 'artifactType';
  send(c.res, 200, headers, JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests }));
}

// ---- listings ----

async function tagsList(c: Ctx): Promise<void> {
  const { page, headers } = paginate(await c.opts.storage.tags(c.name), c.url.searchParams, `/v2/${c.name}/tags/list`);
  send(c.res, 200, { 'Content-Type': JSON_TYPE, ...headers }, JSON.stringify({ name: c.name, tags: page }) + '\n');
}

async function catalog(c: Ctx): Promise<void> {
  const { page, headers } = paginate(await c.opts.storage.repositories(), c.url.searchParams, '/v2/_catalog');
  send(c.res, 200, { 'Content-Type': JSON_TYPE, ...headers }, JSON.stringify({ repositories: page }) + '\n');
}

async function base(c: Ctx): Promise<void> {
  send(c.res, 200, { 'Content-Type': JSON_TYPE }, '{}');
}

// ---- routing ----

interface Route {
  re: RegExp;
  methods: Partial<Record<string, Handler>>;
}

const ROUTES: Route[] = [
  { re: /^\/v2\/?$/, methods: { GET: base, HEAD: base } },
  { re: /^\/v2\/_catalog$/, methods: { GET: catalog } },
  { re: /^\/v2\/(.+)\/tags\/list$/, methods: { GET: tagsList } },
  { re: /^\/v2\/(.+)\/manifests\/([^/]+)$/, methods: { GET: getManifest, HEAD: getManifest, PUT: putManifest, DELETE: deleteManifest } },
  { re: /^\/v2\/(.+)\/blobs\/uploads\/?$/, methods: { POST: startUpload } },
  { re: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, methods: { GET: uploadStatus, PATCH: patchUpload, PUT: putUpload, DELETE: deleteUpload } },
  { re: /^\/v2\/(.+)\/blobs\/([^/]+)$/, methods: { GET: getBlob, HEAD: getBlob, DELETE: deleteBlob } },
  { re: /^\/v2\/(.+)\/referrers\/([^/]+)$/, methods: { GET: referrers } },
];

/** The access a request needs, in the token flow's terms (pull for reads, pull+push for writes, delete). */
function accessFor(method: string, name: string, catalogRoute: boolean): Access[] {
  if (catalogRoute) return [{ type: 'registry', name: 'catalog', actions: ['*'] }];
  if (!name) return [];
  const actions = method === 'GET' || method === 'HEAD' ? ['pull'] : method === 'DELETE' ? ['delete'] : ['pull', 'push'];
  return [{ type: 'repository', name, actions }];
}

export function createHandler(opts: HandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const authorizer = opts.authorizer ?? allowAll;
  return (req, res) => {
    void handle(req, res).catch((e: unknown) => {
      if (e instanceof RegistryError) {
        if (!res.headersSent) sendError(res, e);
        else res.destroy();
        if (!req.complete) req.resume();
        return;
      }
      const aborted = req.destroyed || (e as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' || (e as NodeJS.ErrnoException).code === 'ECONNRESET';
      if (aborted) log().debug({ method: req.method, url: req.url, err: e }, 'request aborted');
      else log().error({ method: req.method, url: req.url, err: e }, 'request failed');
      if (!res.headersSent && !res.destroyed) sendError(res, new RegistryError('UNKNOWN', (e as Error).message));
      else res.destroy();
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://registry');
    const path = url.pathname;
    const route = ROUTES.find((r) => r.re.test(path));
    if (!route) {
      send(res, 404, { 'Content-Type': 'text/plain; charset=utf-8' }, '404 page not found\n');
      return;
    }
    const m = route.re.exec(path)!;
    const name = m[1] ?? '';
    const access = accessFor(req.method ?? 'GET', name, route.methods.GET === catalog);
    const auth = await authorizer.authorize(req, access);
    if (!auth.ok) {
      req.resume();
      // distribution's detail: the access records asked for (null for /v2/)
      const detail = access.length ? access.flatMap((a) => a.actions.map((action) => ({ Type: a.type, Class: '', Name: a.name, Action: action }))) : null;
      sendError(res, new RegistryError(auth.code, detail), auth.challenge);
      return;
    }
    const fn = route.methods[req.method ?? ''];
    if (!fn) {
      req.resume();
      throw new RegistryError('UNSUPPORTED');
    }
    if (name) checkName(name);
    log().debug({ method: req.method, path, user: auth.user }, 'request');
    await fn({ req, res, url, name, ref: m[2] ?? '', opts });
  }
}
