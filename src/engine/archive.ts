/**
 * The archive API (docker cp: HEAD/GET/PUT /containers/{id}/archive) and the changes list (docker diff),
 * on a container's filesystem as the container sees it: the merged rootfs plus its bind mounts
 * (/etc/hosts, /etc/hostname, /etc/resolv.conf once started, volumes), with paths resolved in its scope
 * (daemon/archive.go, container/archive.go, pkg/archive/changes.go of moby 20.10).
 */
import { existsSync, lstatSync, readdirSync, readFileSync, type BigIntStats, type Stats } from 'node:fs';
import { mkdir, mkdtemp, rmdir } from 'node:fs/promises';
import { posix, join, dirname, basename } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import {
  InvalidArgumentError, SystemError, ScopedFs, errno, extractTar, goClean, goPathError, packPath, preserveTrailingDotOrSeparator,
  run as runTool, type ViewMount,
} from '../lib/index.ts';
import type { Container } from './model.ts';
import { rfc3339Nano } from './time.ts';

/** types.ContainerPathStat: what HEAD puts, base64 JSON, in X-Docker-Container-Path-Stat. */
export interface PathStat {
  name: string;
  size: number;
  /** A Go os.FileMode. */
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** archive.Change; Kind 0 = modified, 1 = added, 2 = deleted. */
export interface Change { Path: string; Kind: 0 | 1 | 2 }

const S_IFMT = 0o170000;
const GO = {
  dir: 2 ** 31, symlink: 2 ** 27, device: 2 ** 26, pipe: 2 ** 25, socket: 2 ** 24, setuid: 2 ** 23, setgid: 2 ** 22, char: 2 ** 21, sticky: 2 ** 20,
};

/** A stat mode as Go's os.FileMode (type bits high, permissions low). */
export function goFileMode(mode: number): number {
  let m = mode & 0o777;
  switch (mode & S_IFMT) {
    case 0o040000: m += GO.dir; break;
    case 0o120000: m += GO.symlink; break;
    case 0o060000: m += GO.device; break;
    case 0o020000: m += GO.device + GO.char; break;
    case 0o010000: m += GO.pipe; break;
    case 0o140000: m += GO.socket; break;
  }
  if (mode & 0o4000) m += GO.setuid;
  if (mode & 0o2000) m += GO.setgid;
  if (mode & 0o1000) m += GO.sticky;
  return m;
}

/** Go's filepath.Base: '/' for the root, trailing slashes ignored. */
export function goBase(p: string): string {
  if (p === '') return '.';
  const t = p.replace(/\/+$/, '');
  if (t === '') return '/';
  return t.slice(t.lastIndexOf('/') + 1);
}

export interface ContainerMount extends ViewMount { rw: boolean }

/** What the container sees on top of its rootfs: network files once started, bind mounts and volumes. */
export function containerMounts(c: Container): ContainerMount[] {
  const out: ContainerMount[] = [];
  const seen = new Set<string>();
  const add = (destination: string, source: string, rw: boolean) => {
    const d = goClean(posix.join('/', destination));
    if (!source || seen.has(d)) return;
    seen.add(d);
    out.push({ destination: d, source, rw });
  };
  for (const m of Object.values(c.MountPoints ?? {})) if (m.Type !== 'tmpfs' && m.Source) add(m.Destination, m.Source, m.RW);
  for (const b of c.HostConfig.Binds ?? []) {
    const [src = '', dst = '', mode = ''] = b.split(':');
    if (src.startsWith('/') && dst) add(dst, src, !mode.split(',').includes('ro'));
  }
  for (const [dest, p] of [['/etc/resolv.conf', c.ResolvConfPath], ['/etc/hostname', c.HostnamePath], ['/etc/hosts', c.HostsPath]] as const) {
    if (p && existsSync(p) && !seen.has(dest)) add(dest, p, true);
  }
  return out;
}

export function containerView(rootfs: string, c: Container): { fs: ScopedFs; mounts: ContainerMount[] } {
  const mounts = containerMounts(c);
  return { fs: new ScopedFs(rootfs, mounts), mounts };
}

function bigStat(fs: ScopedFs, view: string): BigIntStats {
  try {
    return lstatSync(fs.host(view), { bigint: true });
  } catch (err) {
    throw goPathError(err);
  }
}

/** A path that asserts a directory (`/x/`, `/x/.`) is looked up with its last element resolved too. */
function lookup(fs: ScopedFs, resolved: string): string {
  if (resolved.endsWith('/') || goBase(resolved) === '.') {
    const full = fs.resolve(resolved);
    const st = fs.lstat(full);
    if (!st.isDirectory()) throw Object.assign(new Error(`lstat ${resolved}: not a directory`), { code: 'ENOTDIR' });
    return full;
  }
  return resolved;
}

/** container.StatPath: lstat of the path (last element not followed); a symlink's target fully resolved in scope. */
export function statPath(fs: ScopedFs, path: string): { stat: PathStat; found: string; abs: string } {
  const { resolved, abs } = fs.resolvePath(path);
  const found = lookup(fs, resolved);
  const st = bigStat(fs, found);
  const mode = Number(st.mode);
  const symlink = (mode & S_IFMT) === 0o120000;
  return {
    stat: { name: goBase(abs), size: Number(st.size), mode: goFileMode(mode), mtime: rfc3339Nano(st.mtimeNs), linkTarget: symlink ? fs.resolve(abs) : '' },
    found,
    abs,
  };
}

let userNames: { users: Map<number, string>; groups: Map<number, string> } | undefined;

/** uid/gid → names from the daemon host's databases, as Go's tar.FileInfoHeader fills them. */
function hostNames(uid: number, gid: number): { uname: string; gname: string } {
  if (!userNames) {
    const read = (f: string) => {
      const m = new Map<number, string>();
      try {
        for (const l of readFileSync(f, 'utf8').split('\n')) {
          const p = l.split(':');
          if (p.length > 2 && /^\d+$/.test(p[2]!) && !m.has(Number(p[2]))) m.set(Number(p[2]), p[0]!);
        }
      } catch { /* none */ }
      return m;
    };
    userNames = { users: read('/etc/passwd'), groups: read('/etc/group') };
  }
  return { uname: userNames.users.get(uid) ?? '', gname: userNames.groups.get(gid) ?? '' };
}

/** GET archive: the tar of a path, its top entry named after the path's base name (containerArchivePath). */
export async function writeArchive(fs: ScopedFs, found: string, abs: string, out: Writable): Promise<void> {
  const r = goClean(found);
  let dir: string;
  let base: string;
  if (r === '/') { dir = '/'; base = '.'; } else { dir = posix.dirname(r); base = posix.basename(r); }
  await packPath(fs, { dir, base, rebase: goBase(abs), names: hostNames }, out);
}

export interface ExtractOpts {
  noOverwriteDirNonDir: boolean;
  /** copyUIDGID: everything owned by the container's user (Config.User), else the archive's owners. */
  copyUIDGID: boolean;
}

/** The container user's uid/gid from its own /etc/passwd and /etc/group (numeric values as they are). */
export function lookupUser(fs: ScopedFs, user: string): { uid: number; gid: number } {
  const [u = '', g] = user.split(':');
  const table = (f: string) => {
    try { return readFileSync(fs.host(fs.resolve(f)), 'utf8').split('\n').map((l) => l.split(':')); } catch { return []; }
  };
  const passwd = table('/etc/passwd');
  let uid: number, gid: number;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    gid = Number(passwd.find((p) => p[2] === u)?.[3] ?? u);
  } else {
    const p = passwd.find((x) => x[0] === u);
    if (!p) throw new SystemError(`unable to find user ${u}: no matching entries in passwd file`);
    uid = Number(p[2]);
    gid = Number(p[3]);
  }
  if (g !== undefined && g !== '') {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const grp = table('/etc/group').find((x) => x[0] === g);
      if (!grp) throw new SystemError(`unable to find group ${g}: no matching entries in group file`);
      gid = Number(grp[2]);
    }
  }
  return { uid, gid };
}

