/**
 * Filesystem storage in distribution's layout (registry/storage/paths.go), so its tools and our garbage collector
 * can read it:
 *   <root>/docker/registry/v2/blobs/sha256/<2hex>/<hex>/data                       content, shared by all repositories
 *   <root>/docker/registry/v2/repositories/<name>/_layers/sha256/<hex>/link         blob linked into a repository
 *   …/<name>/_manifests/revisions/sha256/<hex>/link                                 manifest in a repository
 *   …/<name>/_manifests/tags/<tag>/current/link, …/tags/<tag>/index/sha256/<hex>/link
 *   …/<name>/_uploads/<uuid>/data, startedat                                        uploads in progress
 * A blob is renamed into blobs/ only after its digest was checked; links are written atomically after the content.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readFile, readdir, rename, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { atomicWriteFile, ensureDir, errno, KeyedMutex, removeAll } from '../../lib/index.ts';
import { RegistryError } from './errors.ts';
import { mediaTypeOf, parseManifest, type Desc, type ParsedManifest } from './manifest.ts';

const hexOf = (digest: string): string => digest.slice('sha256:'.length);
const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function readLink(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** A directory's entries; none when it (or a parent) does not exist. */
export async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return [];
    throw e;
  }
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

interface UploadState {
  hash: Hash;
  size: number;
}

export interface StoredManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

