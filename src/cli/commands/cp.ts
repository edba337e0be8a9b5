/**
 * `cp` and `diff`, with the docker 20.10 CLI's client-side logic (cli/command/container/cp.go and
 * pkg/archive/copy.go): the daemon only stats, tars and untars; deciding what goes where (trailing `/`
 * and `/.`, existing or missing destinations, renaming the top entry) happens here.
 */
import { lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { ApiError, readAll } from '../../client/index.ts';
import { ScopedFs, extractTar, goClean, packPath, preserveTrailingDotOrSeparator, rebaseTar } from '../../lib/index.ts';
import { CliError } from '../errors.ts';
import type { Ctx, Opts } from '../main.ts';

const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const GO_DEVICE = 2 ** 26;
const GO_IRREGULAR = 2 ** 19;

interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }
interface CopyInfo { path: string; exists: boolean; isDir: boolean; rebaseName: string }

const hasBit = (mode: number, bit: number) => Math.floor(mode / bit) % 2 === 1;
const goBase = (p: string) => { const t = p.replace(/\/+$/, ''); return p === '' ? '.' : t === '' ? '/' : t.slice(t.lastIndexOf('/') + 1); };
const curDir = (p: string) => goBase(p) === '.';
const trailingSep = (p: string) => p.endsWith('/');
const assertsDirectory = (p: string) => trailingSep(p) || curDir(p);

/** archive.SplitPathDirEntry */
export function splitPathDirEntry(path: string): [string, string] {
  let c = goClean(path);
  if (curDir(path)) c += '/.';
  return [posix.dirname(c), goBase(c)];
}

/** container:path or a local path (`./a:b` and `/a:b` are local). */
export function splitCpArg(arg: string): [string, string] {
  if (arg.startsWith('/')) return ['', arg];
  const i = arg.indexOf(':');
  if (i < 0 || arg.startsWith('.')) return ['', arg];
  return [arg.slice(0, i), arg.slice(i + 1)];
}

function resolveLocalPath(p: string): string {
  return preserveTrailingDotOrSeparator(posix.resolve(p), p);
}

/** archive.GetRebaseName */
function getRebaseName(path: string, resolved: string): [string, string] {
  if (curDir(path) && !curDir(resolved)) resolved += '/.';
  if (trailingSep(path) && !trailingSep(resolved)) resolved += '/';
  return [resolved, goBase(path) !== goBase(resolved) ? goBase(path) : ''];
}

/** Go's PathError text for a Node fs error. */
function fsError(e: unknown): Error {
  const x = e as { code?: string; syscall?: string; path?: string; message?: string };
  const txt: Record<string, string> = { ENOENT: 'no such file or directory', ENOTDIR: 'not a directory', EACCES: 'permission denied', ELOOP: 'too many levels of symbolic links' };
  if (x.code && x.syscall && txt[x.code]) return new CliError(`${x.syscall} ${x.path ?? ''}: ${txt[x.code]}`);
  return new CliError(x.message ?? String(e));
}

const evalSymlinks = (p: string) => { try { return realpathSync(p); } catch (e) { throw fsError(e); } };
const lstat = (p: string) => { try { return lstatSync(p); } catch (e) { throw fsError(e); } };

/** archive.CopyInfoSourcePath (ResolveHostSourcePath + lstat). */
function copyInfoSourcePath(path: string, followLink: boolean): CopyInfo {
  let resolved: string;
  let rebaseName = '';
  if (followLink) {
    [resolved, rebaseName] = getRebaseName(path, evalSymlinks(path));
  } else {
    const cut = path.lastIndexOf('/');
    const dir = path.slice(0, cut + 1) || '.';
    const base = path.slice(cut + 1);
    const rdir = evalSymlinks(dir);
    resolved = `${rdir === '/' ? '' : rdir}/${base}`;
    if (trailingSep(path) && goBase(path) !== goBase(resolved)) rebaseName = goBase(path);
  }
  const st = lstat(resolved);
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName };
}

