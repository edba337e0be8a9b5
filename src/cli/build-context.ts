/**
 * The build context as the docker 20.10 CLI prepares it (cli/command/image/build/context.go and
 * pkg/archive.TarWithOptions): the context directory and Dockerfile resolved with docker's error texts,
 * `.dockerignore` applied (the Dockerfile and .dockerignore always sent), and a tar written in
 * filepath.Walk order (names sorted), uid/gid 0, modes kept, symlinks as symlinks, hard links as links.
 * A Dockerfile from stdin or from outside the context goes in as `.dockerfile.<random>`, with
 * `.dockerignore` amended to drop it (AddDockerfileToBuildContext).
 */
import { closeSync, lstatSync, mkdtempSync, rmSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { encodeHeader, tarTypeOf, type TarHead, type TarType } from '../lib/index.ts';
import { CliError } from './errors.ts';

type Dockerignore = typeof import('../builder/dockerfile/index.ts');

/** Go's error text for a failed system call on a path: `lstat /x: no such file or directory`. */
const ERRNO: Record<string, string> = {
  ENOENT: 'no such file or directory', ENOTDIR: 'not a directory', EACCES: 'permission denied', ELOOP: 'too many levels of symbolic links',
  EISDIR: 'is a directory', ENAMETOOLONG: 'file name too long',
};
export function goPathError(op: string, path: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return `${op} ${path}: ${ERRNO[code] ?? (e as Error).message}`;
}

/** filepath.EvalSymlinks, with Go's error (`lstat <first missing component>: …`). */
function evalSymlinks(p: string): string {
  try {
    return realpathSync(p);
  } catch (e) {
    const parts = p.split('/');
    for (let i = 2; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/') || '/';
      try { lstatSync(prefix); } catch (e2) { throw new Error(goPathError('lstat', prefix, e2)); }
    }
    throw new Error(goPathError('lstat', p, e));
  }
}

const prepare = (msg: string): CliError => new CliError(`unable to prepare context: ${msg}`);

/** GetContextFromLocalDir: the absolute context directory and the Dockerfile relative to it (`../x` when outside). */
export function contextFromLocalDir(dir: string, dockerfile: string): { contextDir: string; relDockerfile: string } {
  // with a local directory, -f is relative to the current directory, not to the context
  return contextFromDir(dir, dockerfile !== '' && dockerfile !== '-' ? resolve(dockerfile) : dockerfile);
}

/** ResolveAndValidateContextPath + getDockerfileRelPath: a relative `dockerfile` is taken inside the context. */
export function contextFromDir(dir: string, dockerfile: string): { contextDir: string; relDockerfile: string } {
  let contextDir: string;
  try { contextDir = evalSymlinks(resolve(dir)); } catch (e) { throw prepare(`unable to evaluate symlinks in context path: ${(e as Error).message}`); }
  if (!lstatSync(contextDir).isDirectory()) throw prepare(`context must be a directory: ${contextDir}`);
  if (dockerfile === '-') return { contextDir, relDockerfile: '-' };
  let abs = dockerfile !== '' ? dockerfile : join(contextDir, 'Dockerfile');
  if (dockerfile === '' && !existsLink(abs) && existsLink(join(contextDir, 'dockerfile'))) abs = join(contextDir, 'dockerfile');
  if (!isAbsolute(abs)) abs = join(contextDir, abs);
  try { abs = evalSymlinks(abs); } catch (e) { throw prepare(`unable to evaluate symlinks in Dockerfile path: ${(e as Error).message}`); }
  return { contextDir, relDockerfile: relative(contextDir, abs) || '.' };
}

function existsLink(p: string): boolean {
  try { lstatSync(p); return true; } catch { return false; }
}

/** The `.dockerignore` patterns of a context directory ([] without one). */
export function readDockerignoreFile(contextDir: string, df: Dockerignore): string[] {
  let text: string;
  try { text = readFileSync(join(contextDir, '.dockerignore'), 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CliError(goPathError('open', join(contextDir, '.dockerignore'), e));
  }
  return df.readDockerignore(text);
}

interface Entry { abs: string; rel: string; st: Stats }

/**
 * The entries TarWithOptions writes, in its order: filepath.Walk (lexical), excluded files left out,
 * excluded directories left out unless an exception names something below them (then walked, but not written).
 */
export function walkContext(root: string, pm: InstanceType<Dockerignore['PatternMatcher']>): Entry[] {
  const out: Entry[] = [];
  const walk = (dirAbs: string, dirRel: string): void => {
    let names: string[];
    try { names = readdirSync(dirAbs); } catch { return; }
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      const abs = `${dirAbs}/${name}`;
      const rel = dirRel ? `${dirRel}/${name}` : name;
      let st: Stats;
      try { st = lstatSync(abs); } catch { continue; }
      if (pm.matches(rel)) {
        if (st.isDirectory() && pm.mustWalk(rel)) walk(abs, rel);
        continue;
      }
      out.push({ abs, rel, st });
      if (st.isDirectory()) walk(abs, rel);
    }
  };
  walk(root, '');
  return out;
}

/**
 * ValidateContextDirectory: every file that will be sent can be read (as docker checks before sending).
 * Symlinks and named pipes are not opened.
 */
export function validateContext(entries: readonly Entry[]): void {
  for (const e of entries) {
    if (!e.st.isFile()) continue;
    try { closeSync(openSync(e.abs, 'r')); } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EACCES') throw new CliError(`error checking context: no permission to read from '${e.abs}'`);
    }
  }
}