/** PUT archive: extract into a directory of the container (containerExtractToDir). */
export async function extractToDir(fs: ScopedFs, c: Container, mounts: ContainerMount[], path: string, input: Readable, o: ExtractOpts): Promise<void> {
  const abs = preserveTrailingDotOrSeparator(goClean(posix.join('/', path)), path);
  const resolved = fs.resolve(abs);
  const st = fs.lstat(resolved);
  // 500 in Docker 20.10 (a plain error, not an invalid-parameter one)
  if (!st.isDirectory()) throw new InvalidArgumentError('extraction point is not a directory');
  const mount = mounts.filter((m) => resolved === m.destination || resolved.startsWith(m.destination + '/')).sort((a, b) => b.destination.length - a.destination.length)[0];
  if (mount && !mount.rw) throw new InvalidArgumentError('mounted volume is marked read-only');
  if (!mount && c.HostConfig.ReadonlyRootfs) throw new InvalidArgumentError('container rootfs is marked read-only');
  const chown = o.copyUIDGID && c.Config.User ? lookupUser(fs, c.Config.User) : undefined;
  try {
    await extractTar(input, fs, resolved, { noOverwriteDirNonDir: o.noOverwriteDirNonDir, ...(chown ? { chown } : {}) });
  } catch (err) {
    // dockerd untars in a chrooted child process and reports its failure this way
    throw new InvalidArgumentError(`Error processing tar file(exit status 1): ${err instanceof Error ? err.message : String(err)}`);
  }
}

// ───────────────────────── changes (docker diff) ─────────────────────────

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

/** Docker's statDifferent: mode, owner, rdev; for non-directories also mtime and size. */
function statDifferent(a: Stats, b: Stats): boolean {
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || a.rdev !== b.rdev) return true;
  if ((a.mode & S_IFMT) === 0o040000) return false;
  return a.mtimeMs !== b.mtimeMs || a.size !== b.size;
}

function tryLstat(p: string): Stats | undefined {
  try { return lstatSync(p); } catch (err) { if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return undefined; throw err; }
}