/** What the referrers API lists about a manifest (cached: a manifest's bytes never change). */
interface ManifestSummary {
  mediaType: string;
  size: number;
  subject?: string;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export class Storage {
  readonly v2: string;
  readonly #uploads = new Map<string, UploadState>();
  readonly #uploadLock = new KeyedMutex();
  readonly #summaries = new Map<string, ManifestSummary | null>();

  constructor(root: string) {
    this.v2 = join(root, 'docker', 'registry', 'v2');
  }

  blobDir(digest: string): string {
    const hex = hexOf(digest);
    return join(this.v2, 'blobs', 'sha256', hex.slice(0, 2), hex);
  }
  blobData(digest: string): string {
    return join(this.blobDir(digest), 'data');
  }
  repoDir(name: string): string {
    return join(this.v2, 'repositories', name);
  }
  #layerLink(name: string, digest: string): string {
    return join(this.repoDir(name), '_layers', 'sha256', hexOf(digest), 'link');
  }
  #revisionLink(name: string, digest: string): string {
    return join(this.repoDir(name), '_manifests', 'revisions', 'sha256', hexOf(digest), 'link');
  }
  #tagDir(name: string, tag: string): string {
    return join(this.repoDir(name), '_manifests', 'tags', tag);
  }
  #uploadDir(name: string, uuid: string): string {
    return join(this.repoDir(name), '_uploads', uuid);
  }

  async #link(path: string, digest: string): Promise<void> {
    if ((await readLink(path)) === digest) return;
    await ensureDir(join(path, '..'));
    await atomicWriteFile(path, digest);
  }

  // ---- blobs ----

  /** The size of a blob stored anywhere in the registry, or undefined. */
  globalBlobSize(digest: string): Promise<number | undefined> {
    return fileSize(this.blobData(digest));
  }

  /** The size of a blob linked into repository `name` (as a layer/config or as a manifest), or undefined. */
  async blobSize(name: string, digest: string): Promise<number | undefined> {
    const linked = (await readLink(this.#layerLink(name, digest))) === digest || (await readLink(this.#revisionLink(name, digest))) === digest;
    return linked ? this.globalBlobSize(digest) : undefined;
  }

  blobStream(digest: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.blobData(digest), range ?? {});
  }

  /** Link a blob that exists in the registry into repository `name` (cross-repository mount, commit). */
  async linkBlob(name: string, digest: string): Promise<void> {
    await this.#link(this.#layerLink(name, digest), digest);
  }

  /** Remove a blob from a repository (its content stays until garbage collection). */
  async deleteBlob(name: string, digest: string): Promise<void> {
    if ((await readLink(this.#layerLink(name, digest))) !== digest) throw new RegistryError('BLOB_UNKNOWN', digest);
    await removeAll(join(this.#layerLink(name, digest), '..'));
  }

  // ---- uploads ----

  async startUpload(name: string): Promise<string> {
    const uuid = randomUUID();
    const dir = this.#uploadDir(name, uuid);
    await ensureDir(dir);
    await writeFile(join(dir, 'startedat'), new Date().toISOString());
    await writeFile(join(dir, 'data'), '');
    this.#uploads.set(`${name}/${uuid}`, { hash: createHash('sha256'), size: 0 });
    return uuid;
  }

  /** The hash state of an upload; rebuilt from the data file when this process does not hold it (a restart). */
  async #state(name: string, uuid: string): Promise<UploadState> {
    const key = `${name}/${uuid}`;
    const size = await fileSize(join(this.#uploadDir(name, uuid), 'data'));
    if (size === undefined) {
      this.#uploads.delete(key); // cancelled or swept by garbage-collect
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', uuid);
    }
    let st = this.#uploads.get(key);
    if (st?.size !== size) {
      const hash = createHash('sha256');
      for await (const c of createReadStream(join(this.#uploadDir(name, uuid), 'data'))) hash.update(c as Buffer);
      st = { hash, size };
      this.#uploads.set(key, st);
    }
    return st;
  }

  uploadSize(name: string, uuid: string): Promise<number> {
    return this.#uploadLock.run(`${name}/${uuid}`, async () => (await this.#state(name, uuid)).size);
  }

  /**
   * Append a body to an upload, hashing as it is written. `start`, when given (PATCH's Content-Range), must be the
   * current size (RANGE_INVALID otherwise). A body that fails half way is cut off again: the upload stays as it was.
   */
  appendUpload(name: string, uuid: string, body: Readable, start?: number): Promise<number> {
    return this.#uploadLock.run(`${name}/${uuid}`, () => this.#append(name, uuid, body, start));
  }

  async #append(name: string, uuid: string, body: Readable, start?: number): Promise<number> {
    const st = await this.#state(name, uuid);
    if (start !== undefined && start !== st.size) throw new RegistryError('RANGE_INVALID', `expected offset ${st.size}, got ${start}`);
    const file = join(this.#uploadDir(name, uuid), 'data');
    const hash = st.hash.copy();
    let n = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        n += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      await pipeline(body, tap, createWriteStream(file, { flags: 'r+', start: st.size }));
    } catch (e) {
      await truncate(file, st.size).catch(() => {});
      throw e;
    }
    st.hash = hash;
    st.size += n;
    return st.size;
  }

  /**
   * Finish an upload: append the last body (if any), check the digest, then make the blob visible (fsync, rename into
   * blobs/, link into the repository). A wrong digest cancels the upload and stores nothing (DIGEST_INVALID).
   */
  commitUpload(name: string, uuid: string, digest: string, body?: Readable): Promise<number> {
    return this.#uploadLock.run(`${name}/${uuid}`, async () => {
      if (body) await this.#append(name, uuid, body);
      const st = await this.#state(name, uuid);
      const actual = `sha256:${st.hash.copy().digest('hex')}`;
      const data = join(this.#uploadDir(name, uuid), 'data');
      if (actual !== digest) {
        await this.#cancel(name, uuid);
        throw new RegistryError('DIGEST_INVALID', digest);
      }
      if ((await this.globalBlobSize(digest)) === undefined) {
        const fh = await open(data, 'r+');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        await ensureDir(this.blobDir(digest));
        await rename(data, this.blobData(digest));
      }
      await this.linkBlob(name, digest);
      await this.#cancel(name, uuid);
      return st.size;
    });
  }

  async #cancel(name: string, uuid: string): Promise<void> {
    this.#uploads.delete(`${name}/${uuid}`);
    await removeAll(this.#uploadDir(name, uuid));
  }

  cancelUpload(name: string, uuid: string): Promise<void> {
    return this.#uploadLock.run(`${name}/${uuid}`, async () => {
      if ((await fileSize(join(this.#uploadDir(name, uuid), 'data'))) === undefined) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', uuid);
      await this.#cancel(name, uuid);
    });
  }

  // ---- manifests and tags ----

  async #resolve(name: string, reference: string): Promise<string | undefined> {
    if (reference.startsWith('sha256:')) return (await readLink(this.#revisionLink(name, reference))) === reference ? reference : undefined;
    return readLink(join(this.#tagDir(name, reference), 'current', 'link'));
  }

  async getManifest(name: string, reference: string): Promise<StoredManifest> {
    const digest = await this.#resolve(name, reference);
    const bytes = digest && (await readFile(this.blobData(digest)).catch(() => undefined));
    if (!digest || !bytes) {
      throw reference.startsWith('sha256:')
        ? new RegistryError('MANIFEST_UNKNOWN', { Name: name, Revision: reference })
        : new RegistryError('MANIFEST_UNKNOWN', { Tag: reference });
    }
    return { digest, bytes, mediaType: mediaTypeOf(JSON.parse(bytes.toString('utf8')) as Record<string, unknown>) };
  }

  /** Whether `digest` is a manifest of repository `name`. */
  async hasManifest(name: string, digest: string): Promise<boolean> {
    return (await readLink(this.#revisionLink(name, digest))) === digest && (await this.globalBlobSize(digest)) !== undefined;
  }

  /**
   * Store a manifest after checking it (every blob and child manifest it references must be in the repository:
   * MANIFEST_BLOB_UNKNOWN / MANIFEST_UNKNOWN). `reference` is a tag or the manifest's own digest.
   */
  async putManifest(name: string, reference: string, bytes: Buffer, contentType?: string): Promise<{ digest: string; parsed: ParsedManifest }> {
    const parsed = parseManifest(bytes, contentType);
    const digest = sha256(bytes);
    if (reference.startsWith('sha256:') && reference !== digest) throw new RegistryError('DIGEST_INVALID', reference);
    for (const b of parsed.blobs) {
      if ((await this.blobSize(name, b.digest)) === undefined) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', b.digest);
    }
    for (const m of parsed.manifests) {
      if (!(await this.hasManifest(name, m.digest))) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', m.digest);
    }
    if ((await this.globalBlobSize(digest)) === undefined) {
      await ensureDir(this.blobDir(digest));
      await atomicWriteFile(this.blobData(digest), bytes);
    }
    await this.#link(this.#revisionLink(name, digest), digest);
    if (!reference.startsWith('sha256:')) {
      const dir = this.#tagDir(name, reference);
      await this.#link(join(dir, 'index', 'sha256', hexOf(digest), 'link'), digest);
      await this.#link(join(dir, 'current', 'link'), digest);
    }
    return { digest, parsed };
  }

  /** Delete a tag, or a manifest by digest together with the tags that point at it. */
  async deleteManifest(name: string, reference: string): Promise<void> {
    if (!reference.startsWith('sha256:')) {
      if ((await this.#resolve(name, reference)) === undefined) throw new RegistryError('MANIFEST_UNKNOWN', { Tag: reference });
      await removeAll(this.#tagDir(name, reference));
      return;
    }
    if (!(await this.hasManifest(name, reference))) throw new RegistryError('MANIFEST_UNKNOWN', { Name: name, Revision: reference });
    for (const tag of await this.tags(name).catch(() => [])) {
      if ((await this.#resolve(name, tag)) === reference) await removeAll(this.#tagDir(name, tag));
    }
    await removeAll(join(this.#revisionLink(name, reference), '..'));
  }

  /** The tags of a repository, sorted; NAME_UNKNOWN when the repository does not exist. */
  async tags(name: string): Promise<string[]> {
    const entries = await list(this.repoDir(name));
    if (!entries.includes('_manifests') && !entries.includes('_layers')) throw new RegistryError('NAME_UNKNOWN', { name });
    const out: string[] = [];
    for (const t of await list(join(this.repoDir(name), '_manifests', 'tags'))) {
      if ((await readLink(join(this.#tagDir(name, t), 'current', 'link'))) !== undefined) out.push(t);
    }
    return out.sort();
  }

  /** All repositories (a directory holding `_manifests` or `_layers`), sorted. */
  async repositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      const entries = await list(join(this.v2, 'repositories', rel));
      if (entries.includes('_manifests') || entries.includes('_layers')) out.push(rel);
      for (const e of entries) if (!e.startsWith('_')) await walk(rel ? `${rel}/${e}` : e);
    };
    await walk('');
    return out.sort();
  }

  /** Digests of every manifest revision in a repository. */
  async revisions(name: string): Promise<string[]> {
    return (await list(join(this.repoDir(name), '_manifests', 'revisions', 'sha256'))).map((h) => `sha256:${h}`);
  }

  async #summary(digest: string): Promise<ManifestSummary | null> {
    let s = this.#summaries.get(digest);
    if (s !== undefined) return s;
    try {
      const bytes = await readFile(this.blobData(digest));
      const p = parseManifest(bytes);
      s = { mediaType: p.mediaType, size: bytes.length };
      if (p.subject) s.subject = p.subject.digest;
      if (p.artifactType) s.artifactType = p.artifactType;
      if (p.annotations) s.annotations = p.annotations;
    } catch {
      s = null;
    }
    this.#summaries.set(digest, s);
    return s;
  }

  /** Descriptors of the repository's manifests whose subject is `digest` (the referrers API). */
  async referrers(name: string, digest: string, artifactType?: string): Promise<Desc[]> {
    const out: Desc[] = [];
    for (const d of await this.revisions(name)) {
      const s = await this.#summary(d);
      if (!s || s.subject !== digest) continue;
      if (artifactType !== undefined && s.artifactType !== artifactType) continue;
      const desc: Desc = { mediaType: s.mediaType, digest: d, size: s.size };
      if (s.artifactType) desc.artifactType = s.artifactType;
      if (s.annotations) desc.annotations = s.annotations;
      out.push(desc);
    }
    return out.sort((a, b) => (a.digest < b.digest ? -1 : 1));
  }
}