/** uid/gid → user/group names, as Go's tar.FileInfoHeader looks them up (the names stay though the ids are 0). */
const names = { users: undefined as Map<number, string> | undefined, groups: undefined as Map<number, string> | undefined };
function idName(kind: 'users' | 'groups', id: number): string {
  let m = names[kind];
  if (!m) {
    m = new Map();
    try {
      for (const l of readFileSync(kind === 'users' ? '/etc/passwd' : '/etc/group', 'utf8').split('\n')) {
        const f = l.split(':');
        if (f.length > 2 && !m.has(Number(f[2]))) m.set(Number(f[2]), f[0]!);
      }
    } catch { /* no names */ }
    names[kind] = m;
  }
  return m.get(id) ?? '';
}

const ZERO = Buffer.alloc(1024);
const pad = (n: number): Buffer => ZERO.subarray(0, (512 - (n % 512)) % 512);

/** A regular file's header as Go writes it from a hand-made tar.Header (mode without type bits). */
function plainHeader(name: string, mode: number, size: number, mtime: number, uid = 0, gid = 0, uname = '', gname = ''): Buffer {
  const h = encodeHeader({ name, type: 'file', mode, uid, gid, size, mtime, linkname: '', uname, gname, devmajor: 0, devminor: 0 });
  const b = Buffer.from(h);
  const off = b.length - 512;
  b.write(`${(mode & 0o7777).toString(8).padStart(7, '0')}\0`, off + 100, 8, 'ascii');
  b.fill(0x20, off + 148, off + 156);
  let sum = 0;
  for (let i = off; i < off + 512; i++) sum += b[i]!;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, off + 148, 8, 'ascii');
  return b;
}

export interface ExtraDockerfile {
  /** The Dockerfile's text (from stdin or a file outside the context). */
  content: Buffer;
  /** `.dockerfile.<20 hex>`; random unless given (tests). */
  name?: string;
  /** Header time in seconds; now unless given (tests). */
  mtime?: number;
}

/**
 * The context tar as a stream of chunks. With `extra`, the Dockerfile is added under a random name
 * and `.dockerignore` amended to list it. Returns the entry name of the added Dockerfile.
 */
