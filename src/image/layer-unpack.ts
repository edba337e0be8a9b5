/**
 * Unpack a stored layer blob (plain, gzip or zstd tar) into a diff dir, hashing the uncompressed
 * bytes for the diff ID on the way. `unpackInWorker` runs it in a worker thread so the daemon's
 * event loop stays free while tens of thousands of files are written with sync calls.
 */
import { createReadStream, openSync, readSync, closeSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import { EngineError, InvalidArgumentError, SystemError } from '../lib/index.ts';
import { TarParser } from '../lib/index.ts';
import { LayerWriter } from './layer-apply.ts';

export interface UnpackResult {
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Bytes in the diff dir, as Docker's directory.Size counts them. */
  size: number;
}

export type Compression = 'none' | 'gzip' | 'zstd';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

export function readHead(path: string, n = 4): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(n);
    const got = readSync(fd, b, 0, n, 0);
    return b.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Decompress if needed (by magic bytes). */
export function decompressed(input: Readable, compression: Compression): Readable {
  if (compression === 'gzip') return input.pipe(createGunzip({ chunkSize: 1 << 20 }));
  if (compression === 'zstd') return input.pipe(createZstdDecompress({ chunkSize: 1 << 20 }));
  return input;
}

/**
 * Apply a tar stream (already decompressed) to diffDir. `knownDiffId`: the digest of exactly these tar bytes,
 * already computed (an uncompressed blob hashed as it was spooled), so they are not hashed a second time.
 */
export async function applyTarStream(tar: Readable, diffDir: string, whiteoutTemplate: string, knownDiffId?: string): Promise<UnpackResult> {
  const writer = new LayerWriter(diffDir, whiteoutTemplate);
  const parser = new TarParser(writer);
  const hash = knownDiffId ? undefined : createHash('sha256');
  try {
    for await (const chunk of tar as AsyncIterable<Buffer>) {
      hash?.update(chunk);
      parser.write(chunk);
    }
    parser.finish();
    const size = writer.finish();
    return { diffId: hash ? 'sha256:' + hash.digest('hex') : knownDiffId!, size };
  } catch (e) {
    writer.abort();
    throw wrapDecompressError(e);
  }
}

function wrapDecompressError(e: unknown): unknown {
  if (e instanceof EngineError) return e;
  const code = (e as { code?: string }).code;
  if (typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ERR_ZSTD') || code === 'ZSTD_error')) {
    return new InvalidArgumentError(`invalid layer: bad compressed data: ${(e as Error).message}`);
  }
  return e;
}

/** Unpack a stored blob. `blobDigest`: its digest as computed when it was stored (the diff ID if it is a plain tar). */
export async function unpackFile(blobPath: string, diffDir: string, whiteoutTemplate: string, blobDigest?: string): Promise<UnpackResult> {
  const comp = detectCompression(readHead(blobPath));
  const src = createReadStream(blobPath, { highWaterMark: 1 << 20 });
  const tar = decompressed(src, comp);
  if (tar !== src) src.on('error', (e) => tar.destroy(e));
  return applyTarStream(tar, diffDir, whiteoutTemplate, comp === 'none' ? blobDigest : undefined);
}

/**
 * A file that another thread is still writing: `grow` says how many bytes are in it so far, `end` that it is
 * complete (or, with ok=false, that it never will be). Reading it yields the bytes as they arrive.
 */
export class GrowingFile {
  #avail = 0;
  #state: 'open' | 'ended' | 'aborted' = 'open';
  #wake: (() => void) | undefined;

  grow(size: number): void {
    this.#avail = size;
    this.#wake?.();
  }

  end(ok: boolean, size?: number): void {
    if (size !== undefined) this.#avail = size;
    this.#state = ok ? 'ended' : 'aborted';
    this.#wake?.();
  }

  /**
   * The bytes as they arrive. With `reuse`, every chunk is the same buffer, overwritten by the next: for a
   * consumer that is done with a chunk before it asks for the next (fresh buffers cost page faults).
   */
  async *read(path: string, reuse = false): AsyncGenerator<Buffer> {
    const fd = openSync(path, 'r');
    let shared: Buffer | undefined;
    try {
      let pos = 0;
      for (;;) {
        if (this.#state === 'aborted') throw new SystemError('layer stream aborted');
        if (pos < this.#avail) {
          const len = Math.min(1 << 20, this.#avail - pos);
          const buf = reuse ? (shared ??= Buffer.allocUnsafeSlow(1 << 20)) : Buffer.allocUnsafe(len);
          const n = readSync(fd, buf, 0, len, pos);
          if (n === 0) throw new SystemError(`layer stream: ${path} is shorter than announced`);
          pos += n;
          yield n === buf.length ? buf : buf.subarray(0, n);
        } else if (this.#state === 'ended') {
          return;
        } else {
          await new Promise<void>((r) => { this.#wake = r; });
          this.#wake = undefined;
        }
      }
    } finally {
      closeSync(fd);
    }
  }
}

/** Unpack a file while it is being written (see GrowingFile). Plain tars are not hashed here (diffId ''): their digest is the diff ID. */
export async function unpackGrowing(file: GrowingFile, path: string, diffDir: string, whiteoutTemplate: string): Promise<UnpackResult> {
  const chunks = file.read(path, true);
  const first = await chunks.next();
  if (!first.done && detectCompression(first.value) === 'none') {
    // A plain tar, applied straight from the reused buffer (TarParser and LayerWriter keep no reference to it).
    const writer = new LayerWriter(diffDir, whiteoutTemplate);
    const parser = new TarParser(writer);
    try {
      parser.write(first.value);
      for await (const c of chunks) parser.write(c);
      parser.finish();
      return { diffId: '', size: writer.finish() };
    } catch (e) {
      writer.abort();
      throw e;
    }
  }
  await chunks.return(undefined);
  // Compressed: the decompressor may hold on to its input, so every chunk is a buffer of its own.
  const src = Readable.from(file.read(path), { objectMode: false, highWaterMark: 1 << 20 });
  const tar = decompressed(src, detectCompression(first.value ?? Buffer.alloc(0)));
  if (tar !== src) src.on('error', (e) => tar.destroy(e));
  return applyTarStream(tar, diffDir, whiteoutTemplate);
}

type JobRequest =
  | { op: 'file'; blobPath: string; diffDir: string; whiteoutTemplate: string; blobDigest?: string | undefined }
  | { op: 'follow'; path: string; diffDir: string; whiteoutTemplate: string };
export type WorkerRequest =
  | (JobRequest & { id: number })
  | { id: number; op: 'grow'; size: number }
  | { id: number; op: 'end'; ok: boolean; size: number };
export interface WorkerReply { id: number; ok: boolean; result?: UnpackResult; kind?: string; message?: string }

/** Blobs smaller than this are unpacked on the calling thread: starting a worker costs more. */
const INLINE_MAX = 4 << 20;
/** Files at least this large are worth unpacking while they arrive (see UnpackWorker.follow). */
export const FOLLOW_MIN = INLINE_MAX;

/** The worker's end of the protocol (layer-worker.ts). */
export function serveUnpackRequests(port: { on(ev: 'message', f: (m: WorkerRequest) => void): unknown; postMessage(m: WorkerReply): void }): void {
  const growing = new Map<number, GrowingFile>();
  const reply = (id: number, p: Promise<UnpackResult>): void => {
    p.then(
      (result) => port.postMessage({ id, ok: true, result }),
      (e: unknown) => port.postMessage({ id, ok: false, kind: (e as Error)?.name, message: e instanceof Error ? e.message : String(e) }),
    ).finally(() => growing.delete(id));
  };
  port.on('message', (m) => {
    switch (m.op) {
      case 'file':
        reply(m.id, unpackFile(m.blobPath, m.diffDir, m.whiteoutTemplate, m.blobDigest));
        break;
      case 'follow': {
        const g = new GrowingFile();
        growing.set(m.id, g);
        reply(m.id, unpackGrowing(g, m.path, m.diffDir, m.whiteoutTemplate));
        break;
      }
      case 'grow':
        growing.get(m.id)?.grow(m.size);
        break;
      case 'end':
        growing.get(m.id)?.end(m.ok, m.size);
        break;
    }
  });
}

/** A layer being unpacked while its file is spooled: feed it with grow/end, then await `result`. */
export interface FollowJob {
  grow(size: number): void;
  end(ok: boolean, size: number): void;
  /** diffId is '' when the blob was a plain tar: then it is the blob's digest, which the spooler computes. */
  readonly result: Promise<UnpackResult>;
}

/** A worker thread that unpacks layers (reused across the layers of one load). File jobs run one after another. */
export class UnpackWorker {
  #worker: Worker | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #next = 1;
  #pending = new Map<number, { resolve: (r: UnpackResult) => void; reject: (e: unknown) => void }>();

  unpack(blobPath: string, diffDir: string, whiteoutTemplate: string, blobDigest?: string): Promise<UnpackResult> {
    const inline = statSync(blobPath).size < INLINE_MAX;
    const job = this.#queue.then(() => (inline
      ? unpackFile(blobPath, diffDir, whiteoutTemplate, blobDigest)
      : this.#call({ op: 'file', blobPath, diffDir, whiteoutTemplate, blobDigest })));
    this.#queue = job.catch(() => {});
    return job;
  }

  /** Unpack `path` while another part of this thread is still writing it. */
  follow(path: string, diffDir: string, whiteoutTemplate: string): FollowJob {
    const id = this.#next;
    const result = this.#call({ op: 'follow', path, diffDir, whiteoutTemplate });
    result.catch(() => {});
    let sent = 0;
    return {
      grow: (size) => {
        if (size - sent < (4 << 20)) return; // a message costs ~0.1 ms: one per 4 MiB
        sent = size;
        this.#worker?.postMessage({ id, op: 'grow', size } satisfies WorkerRequest);
      },
      end: (ok, size) => this.#worker?.postMessage({ id, op: 'end', ok, size } satisfies WorkerRequest),
      result,
    };
  }

  #call(req: JobRequest): Promise<UnpackResult> {
    const w = this.#start();
    const id = this.#next++;
    return new Promise<UnpackResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (this.#pending.size === 1) w.ref();
      w.postMessage({ ...req, id } as WorkerRequest);
    });
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const self = fileURLToPath(import.meta.url);
    const w = new Worker(new URL('./layer-worker' + extname(self), import.meta.url));
    w.unref();
    const settle = (id: number): { resolve: (r: UnpackResult) => void; reject: (e: unknown) => void } | undefined => {
      const p = this.#pending.get(id);
      this.#pending.delete(id);
      if (this.#pending.size === 0) w.unref();
      return p;
    };
    const failAll = (e: Error): void => {
      if (this.#worker === w) this.#worker = undefined;
      for (const id of [...this.#pending.keys()]) settle(id)?.reject(e);
    };
    w.on('message', (m: WorkerReply) => {
      const p = settle(m.id);
      if (!p) return;
      if (m.ok && m.result) p.resolve(m.result);
      else p.reject(m.kind === 'InvalidArgumentError' ? new InvalidArgumentError(m.message ?? 'invalid layer') : new SystemError(m.message ?? 'layer unpack failed'));
    });
    w.on('error', (e) => failAll(new SystemError(`layer unpack worker: ${e.message}`, { cause: e })));
    w.on('exit', (code) => failAll(new SystemError(`layer unpack worker exited (${code})`)));
    this.#worker = w;
    return w;
  }

  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    if (w) await w.terminate();
  }
}
