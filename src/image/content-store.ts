/**
 * Content-addressed blobs: `<root>/image/content/sha256/<hex>`. A blob is written under
 * `<root>/image/ingest/`, hashed on the way, and renamed into place only once its digest is known
 * (and matches the expected one), so a reader never sees a partial or wrong blob.
 */
import { createHash, randomBytes } from 'node:crypto';
import { openSync, writeSync, closeSync, renameSync, unlinkSync, existsSync, statSync, rmSync, mkdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, NotFoundError, errno } from '../lib/index.ts';

const HEX = /^[a-f0-9]{64}$/;

export function hexOf(digest: string): string {
  const hex = digest.startsWith('sha256:') ? digest.slice(7) : '';
  if (!HEX.test(hex)) throw new InvalidArgumentError(`invalid digest ${JSON.stringify(digest)}`);
  return hex;
}

/** A blob being written: feed it bytes synchronously, then commit or discard. */
export class IngestWriter {
  readonly path: string;
  #fd: number;
  #hash = createHash('sha256');
  size = 0;
  /** Small blobs stay in memory too (configs, manifests). */
  #mem: Buffer[] | undefined = [];
  #memLimit: number;

  constructor(path: string, memLimit = 1 << 20) {
    this.path = path;
    this.#fd = openSync(path, 'wx', 0o600);
    this.#memLimit = memLimit;
  }

  write(b: Buffer): void {
    this.#hash.update(b);
    let off = 0;
    while (off < b.length) off += writeSync(this.#fd, b, off, b.length - off);
    this.size += b.length;
    if (this.#mem) {
      if (this.size > this.#memLimit) this.#mem = undefined;
      else this.#mem.push(Buffer.from(b));
    }
  }

  /** Close the file; returns the digest and (for small blobs) the bytes. */
  close(): { digest: string; data: Buffer | undefined } {
    closeSync(this.#fd);
    this.#fd = -1;
    return { digest: 'sha256:' + this.#hash.digest('hex'), data: this.#mem ? Buffer.concat(this.#mem) : undefined };
  }

  discard(): void {
    if (this.#fd >= 0) { try { closeSync(this.#fd); } catch { /* failing anyway */ } this.#fd = -1; }
    try { unlinkSync(this.path); } catch { /* gone */ }
  }
}

export class ContentStore {
  readonly dir: string;
  readonly ingestDir: string;

  constructor(imageRoot: string) {
    this.dir = join(imageRoot, 'content', 'sha256');
    this.ingestDir = join(imageRoot, 'ingest');
  }

  init(): void {
    mkdirSync(this.dir, { recursive: true });
    // Leftovers of an interrupted ingest are never visible; drop them.
    rmSync(this.ingestDir, { recursive: true, force: true });
    mkdirSync(this.ingestDir, { recursive: true });
  }

  path(digest: string): string {
    return join(this.dir, hexOf(digest));
  }

  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  size(digest: string): number {
    return statSync(this.path(digest)).size;
  }

  newIngest(): IngestWriter {
    return new IngestWriter(join(this.ingestDir, randomBytes(8).toString('hex')));
  }

  /** Move a verified ingest file into place (a present blob wins; the ingest file is dropped). */
  commitFile(ingestPath: string, digest: string): void {
    const dst = this.path(digest);
    if (existsSync(dst)) { try { unlinkSync(ingestPath); } catch { /* gone */ } return; }
    renameSync(ingestPath, dst);
  }

  /** Store bytes (small blobs: configs, manifests). */
  put(data: Buffer | string): string {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    const digest = 'sha256:' + createHash('sha256').update(buf).digest('hex');
    if (this.has(digest)) return digest;
    const w = this.newIngest();
    try {
      w.write(buf);
      w.close();
      this.commitFile(w.path, digest);
    } catch (e) {
      w.discard();
      throw e;
    }
    return digest;
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.path(digest));
    } catch (e) {
      if (errno(e) === 'ENOENT') throw new NotFoundError(`content ${digest}: not found`);
      throw e;
    }
  }

  async delete(digest: string): Promise<void> {
    await rm(this.path(digest), { force: true });
  }
}
