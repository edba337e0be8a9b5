/**
 * docker load / docker save archives.
 * Reading: a tar (optionally gzip'd) that is a docker-archive (manifest.json) and/or an OCI image
 * layout (index.json). Blobs come before the metadata, so every file is spooled into the ingest dir
 * (hashed on the way, `blobs/sha256/<hex>` checked against its name) and the images are resolved
 * once the archive has ended.
 * Writing: Docker 25's layout, which is both at once (see shared/images/README.md).
 */
import { createReadStream, rmSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError } from '../lib/index.ts';
import { MediaType, type Descriptor, type Index, type Manifest } from '../oci/index.ts';
import { TarParser, type TarHandler, type TarHeader } from '../lib/index.ts';

/** Normalise an archive member name (used only as a key; never as a filesystem path). */
function memberName(name: string): string {
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return parts.join('/');
}
import type { ContentStore, IngestWriter } from './content-store.ts';
import { detectCompression } from './layer-unpack.ts';

export interface Spooled {
  path: string;
  digest: string;
  size: number;
  /** The ingest file holding the bytes (until committed or discarded). */
  file: string;
  /** The bytes, for small files. */
  data: Buffer | undefined;
}

/**
 * Told about each large file as it is spooled, so that a layer can be unpacked while the archive is still
 * arriving. `start` returns a sink for the file's growth, or undefined to leave it alone.
 */
export interface Follower {
  start(path: string, file: string, size: number): { grow(size: number): void; end(ok: boolean, size: number): void } | undefined;
}

/** What the archive says about one image. */
export interface ArchiveImage {
  config: Spooled;
  layers: Spooled[];
  /** Reference strings as written in the archive (`busybox:1.35`, `docker.io/library/nginx:bookworm`). */
  tags: string[];
}

/** Read the first chunk of a stream without consuming it. */
export function peek(input: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (b: Buffer) => { input.off('readable', onReadable); input.off('end', onEnd); input.off('error', onError); resolve(b); };
    const onReadable = () => {
      const chunk = input.read() as Buffer | null;
      if (chunk === null) return;
      input.unshift(chunk);
      done(chunk);
    };
    const onEnd = () => done(Buffer.alloc(0));
    const onError = (e: Error) => { input.off('readable', onReadable); input.off('end', onEnd); reject(e); };
    input.on('readable', onReadable);
    input.on('end', onEnd);
    input.on('error', onError);
  });
}

/** Undo gzip if the stream starts with its magic bytes. */
export async function maybeGunzip(input: Readable): Promise<Readable> {
  const head = await peek(input);
  if (detectCompression(head) === 'gzip') {
    const gz = createGunzip({ chunkSize: 1 << 20 });
    input.on('error', (e) => gz.destroy(e));
    return input.pipe(gz);
  }
  return input;
}

class Spooler implements TarHandler {
  readonly files = new Map<string, Spooled>();
  readonly links = new Map<string, string>();
  #content: ContentStore;
  #follower: Follower | undefined;
  #cur: { path: string; w: IngestWriter; sink: ReturnType<Follower['start']> } | undefined;

  constructor(content: ContentStore, follower?: Follower) {
    this.#content = content;
    this.#follower = follower;
  }

  entry(h: TarHeader): void {
    const path = memberName(h.name);
    if (h.type === 'file') {
      const w = this.#content.newIngest();
      this.#cur = { path, w, sink: this.#follower?.start(path, w.path, h.size) };
    } else if (h.type === 'symlink' || h.type === 'link') {
      // docker save (before 25) links duplicate layer.tar files to the first copy
      const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
      const target = memberName(h.type === 'link' || h.linkname.startsWith('/') ? h.linkname : (dir ? dir + '/' : '') + h.linkname);
      this.links.set(path, target);
    }
  }

  data(chunk: Buffer): void {
    const cur = this.#cur;
    if (!cur) return;
    cur.w.write(chunk);
    cur.sink?.grow(cur.w.size);
  }

  endEntry(): void {
    const cur = this.#cur;
    if (!cur) return;
    this.#cur = undefined;
    const { digest, data } = cur.w.close();
    const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(cur.path);
    const ok = !m || digest === 'sha256:' + m[1];
    cur.sink?.end(ok, cur.w.size);
    if (!ok) {
      cur.w.discard();
      throw new InvalidArgumentError(`invalid archive: ${cur.path} does not match its digest (got ${digest})`);
    }
    const old = this.files.get(cur.path);
    this.files.set(cur.path, { path: cur.path, digest, size: cur.w.size, file: cur.w.path, data });
    if (old) rmSync(old.file, { force: true }); // a repeated name: the last one wins
  }

  abort(): void {
    this.#cur?.sink?.end(false, this.#cur.w.size);
    this.#cur?.w.discard();
    this.#cur = undefined;
  }

  get(path: string): Spooled | undefined {
    let p = memberName(path);
    for (let i = 0; i < 16 && !this.files.has(p) && this.links.has(p); i++) p = this.links.get(p)!;
    return this.files.get(p);
  }
}

/** Spool an archive stream. The caller discards the ingest files it does not commit (see `files`). */
export async function spoolArchive(input: Readable, content: ContentStore, spooled: Spooled[], follower?: Follower): Promise<ArchiveImage[]> {
  const tar = await maybeGunzip(input);
  const sp = new Spooler(content, follower);
  const parser = new TarParser(sp);
  try {
    for await (const chunk of tar as AsyncIterable<Buffer>) parser.write(chunk);
    parser.finish();
  } catch (e) {
    sp.abort();
    throw e instanceof InvalidArgumentError ? e : wrapStreamError(e);
  } finally {
    spooled.push(...sp.files.values());
  }
  return resolveImages(sp);
}