export function contextTar(entries: readonly Entry[], extra?: ExtraDockerfile): { chunks: Iterable<Buffer>; dockerfileName?: string } {
  const extraName = extra ? (extra.name ?? `.dockerfile.${randomBytes(10).toString('hex')}`) : undefined;
  function* gen(): Generator<Buffer> {
    const seen = new Map<number, string>();
    let sawIgnore = false;
    for (const { abs, rel, st } of entries) {
      const type = tarTypeOf(st);
      if (!type) continue;
      const name = type === 'dir' ? `${rel}/` : rel;
      if (extra && rel === '.dockerignore' && type === 'file') {
        sawIgnore = true;
        let data: Buffer;
        try { data = readFileSync(abs); } catch { continue; }
        data = Buffer.concat([data, Buffer.from(`\n${extraName}\n`)]);
        yield encodeHeader(head(name, 'file', st, data.length, ''));
        yield data;
        yield pad(data.length);
        continue;
      }
      let linkname = '';
      let t: TarType = type;
      let size = type === 'file' ? st.size : 0;
      if (type === 'symlink') { try { linkname = readlinkSync(abs); } catch { continue; } }
      if (type !== 'dir' && st.nlink > 1) {
        const first = seen.get(st.ino);
        if (first !== undefined) { t = 'link'; linkname = first; size = 0; } else seen.set(st.ino, name);
      }
      const h = head(name, t, st, size, linkname);
      if (t !== 'file' || size === 0) { yield encodeHeader(h); continue; }
      let fd: number;
      try { fd = openSync(abs, 'r'); } catch { continue; }
      try {
        yield encodeHeader(h);
        let left = size;
        while (left > 0) {
          // a fresh buffer per read: the consumer may hold on to it
          const chunk = Buffer.allocUnsafe(Math.min(left, 1 << 20));
          const n = readSync(fd, chunk, 0, chunk.length, null);
          if (n <= 0) break;
          yield n === chunk.length ? chunk : chunk.subarray(0, n);
          left -= n;
        }
        // a file that shrank while being read: keep the archive well-formed
        while (left > 0) { const z = Math.min(left, ZERO.length); yield ZERO.subarray(0, z); left -= z; }
        yield pad(size);
      } finally {
        closeSync(fd);
      }
    }
    if (!extra) { yield ZERO; return; }
    // ReplaceFileTarWrapper closes its pipe before the tar writer: the archive ends right after the last
    // entry's data (no padding, no end-of-archive blocks), and docker sends it so
    const now = extra.mtime ?? Math.round(Date.now() / 1000);
    yield plainHeader(extraName!, 0o600, extra.content.length, now);
    yield extra.content;
    if (!sawIgnore) {
      yield pad(extra.content.length);
      const data = Buffer.from(`.dockerignore\n${extraName}\n`);
      yield plainHeader('.dockerignore', 0o600, data.length, now);
      yield data;
    }
  }
  return { chunks: gen(), ...(extraName ? { dockerfileName: extraName } : {}) };
}

function head(name: string, type: TarType, st: Stats, size: number, linkname: string): TarHead {
  const dev = type === 'char' || type === 'block';
  const rdev = st.rdev;
  return {
    name, type, mode: st.mode & 0o7777, uid: 0, gid: 0, size, mtime: Math.floor(st.mtimeMs / 1000), linkname,
    uname: idName('users', st.uid), gname: idName('groups', st.gid),
    devmajor: dev ? ((rdev >> 8) & 0xfff) | ((rdev >>> 20) & ~0xfff) : 0,
    devminor: dev ? (rdev & 0xff) | ((rdev >>> 12) & ~0xff) : 0,
  };
}

/** A tar holding one Dockerfile (a plain Dockerfile on stdin: archive.Tar of a temp dir, so the caller's ids). */
export function singleDockerfileTar(content: Buffer, mtime = Math.floor(Date.now() / 1000)): Buffer {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const mode = 0o666 & ~process.umask();
  const h = encodeHeader({ name: 'Dockerfile', type: 'file', mode, uid, gid, size: content.length, mtime, linkname: '', uname: idName('users', uid), gname: idName('groups', gid), devmajor: 0, devminor: 0 });
  return Buffer.concat([h, content, pad(content.length), ZERO]);
}

/** build.IsArchive: a compression magic, or a first block that is a valid tar header. */
export function isArchive(head: Buffer): boolean {
  const starts = (m: number[]): boolean => m.every((b, i) => head[i] === b);
  if (starts([0x1f, 0x8b, 0x08]) || starts([0x42, 0x5a, 0x68]) || starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) || starts([0x28, 0xb5, 0x2f, 0xfd])) return true;
  if (head.length < 512) return false;
  const blk = head.subarray(0, 512);
  if (blk.every((b) => b === 0)) return false;
  const field = blk.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  if (!/^[0-7]+$/.test(field)) return false;
  const want = Number.parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : blk[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return want === unsigned || want === signed;
}

