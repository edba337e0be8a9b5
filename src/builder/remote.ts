/**
 * Where a build's files come from besides the request body: compressed streams (gzip in-process, bzip2 and xz
 * through the system tools, as dockerd runs `xz`), remote contexts (`remote=`: a tarball or a Dockerfile by URL,
 * a git repository `url#ref:subdir`) and the directory walk that gives a cloned context its hashes.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InvalidArgumentError, run } from '../lib/index.ts';
import { unpackContext, type BuildContext } from './context.ts';

const GZIP = [0x1f, 0x8b];
const BZIP2 = [0x42, 0x5a, 0x68];
const XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const starts = (b: Buffer, magic: number[]) => magic.every((m, i) => b[i] === m);

export function compression(head: Buffer): 'gzip' | 'bzip2' | 'xz' | undefined {
  return starts(head, GZIP) ? 'gzip' : starts(head, BZIP2) ? 'bzip2' : starts(head, XZ) ? 'xz' : undefined;
}

/** `input` decompressed when its first bytes say gzip, bzip2 or xz (Docker's DecompressStream); else as it is. */
export async function decompressed(input: Readable): Promise<Readable> {
  const { head, rest } = await peek(input);
  const kind = compression(head);
  const all = Readable.from(rest, { objectMode: false });
  if (kind === 'gzip') return all.pipe(createGunzip());
  if (kind) return throughTool(kind === 'xz' ? 'xz' : 'bzip2', all);
  return all;
}

/**
 * The chunks of `input` for a context's tar: as they come when they are plain (no stream in between: the
 * request's own chunks go straight to the parser), else through the decompressor.
 */
export async function decompressedChunks(input: Readable): Promise<AsyncIterable<Buffer>> {
  const { head, rest } = await peek(input);
  return compression(head) ? await decompressed(Readable.from(rest, { objectMode: false })) : rest;
}

/** The first chunk of a stream, and an iterable of all its chunks (that one included). */
async function peek(input: Readable): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  const head = first.done ? Buffer.alloc(0) : first.value;
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  return { head, rest: rest() };
}

function throughTool(tool: string, input: Readable): Readable {
  const child = spawn(tool, ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  child.on('error', (e) => out.destroy(new InvalidArgumentError(`${tool}: ${e.message}`)));
  input.on('error', (e) => { child.kill(); out.destroy(e); });
  input.pipe(child.stdin).on('error', () => { /* the tool's exit says what went wrong */ });
  child.stdout.pipe(out, { end: false });
  child.on('close', (code) => {
    if (code === 0) out.end();
    else out.destroy(new InvalidArgumentError(`${tool} -d failed: ${err.trim() || `exit status ${code}`}`));
  });
  return out;
}

/** GET of a build's remote file (ADD <url>, a URL context), failing in Docker's words. */
export async function get(url: string, timeoutMs: number): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause;
    throw new InvalidArgumentError(`Get "${url}": ${cause?.message ?? (err as Error).message}`);
  }
  if (!res.ok) {
    const body = (await res.text().catch(() => '')).slice(0, 512);
    throw new InvalidArgumentError(`failed to GET ${url} with status ${res.status} ${res.statusText}: ${body}`);
  }
  return res;
}

/** Docker's urlutil.IsGitURL. */
export function isGitUrl(s: string): boolean {
  if (/^(git:\/\/|git@|github\.com\/)/.test(s)) return true;
  return /^https?:\/\//.test(s) && /\.git(#.*)?$/.test(s);
}

/**
 * A remote context into `dir`: a git repository (cloned, `#ref:subdir` honoured), or a URL whose body is a
 * (compressed) tar, used as the context, or anything else, used as the Dockerfile named `dockerfile`.
 */
export async function remoteContext(remote: string, dir: string, dockerfile: string): Promise<BuildContext> {
  if (isGitUrl(remote)) return gitContext(remote, dir);
  if (!/^https?:\/\//.test(remote)) throw new InvalidArgumentError(`unable to prepare context: unable to parse remote URL: ${remote}`);
  const body = Buffer.from(await (await get(remote, 120_000)).arrayBuffer());
  const kind = compression(body);
  const isTar = kind !== undefined || (body.length >= 512 && body.subarray(257, 262).toString() === 'ustar');
  if (isTar) return unpackContext(Readable.from([body]), dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, dockerfile), body);
  return { dir, hashes: hashTree(dir), materialize() {} };
}

async function gitContext(remote: string, dir: string): Promise<BuildContext> {
  const hashAt = remote.indexOf('#');
  let url = hashAt < 0 ? remote : remote.slice(0, hashAt);
  const [ref = '', subdir = ''] = (hashAt < 0 ? '' : remote.slice(hashAt + 1)).split(':');
  if (url.startsWith('github.com/')) url = `https://${url}`;
  const clone = `${dir}.git`;
  const args = (shallow: boolean) => ['clone', '--quiet', '--recurse-submodules', ...(shallow ? ['--depth', '1'] : []), ...(ref ? ['--branch', ref] : []), '--', url, clone];
  let r = await run('git', args(true), { allowFailure: true });
  if (r.code !== 0 && /shallow/.test(r.stderr)) { // dumb http servers cannot serve a shallow clone: fetch it all
    rmSync(clone, { recursive: true, force: true });
    r = await run('git', args(false), { allowFailure: true });
  }
  if (r.code !== 0) throw new InvalidArgumentError(`error fetching: ${r.stderr.trim()}: exit status ${r.code}`);
  rmSync(join(clone, '.git'), { recursive: true, force: true });
  const root = subdir ? join(clone, subdir) : clone;
  try {
    if (!lstatSync(root).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new InvalidArgumentError(`subdirectory "${subdir}" in the git repository ${url} is not a directory`);
  }
  const { renameSync } = await import('node:fs');
  renameSync(root, dir);
  rmSync(clone, { recursive: true, force: true });
  return { dir, hashes: hashTree(dir), materialize() {} };
}

/** sha256 of every regular file under dir, by context path (for contexts that did not come as a tar). */
function hashTree(dir: string, rel = '', out = new Map<string, string>()): Map<string, string> {
  for (const n of readdirSync(join(dir, rel))) {
    const r = rel ? `${rel}/${n}` : n;
    const st = lstatSync(join(dir, r));
    if (st.isDirectory()) hashTree(dir, r, out);
    else if (st.isFile()) out.set(r, createHash('sha256').update(readFileSync(join(dir, r))).digest('hex'));
  }
  return out;
}