/** archive.CopyInfoDestinationPath (host side). */
function copyInfoDestinationPath(path: string): CopyInfo {
  const original = path;
  let st: ReturnType<typeof lstatSync> | undefined;
  const tryLstat = (p: string) => { try { return lstatSync(p); } catch (e) { if ((e as { code?: string }).code === 'ENOENT') return undefined; throw fsError(e); } };
  st = tryLstat(path);
  if (st && !st.isSymbolicLink()) return { path, exists: true, isDir: st.isDirectory(), rebaseName: '' };
  for (let n = 0; st && st.isSymbolicLink(); n++) {
    if (n > 10) throw new CliError(`too many symlinks in ${original}`);
    let target = readlink(path);
    if (!target.startsWith('/')) target = posix.join(splitPathDirEntry(path)[0], target);
    path = target;
    st = tryLstat(path);
  }
  if (!st) {
    const [parent] = splitPathDirEntry(path);
    let ps;
    try { ps = statSync(parent); } catch (e) { throw fsError(e); }
    if (!ps.isDirectory()) throw new CliError('not a directory');
    return { path, exists: false, isDir: false, rebaseName: '' };
  }
  return { path, exists: true, isDir: st.isDirectory(), rebaseName: '' };
}

function readlink(p: string): string {
  try { return readlinkSync(p); } catch (e) { throw fsError(e); }
}

/** archive.PrepareArchiveCopy: the directory to extract into, and the archive renamed as needed. */
async function prepareArchiveCopy(src: Readable, srcInfo: CopyInfo, dstInfo: CopyInfo): Promise<[string, Readable]> {
  const [dstDir, dstBase] = splitPathDirEntry(dstInfo.path);
  let [, srcBase] = splitPathDirEntry(srcInfo.path);
  if (dstInfo.exists && dstInfo.isDir) return [dstInfo.path, src];
  if (dstInfo.exists && srcInfo.isDir) throw new CliError('cannot copy directory');
  if (!dstInfo.exists && !srcInfo.isDir && assertsDirectory(dstInfo.path)) throw new CliError('no such directory');
  if (srcInfo.rebaseName) srcBase = srcInfo.rebaseName;
  return [dstDir, await rebaseTar(src, srcBase, dstBase)];
}

/** An API error as the docker client reports it: a 404 on the archive endpoints names container:path. */
function apiError(e: unknown, container: string, path: string): unknown {
  if (e instanceof ApiError && e.status === 404) return new CliError(`Error: No such container:path: ${container}:${path}`);
  return e;
}

function decodeStat(header: string | undefined): PathStat {
  if (!header) return { name: '', size: 0, mode: 0, mtime: '', linkTarget: '' };
  try { return JSON.parse(Buffer.from(header, 'base64').toString()) as PathStat; } catch { return { name: '', size: 0, mode: 0, mtime: '', linkTarget: '' }; }
}

async function statPath(ctx: Ctx, container: string, path: string): Promise<PathStat> {
  try {
    const res = await ctx.client().request('HEAD', `/containers/${encodeURIComponent(container)}/archive`, { query: { path } });
    res.body.resume();
    return decodeStat(res.headers['x-docker-container-path-stat']);
  } catch (e) {
    throw apiError(e, container, path);
  }
}

function validateOutputPathFileMode(mode: number): string | undefined {
  if (hasBit(mode, GO_DEVICE)) return 'got a device';
  if (hasBit(mode, GO_IRREGULAR)) return 'got an irregular file';
  return undefined;
}

function validateOutputPath(path: string): void {
  const dir = posix.dirname(goClean(path));
  if (dir !== '' && dir !== '.') {
    try { statSync(dir); } catch (e) { if ((e as { code?: string }).code === 'ENOENT') throw new CliError(`invalid output path: directory ${JSON.stringify(dir)} does not exist`); }
  }
  let st;
  try { st = statSync(path); } catch (e) { if ((e as { code?: string }).code === 'ENOENT') return; throw fsError(e); }
  if (st.isDirectory() || st.isFile()) return;
  if (st.isBlockDevice() || st.isCharacterDevice()) throw new CliError(`invalid output path: ${JSON.stringify(path)} must be a directory or a regular file: got a device`);
}