/** True when `rel` (from contextFromLocalDir) points outside the context. */
export const outsideContext = (rel: string): boolean => rel === '..' || rel.startsWith(`..${sep}`);

/** isLocalDir: anything os.Stat can see. */
export function statOk(p: string): boolean {
  try { statSync(p); return true; } catch { return false; }
}

/** supportsShallowClone: non-HTTP remotes, and smart HTTP servers (a git-upload-pack advertisement). */
async function supportsShallowClone(remote: string): Promise<boolean> {
  if (!/^https?:\/\//.test(remote)) return true;
  const url = `${remote}/info/refs?service=git-upload-pack`;
  let res: Response | undefined;
  try { res = await fetch(url, { method: 'HEAD' }); } catch { res = undefined; }
  if (!res || res.status !== 200) {
    try { res = await fetch(url); await res.body?.cancel(); } catch { return false; }
    if (res.status !== 200) return false;
  }
  return res.headers.get('content-type') === 'application/x-git-upload-pack-advertisement';
}

/**
 * A git context as the 20.10 CLI clones it (builder/remotecontext/git): `URL#ref:subdir`, ref `master` by
 * default; init, fetch (shallow when the remote can), checkout, submodules. Returns the clone and the context in it.
 */
export async function gitClone(url: string): Promise<{ root: string; dir: string }> {
  const prepare = (msg: string): CliError => new CliError(`unable to prepare context: ${msg}`);
  try { execFileSync('git', ['--version'], { stdio: 'ignore' }); } catch { throw prepare('unable to find \'git\': exec: "git": executable file not found in $PATH'); }
  let remote = url;
  if (!remote.startsWith('git@') && !/^(git|https?|ssh):/i.test(remote)) remote = `https://${remote}`;
  let fragment = '';
  const hash = remote.indexOf('#');
  if (hash >= 0) { fragment = remote.slice(hash + 1); remote = remote.slice(0, hash); }
  const colon = fragment.indexOf(':');
  const ref = (colon >= 0 ? fragment.slice(0, colon) : fragment) || 'master';
  const subdir = colon >= 0 ? fragment.slice(colon + 1) : '';
  if (ref.startsWith('-')) throw prepare(`unable to 'git clone' to temporary context directory: invalid refspec: ${ref}`);
  const shallow = await supportsShallowClone(remote);
  const root = mkdtempSync(`${tmpdir()}/docker-build-git`);
  /** gitWithinDir; a failure reads as Go's wrapped exec error: `<what>: <combined output>: exit status N`. */
  const git = (what: string, dir: string, ...args: string[]): void => {
    const r = spawnSync('git', [...(dir === root && args[0] !== 'submodule' ? ['-c', 'protocol.file.allow=never'] : []), ...args],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_PROTOCOL_FROM_USER: '0', GIT_TERMINAL_PROMPT: '0' } });
    if (r.status !== 0) throw new Error(`${what}: ${r.stdout ?? ''}${r.stderr ?? ''}: exit status ${r.status ?? 1}`);
  };
  try {
    git(`failed to init repo at ${root}`, root, 'init');
    git(`failed add origin repo at ${remote}`, root, 'remote', 'add', 'origin', remote);
    git('error fetching', root, 'fetch', ...(shallow ? ['--depth', '1'] : []), 'origin', '--', ref);
    try { git(`error checking out ${ref}`, root, 'checkout', ref); } catch (e) {
      try { git('', root, 'checkout', 'FETCH_HEAD'); } catch { throw e; }
    }
    let dir = root;
    if (subdir) {
      dir = resolve(root, subdir);
      let real: string;
      try { real = realpathSync(dir); } catch (e) { throw new Error(goPathError('stat', dir, e)); }
      if (real !== realpathSync(root) && !real.startsWith(`${realpathSync(root)}/`)) throw new Error(`error setting git context, ${JSON.stringify(subdir)} not within git root`);
      if (!statSync(real).isDirectory()) throw new Error(`error setting git context, not a directory: ${dir}`);
    }
    git('error initializing submodules', root, 'submodule', 'update', '--init', '--recursive', '--depth=1');
    return { root, dir };
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw prepare(`unable to 'git clone' to temporary context directory: ${(e as Error).message}`);
  }
}