function wrapStreamError(e: unknown): unknown {
  const code = (e as { code?: string }).code;
  if (typeof code === 'string' && code.startsWith('Z_')) return new InvalidArgumentError(`invalid archive: bad gzip data: ${(e as Error).message}`);
  return e;
}

function json<T>(sp: Spooler, path: string): T | undefined {
  const f = sp.get(path);
  if (!f) return undefined;
  if (!f.data) throw new InvalidArgumentError(`invalid archive: ${path} is too large`);
  try {
    return JSON.parse(f.data.toString('utf8')) as T;
  } catch {
    throw new InvalidArgumentError(`invalid archive: ${path} is not valid JSON`);
  }
}

function need(sp: Spooler, path: string, what: string): Spooled {
  const f = sp.get(path);
  if (!f) throw new InvalidArgumentError(`invalid archive: ${what} ${path} is missing`);
  return f;
}

function blobPath(d: Descriptor): string {
  if (typeof d.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d.digest)) throw new InvalidArgumentError(`invalid archive: bad digest ${JSON.stringify(d.digest)}`);
  return 'blobs/sha256/' + d.digest.slice(7);
}

function resolveImages(sp: Spooler): ArchiveImage[] {
  const manifest = json<{ Config: string; RepoTags?: string[] | null; Layers: string[] }[]>(sp, 'manifest.json');
  if (manifest) {
    if (!Array.isArray(manifest)) throw new InvalidArgumentError('invalid archive: manifest.json is not a list');
    return manifest.map((m) => {
      if (typeof m?.Config !== 'string' || !Array.isArray(m.Layers)) throw new InvalidArgumentError('invalid archive: bad manifest.json entry');
      return {
        config: need(sp, m.Config, 'config'),
        layers: m.Layers.map((l) => need(sp, l, 'layer')),
        tags: Array.isArray(m.RepoTags) ? m.RepoTags : [],
      };
    });
  }
  const index = json<Index>(sp, 'index.json');
  if (!index) throw new InvalidArgumentError('invalid archive: neither manifest.json nor index.json found (not a docker save or OCI archive)');
  const byConfig = new Map<string, ArchiveImage>();
  const visit = (d: Descriptor, depth: number, tag: string | undefined): void => {
    if (depth > 4) return;
    if (d.platform && (d.platform.os !== 'linux' || d.platform.architecture !== 'amd64')) return;
    const ann = d.annotations ?? {};
    const name = ann['io.containerd.image.name'] ?? (ann['org.opencontainers.image.ref.name']?.match(/[:/]/) ? ann['org.opencontainers.image.ref.name'] : undefined) ?? tag;
    const mt = d.mediaType;
    if (mt === MediaType.OciIndex || mt === MediaType.DockerManifestList) {
      const sub = json<Index>(sp, blobPath(d));
      if (!sub) throw new InvalidArgumentError(`invalid archive: index ${d.digest} is missing`);
      for (const m of sub.manifests ?? []) visit(m, depth + 1, name);
      return;
    }
    const man = json<Manifest>(sp, blobPath(d));
    if (!man) throw new InvalidArgumentError(`invalid archive: manifest ${d.digest} is missing`);
    if (!man.config || !Array.isArray(man.layers)) throw new InvalidArgumentError(`invalid archive: bad manifest ${d.digest}`);
    const key = man.config.digest;
    let img = byConfig.get(key);
    if (!img) {
      img = { config: need(sp, blobPath(man.config), 'config'), layers: man.layers.map((l) => need(sp, blobPath(l), 'layer')), tags: [] };
      byConfig.set(key, img);
    }
    if (name && !img.tags.includes(name)) img.tags.push(name);
  };
  for (const d of index.manifests ?? []) visit(d, 0, undefined);
  return [...byConfig.values()];
}

// ---- writing -------------------------------------------------------------------------------------

function header(name: string, size: number, dir: boolean): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100, 'utf8');
  b.write((dir ? 0o755 : 0o644).toString(8).padStart(7, '0') + '\0', 100, 'ascii');
  b.write('0000000\0', 108, 'ascii');
  b.write('0000000\0', 116, 'ascii');
  b.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  b.write('00000000000\0', 136, 'ascii');
  b.write('        ', 148, 'ascii');
  b[156] = dir ? 0x35 : 0x30;
  b.write('ustar\0' + '00', 257, 'latin1');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return b;
}

export type SaveEntry = { name: string; dir: true } | { name: string; data: Buffer } | { name: string; file: string; size: number };

/** Write a plain ustar archive of the given entries (in the given order), then end `out`. */
export async function writeTar(entries: SaveEntry[], out: Writable): Promise<void> {
  async function* gen(): AsyncGenerator<Buffer> {
    for (const e of entries) {
      if ('dir' in e) { yield header(e.name, 0, true); continue; }
      const size = 'data' in e ? e.data.length : e.size;
      yield header(e.name, size, false);
      if ('data' in e) yield e.data;
      else {
        let n = 0;
        for await (const chunk of createReadStream(e.file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
          n += chunk.length;
          yield chunk;
        }
        if (n !== size) throw new InvalidArgumentError(`blob ${e.name} changed while saving`);
      }
      const pad = (512 - (size % 512)) % 512;
      if (pad) yield Buffer.alloc(pad);
    }
    yield Buffer.alloc(1024);
  }
  await pipeline(gen, out);
}
