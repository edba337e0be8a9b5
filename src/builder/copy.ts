/**
 * COPY and ADD as the classic builder does them (moby builder/dockerfile/copy.go): sources from the
 * context (or from a stage's or an image's filesystem), wildcards, Docker's directory and trailing-slash
 * rules, ownership root:root unless --chown, modes and mtimes kept, ADD's local archives unpacked.
 * Writes go through the image's filesystem scope: a symlink in the image never leads a write outside it.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync, copyFileSync, lchownSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync,
  symlinkSync, utimesSync, lutimesSync, writeFileSync, openSync, readSync, closeSync, createReadStream, type Stats,
} from 'node:fs';
import { posix } from 'node:path';
import { compression, decompressed, get } from './remote.ts';
import { InvalidArgumentError, NotFoundError, ScopedFs, extractTar } from '../lib/index.ts';

export interface Owner { uid: number; gid: number }

/** Where sources come from: the build context (its hashes known) or a stage's / image's root filesystem. */
export interface CopySource {
  fs: ScopedFs;
  /** sha256 of context files by context path; absent for an image's filesystem. */
  hashes?: Map<string, string>;
  /** The image the files come from (its ID stands for their content in the cache key). */
  imageId?: string;
}

export interface CopyPlan {
  /** Resolved sources: view paths in `src.fs` and their names as written (for Docker's basename rule). */
  sources: string[];
  /** Each source as named (a named symlink's file keeps the link's name, as Docker's copier). */
  names: string[];
  dest: string;
  /** The `file:…`, `dir:…` or `multi:…` of the step's history comment. */
  hash: string;
}

