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
import type { Readable } from 'node:stream';
import { EngineError, InvalidArgumentError, SystemError } from '../lib/index.ts';
import { TarParser } from './tar-parser.ts';
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

interface WorkerReply { ok: boolean; result?: UnpackResult; kind?: string; message?: string }

/** Blobs smaller than this are unpacked on the calling thread: starting a worker costs more. */
const INLINE_MAX = 4 << 20;

/** A worker that unpacks layers one after another (reused across the layers of one load). */
export class UnpackWorker {
  #worker: Worker | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  unpack(blobPath: string, diffDir: string, whiteoutTemplate: string, blobDigest?: string): Promise<UnpackResult> {
    const inline = statSync(blobPath).size < INLINE_MAX;
    const job = this.#queue.then(() => (inline ? unpackFile(blobPath, diffDir, whiteoutTemplate, blobDigest) : this.#run(blobPath, diffDir, whiteoutTemplate, blobDigest)));
    this.#queue = job.catch(() => {});
    return job;
  }

  #run(blobPath: string, diffDir: string, whiteoutTemplate: string, blobDigest: string | undefined): Promise<UnpackResult> {
    if (!this.#worker) {
      const self = fileURLToPath(import.meta.url);
      this.#worker = new Worker(new URL('./layer-worker' + extname(self), import.meta.url));
      this.#worker.unref();
    }
    const w = this.#worker;
    return new Promise((resolve, reject) => {
      const onMsg = (m: WorkerReply) => {
        cleanup();
        if (m.ok && m.result) resolve(m.result);
        else reject(m.kind === 'InvalidArgumentError' ? new InvalidArgumentError(m.message ?? 'invalid layer') : new SystemError(m.message ?? 'layer unpack failed'));
      };
      const onErr = (e: Error) => { cleanup(); this.#worker = undefined; reject(new SystemError(`layer unpack worker: ${e.message}`, { cause: e })); };
      const onExit = (code: number) => { cleanup(); this.#worker = undefined; reject(new SystemError(`layer unpack worker exited (${code})`)); };
      const cleanup = () => { w.off('message', onMsg); w.off('error', onErr); w.off('exit', onExit); w.unref(); };
      w.on('message', onMsg);
      w.on('error', onErr);
      w.on('exit', onExit);
      w.ref();
      w.postMessage({ blobPath, diffDir, whiteoutTemplate, blobDigest });
    });
  }

  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    if (w) await w.terminate();
  }
}