async function copyFromContainer(ctx: Ctx, container: string, srcPath: string, dstPath: string, followLink: boolean): Promise<void> {
  if (dstPath !== '-') dstPath = resolveLocalPath(dstPath);
  validateOutputPath(dstPath);
  let rebaseName = '';
  if (followLink) {
    let st: PathStat | undefined;
    try { st = await statPath(ctx, container, srcPath); } catch { st = undefined; }
    if (st && hasBit(st.mode, GO_SYMLINK)) {
      let target = st.linkTarget;
      if (!target.startsWith('/')) target = posix.join(splitPathDirEntry(srcPath)[0], target);
      [target, rebaseName] = getRebaseName(srcPath, target);
      srcPath = target;
    }
  }
  let res;
  try {
    res = await ctx.client().request('GET', `/containers/${encodeURIComponent(container)}/archive`, { query: { path: srcPath } });
  } catch (e) {
    throw apiError(e, container, srcPath);
  }
  if (dstPath === '-') {
    for await (const c of res.body) ctx.out(c as Buffer);
    return;
  }
  const stat = decodeStat(res.headers['x-docker-container-path-stat']);
  const srcInfo: CopyInfo = { path: srcPath, exists: true, isDir: hasBit(stat.mode, GO_DIR), rebaseName };
  let content: Readable = res.body;
  if (rebaseName) content = await rebaseTar(content, splitPathDirEntry(srcPath)[1], rebaseName);
  // archive.CopyTo
  const dstInfo = copyInfoDestinationPath(dstPath);
  const [dstDir, archive] = await prepareArchiveCopy(content, srcInfo, dstInfo);
  await extractTar(archive, new ScopedFs('/'), goClean(dstDir), { noOverwriteDirNonDir: true, noLchown: true }).catch((e: unknown) => { throw fsError(e); });
}

async function copyToContainer(ctx: Ctx, container: string, srcPath: string, dstPath: string, followLink: boolean, copyUIDGID: boolean): Promise<void> {
  if (srcPath !== '-') srcPath = resolveLocalPath(srcPath);
  const dstInfo: CopyInfo = { path: dstPath, exists: false, isDir: false, rebaseName: '' };
  let dstStat: PathStat | undefined;
  try { dstStat = await statPath(ctx, container, dstPath); } catch { dstStat = undefined; }
  if (dstStat && hasBit(dstStat.mode, GO_SYMLINK)) {
    let target = dstStat.linkTarget;
    if (!target.startsWith('/')) target = posix.join(splitPathDirEntry(dstPath)[0], target);
    dstInfo.path = target;
    try { dstStat = await statPath(ctx, container, target); } catch { dstStat = undefined; }
  }
  const bad = validateOutputPathFileMode(dstStat?.mode ?? 0);
  if (bad) throw new CliError(`destination "${container}:${dstPath}" must be a directory or a regular file: ${bad}`);
  if (dstStat) { dstInfo.exists = true; dstInfo.isDir = hasBit(dstStat.mode, GO_DIR); }

  let content: Readable;
  let resolvedDst: string;
  if (srcPath === '-') {
    content = process.stdin;
    resolvedDst = dstInfo.path;
    if (!dstInfo.isDir) throw new CliError(`destination "${container}:${dstPath}" must be a directory`);
  } else {
    const srcInfo = copyInfoSourcePath(srcPath, followLink);
    const tar = new PassThrough();
    const [sourceDir, sourceBase] = splitPathDirEntry(srcInfo.path);
    packPath(new ScopedFs('/'), { dir: sourceDir, base: sourceBase, rebase: srcInfo.rebaseName }, tar).then(() => tar.end(), (e: unknown) => tar.destroy(e as Error));
    [resolvedDst, content] = await prepareArchiveCopy(tar, srcInfo, dstInfo);
  }
  try {
    const res = await ctx.client().request('PUT', `/containers/${encodeURIComponent(container)}/archive`, {
      query: { path: resolvedDst, noOverwriteDirNonDir: 'true', ...(copyUIDGID ? { copyUIDGID: 'true' } : {}) },
      stream: content,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    await readAll(res.body);
  } catch (e) {
    throw apiError(e, container, resolvedDst);
  }
}

export async function cp(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const [src = '', dst = ''] = args;
  if (src === '') throw new CliError('source can not be empty');
  if (dst === '') throw new CliError('destination can not be empty');
  const [srcContainer, srcPath] = splitCpArg(src);
  const [dstContainer, dstPath] = splitCpArg(dst);
  const followLink = o.followLink === true;
  if (srcContainer && dstContainer) throw new CliError('copying between containers is not supported');
  if (srcContainer) return copyFromContainer(ctx, srcContainer, srcPath, dstPath, followLink);
  if (dstContainer) return copyToContainer(ctx, dstContainer, srcPath, dstPath, followLink, o.archive === true);
  throw new CliError('must specify at least one container source');
}

const KIND = ['C', 'A', 'D'];

export async function diff(ctx: Ctx, args: string[]): Promise<void> {
  const list = await ctx.client().json<{ Path: string; Kind: number }[] | null>('GET', `/containers/${encodeURIComponent(args[0]!)}/changes`);
  let out = '';
  for (const c of list ?? []) out += `${KIND[c.Kind] ?? '?'} ${c.Path}\n`;
  ctx.out(out);
}