const WILDCARD = /(^|[^\\])[*?[]/;
/** ADD <url> files are downloaded into `<context>/<DOWNLOADS>…/` for their step; they are never unpacked. */
export const DOWNLOADS = '.berth-add-';

/** Sources matched and checked, the destination made absolute, the cache hash computed. */
export function planCopy(cmd: 'COPY' | 'ADD', src: CopySource, args: string[], dest: string, workdir: string, extra: string): CopyPlan {
  const fail = (m: string) => new NotFoundError(`${cmd} failed: ${m}`);
  const written = dest;
  if (!dest.startsWith('/')) {
    dest = posix.join('/', workdir || '/', dest);
    if ((written.endsWith('/') || written === '.') && !dest.endsWith('/')) dest += '/';
  }
  const sources: string[] = [];
  const names: string[] = [];
  for (const a of args) {
    if (src.hashes && posix.normalize(a).split('/')[0] === '..') {
      throw new InvalidArgumentError(`${cmd} failed: forbidden path outside the build context: ${a} ()`);
    }
    if (WILDCARD.test(a)) {
      const pattern = posix.join('/', a);
      const found = matchAll(src.fs, pattern);
      sources.push(...found);
      names.push(...found);
      continue;
    }
    const p = src.fs.resolve(a);
    if (!src.fs.tryLstat(p)) {
      throw fail(src.hashes ? `file not found in build context or excluded by .dockerignore: stat ${a.replace(/^\//, '')}: file does not exist`
        : `stat ${posix.join('/', a)}: file does not exist`);
    }
    sources.push(p);
    names.push(posix.join('/', a));
  }
  if (sources.length === 0) throw fail('no source files were specified');
  if (sources.length > 1 && !written.endsWith('/')) { // as written: dockerd refuses `COPY a b .`
    throw new InvalidArgumentError(`When using ${cmd} with more than one source file, the destination must be a directory and end with a /`);
  }
  const h = createHash('sha256');
  h.update(extra);
  if (src.imageId) h.update(src.imageId);
  let kind = 'multi';
  for (const s of sources) {
    const st = src.fs.lstat(s);
    if (sources.length === 1) kind = st.isDirectory() ? 'dir' : 'file';
    hashTree(src, s, st, h);
  }
  return { sources, names, dest, hash: `${kind}:${h.digest('hex')}` };
}

function hashTree(src: CopySource, p: string, st: Stats, h: ReturnType<typeof createHash>): void {
  h.update(`${p}\0${st.mode}\0`);
  if (st.isSymbolicLink()) h.update(readlinkSync(src.fs.host(p)));
  else if (st.isFile()) h.update(src.imageId ? `${st.size}:${st.mtimeMs}` : (src.hashes?.get(p.slice(1)) ?? fileHash(src.fs.host(p))));
  else if (st.isDirectory()) {
    for (const n of readdirSync(src.fs.host(p)).sort()) {
      const c = posix.join(p, n);
      hashTree(src, c, src.fs.lstat(c), h);
    }
  }
  h.update('\n');
}

function fileHash(host: string): string {
  return createHash('sha256').update(readFileSync(host)).digest('hex');
}

/** Every path of the view matching a Go filepath.Match pattern (all components). */
function matchAll(fs: ScopedFs, pattern: string): string[] {
  const parts = pattern.split('/').filter(Boolean);
  let cur = ['/'];
  for (const part of parts) {
    const re = globRe(part);
    const next: string[] = [];
    for (const d of cur) {
      const st = fs.tryLstat(d);
      if (!st?.isDirectory()) continue;
      for (const n of readdirSync(fs.host(d)).sort()) if (re.test(n)) next.push(posix.join(d, n));
    }
    cur = next;
  }
  return cur;
}

function globRe(p: string): RegExp {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const j = p.indexOf(']', i + 1);
      if (j < 0) { re += '\\['; continue; }
      let cls = p.slice(i + 1, j);
      if (cls.startsWith('^')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = j;
    } else if (c === '\\' && i + 1 < p.length) re += `\\${p[++i]}`;
    else re += c.replace(/[.+^${}()|\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Carries out a plan into `root` (the step's mounted layer). Returns nothing; throws Docker-worded errors.
 * `chmod` (an octal string) and `owner` apply to everything copied; created parents belong to `owner`.
 */
export async function runCopy(cmd: 'COPY' | 'ADD', src: CopySource, plan: CopyPlan, root: ScopedFs, owner: Owner, chmod: number | undefined): Promise<void> {
  const destIsDir = plan.dest.endsWith('/') || plan.sources.length > 1;
  for (const [i, s] of plan.sources.entries()) {
    const st = src.fs.lstat(s);
    if (st.isDirectory()) {
      const to = mkdirInScope(root, plan.dest, owner);
      copyDirContents(src.fs, s, root, to, owner, chmod);
      continue;
    }
    if (cmd === 'ADD' && src.hashes && !s.startsWith(`/${DOWNLOADS}`) && st.isFile() && await isArchive(src.fs.host(s))) {
      const to = mkdirInScope(root, plan.dest, owner);
      await unpackArchive(src.fs.host(s), root, to);
      continue;
    }
    let target = plan.dest;
    const existing = root.tryLstat(root.resolve(target));
    if (destIsDir || existing?.isDirectory()) {
      const dir = mkdirInScope(root, target, owner);
      target = posix.join(dir, posix.basename(plan.names[i] ?? s));
    } else {
      const dir = mkdirInScope(root, posix.dirname(target), owner);
      target = posix.join(dir, posix.basename(target));
    }
    copyOne(src.fs, s, st, root, target, owner, chmod);
  }
}

/** mkdir -p of a view path inside the scope; returns the resolved view path. New directories get `owner`. */
function mkdirInScope(root: ScopedFs, dir: string, owner: Owner): string {
  const resolved = root.resolve(dir);
  const host = root.host(resolved);
  const st = root.tryLstat(resolved);
  if (st) {
    if (!st.isDirectory()) throw new InvalidArgumentError(`failed to copy files: mkdir ${resolved}: not a directory`);
    return resolved;
  }
  const first = mkdirSync(host, { recursive: true, mode: 0o755 });
  if (first) {
    for (let p = host; p.length >= first.length; p = posix.dirname(p)) lchownSync(p, owner.uid, owner.gid);
  }
  return resolved;
}

function copyDirContents(from: ScopedFs, src: string, root: ScopedFs, dest: string, owner: Owner, chmod: number | undefined): void {
  for (const n of readdirSync(from.host(src))) {
    const s = posix.join(src, n);
    copyOne(from, s, from.lstat(s), root, posix.join(dest, n), owner, chmod);
  }
}

/** One entry (recursively for directories) to `dest`, a view path whose parent is resolved and is a directory. */
function copyOne(from: ScopedFs, src: string, st: Stats, root: ScopedFs, dest: string, owner: Owner, chmod: number | undefined): void {
  const host = root.host(dest);
  const old = root.tryLstat(dest);
  if (old && !(old.isDirectory() && st.isDirectory())) rmSync(host, { recursive: true, force: true });
  const mode = chmod ?? (st.mode & 0o7777);
  if (st.isDirectory()) {
    if (!old) mkdirSync(host);
    copyDirContents(from, src, root, dest, owner, chmod);
    chmodSync(host, mode);
    lchownSync(host, owner.uid, owner.gid);
    utimesSync(host, st.atime, st.mtime);
  } else if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(from.host(src)), host);
    lchownSync(host, owner.uid, owner.gid);
    lutimesSync(host, st.atime, st.mtime);
  } else if (st.isFile()) {
    copyFileSync(from.host(src), host);
    lchownSync(host, owner.uid, owner.gid);
    chmodSync(host, mode);
    utimesSync(host, st.atime, st.mtime);
  }
}

/** A tar, plain or compressed (gzip, bzip2, xz): what ADD unpacks. A compressed file that is no tar is copied. */
async function isArchive(host: string): Promise<boolean> {
  const fd = openSync(host, 'r');
  const b = Buffer.alloc(512);
  let n: number;
  try { n = readSync(fd, b, 0, 512, 0); } finally { closeSync(fd); }
  if (!compression(b.subarray(0, n))) return n === 512 && b.subarray(257, 262).toString() === 'ustar';
  const chunks: Buffer[] = [];
  let got = 0;
  try {
    for await (const c of await decompressed(createReadStream(host))) {
      chunks.push(c as Buffer);
      got += (c as Buffer).length;
      if (got >= 512) break;
    }
  } catch { return false; }
  const head = Buffer.concat(chunks);
  return head.length >= 512 && head.subarray(257, 262).toString() === 'ustar';
}

async function unpackArchive(host: string, root: ScopedFs, dest: string): Promise<void> {
  await extractTar(await decompressed(createReadStream(host)), root, dest, { noOverwriteDirNonDir: false });
}

/**
 * ADD <url>: the file downloaded into `dir` (named after the URL's last path element, mode 0600, mtime from
 * Last-Modified, as Docker). Errors in Docker's words.
 */
export async function download(url: string, dir: string): Promise<string> {
  const name = posix.basename(new URL(url).pathname);
  if (!name || name === '/') throw new InvalidArgumentError(`cannot determine filename from url: ${url}`);
  const res = await get(url, 60_000);
  mkdirSync(dir, { recursive: true });
  const file = posix.join(dir, name);
  writeFileSync(file, Buffer.from(await res.arrayBuffer()), { mode: 0o600 });
  const lm = res.headers.get('last-modified');
  if (lm && !Number.isNaN(Date.parse(lm))) utimesSync(file, new Date(lm), new Date(lm));
  return file;
}

/** `--chown` as Docker reads it: `user[:group]`, names looked up in the image's /etc/passwd and /etc/group. */
export function lookupOwner(root: ScopedFs | undefined, spec: string): Owner {
  if (!spec) return { uid: 0, gid: 0 };
  const [u, g = u] = spec.split(':') as [string, string?];
  const id = (name: string, file: string, what: string): number => {
    if (/^\d+$/.test(name)) return Number(name);
    const text = root ? readText(root, file) : undefined;
    if (text === undefined) throw new InvalidArgumentError(`unable to convert uid/gid chown string to host mapping: can't find uid for user ${name}: no such user: ${name}`);
    for (const line of text.split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f.length >= 3) return Number(f[2]);
    }
    throw new InvalidArgumentError(what === 'user'
      ? `unable to convert uid/gid chown string to host mapping: can't find uid for user ${name}: no such user: ${name}`
      : `unable to convert uid/gid chown string to host mapping: can't find gid for group ${name}: no such group: ${name}`);
  };
  return { uid: id(u, '/etc/passwd', 'user'), gid: id(g!, '/etc/group', 'group') };
}

function readText(root: ScopedFs, file: string): string | undefined {
  try { return readFileSync(root.host(root.resolve(file)), 'utf8'); } catch { return undefined; }
}

export function chmodValue(s: string): number {
  if (!/^[0-7]{1,4}$/.test(s)) throw new InvalidArgumentError(`invalid chmod parameter: ${s}`);
  return parseInt(s, 8);
}