/** Directories of an upper layer that carry trusted.overlay.opaque=y (paths relative to it, with a leading '/'): one getfattr. */
export async function opaqueDirs(upper: string): Promise<Set<string>> {
  const out = new Set<string>();
  const r = await runTool('getfattr', ['-R', '-P', '-h', '--absolute-names', '-d', '-m', '^trusted\\.overlay\\.opaque$', '--', upper], { allowFailure: true });
  for (const block of r.stdout.split('\n\n')) {
    const m = /^# file: (.*)\ntrusted\.overlay\.opaque="y"/.exec(block.trim());
    if (m && m[1]!.startsWith(upper + '/')) out.add(unescapeGetfattr(m[1]!.slice(upper.length)));
  }
  return out;
}

/** getfattr writes unusual bytes in names as \ooo. */
function unescapeGetfattr(s: string): string {
  if (!s.includes('\\')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) { bytes.push(parseInt(s.slice(i + 1, i + 4), 8)); i += 3; } else bytes.push(...Buffer.from(s[i]!));
  }
  return Buffer.from(bytes).toString();
}

/**
 * The changes of an upper dir against the view of its lower layers (`lower`: a directory showing them
 * merged), as Docker's naive diff reports them: for each directory, its changed and added children (by name),
 * then its deleted ones; a directory with changes inside is listed as modified before them; an added directory
 * lists everything in it. Returns [] when nothing changed.
 */
export async function changes(upper: string, lower: string, opaqueSet?: Set<string>): Promise<Change[]> {
  const opaque = opaqueSet ?? await opaqueDirs(upper);
  const out: Change[] = [];
  const addAll = (rel: string) => {
    for (const n of sortedNames(join(upper, rel))) {
      const r = `${rel}/${n}`;
      const st = lstatSync(join(upper, r));
      if (isWhiteout(st)) continue;
      out.push({ Path: r, Kind: 1 });
      if (st.isDirectory()) addAll(r);
    }
  };
  const walk = (rel: string, lowerIsDir: boolean) => {
    const names = sortedNames(join(upper, rel));
    const deleted: string[] = [];
    for (const n of names) {
      const r = `${rel}/${n}`;
      const st = lstatSync(join(upper, r));
      const old = lowerIsDir ? tryLstat(join(lower, r)) : undefined;
      if (isWhiteout(st)) { if (old) deleted.push(r); continue; }
      if (!old) {
        out.push({ Path: r, Kind: 1 });
        if (st.isDirectory()) addAll(r);
        continue;
      }
      const at = out.length;
      const changed = statDifferent(old, st);
      if (changed) out.push({ Path: r, Kind: 0 });
      if (st.isDirectory()) {
        walk(r, old.isDirectory());
        if (!changed && out.length > at) out.splice(at, 0, { Path: r, Kind: 0 });
      }
    }
    if (lowerIsDir && opaque.has(rel || '/')) {
      const present = new Set(names);
      for (const n of sortedNames(join(lower, rel))) if (!present.has(n)) deleted.push(`${rel}/${n}`);
    }
    for (const r of deleted.sort()) out.push({ Path: r, Kind: 2 });
  };
  walk('', true);
  return out;
}

function sortedNames(dir: string): string[] {
  try {
    return readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  } catch {
    return [];
  }
}

/** Mount the lower layers read-only at `at` (overlay needs two lowers at least; one is used as it is). */
export async function mountLowerView(overlayDir: string, lower: string, at: string): Promise<{ dir: string; mounted: boolean }> {
  const parts = lower.split(':').filter(Boolean);
  if (parts.length === 0) return { dir: at, mounted: false };
  if (parts.length === 1) return { dir: join(overlayDir, parts[0]!), mounted: false };
  const r = await runTool('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${lower}`, at], { cwd: overlayDir, allowFailure: true });
  if (r.code !== 0) throw new SystemError(`mount lower layers: ${(r.stderr || r.stdout).trim()}`);
  return { dir: at, mounted: true };
}

/**
 * docker diff of a container from its overlay upper dir (`<overlay2>/<mount-id>/diff`): its lower layers
 * (the `lower` file next to it) are mounted read-only in a scratch dir under `tmpParent` for the comparison.
 */
export async function diffContainer(upperDir: string, tmpParent: string): Promise<Change[]> {
  const layerDir = dirname(upperDir);
  const overlayDir = dirname(layerDir);
  let lower = '';
  try { lower = readFileSync(join(overlayDir, basename(layerDir), 'lower'), 'utf8').trim(); } catch (err) { if (errno(err) !== 'ENOENT') throw err; }
  await mkdir(tmpParent, { recursive: true, mode: 0o700 });
  const at = await mkdtemp(join(tmpParent, 'diff-'));
  try {
    const [mounted, opaque] = await Promise.allSettled([mountLowerView(overlayDir, lower, at), opaqueDirs(upperDir)]);
    if (mounted.status === 'rejected') throw mounted.reason;
    const view = mounted.value;
    try {
      if (opaque.status === 'rejected') throw opaque.reason;
      return await changes(upperDir, view.dir, opaque.value);
    } finally {
      if (view.mounted) await runTool('umount', [at], { allowFailure: true });
    }
  } finally {
    await rmdir(at).catch(() => {});
  }
}
