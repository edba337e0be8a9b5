/**
 * Layers in Docker's overlay2 layout.
 *   <root>/image/layerdb/sha256/<chainID>/{diff,size,cache-id,parent}   read-only layers
 *   <root>/image/layerdb/mounts/<container>/{mount-id,init-id,parent}    container rw layers
 *   <root>/overlay2/<cache-id>/{diff/,link,lower,work/,committed}         layer contents
 *   <root>/overlay2/l/<26 chars> -> ../<cache-id>/diff                    short names for mount options
 *   <root>/overlay2/<mount-id>{,-init}/…                                  a container's rw and init layers
 * A layer is unpacked into `<root>/overlay2/.tmp-*`, renamed into place, and only then made known by
 * renaming its layerdb dir into place (written last). Anything without a layerdb entry is garbage and
 * is collected at start-up.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  mkdirSync, readdirSync, readFileSync, writeFileSync, renameSync, rmSync, symlinkSync, existsSync, lstatSync, readlinkSync, statSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { newId, run, runInHelper, SystemError, NotFoundError, errno } from '../lib/index.ts';

export interface LayerRecord {
  chainId: string;
  diffId: string;
  /** Chain ID of the parent layer, or ''. */
  parent: string;
  cacheId: string;
  size: number;
}

export interface RwLayer {
  containerId: string;
  mountId: string;
  /** Chain ID of the image's top layer, or '' for scratch. */
  parent: string;
}

export interface BlobInfo { digest: string; mediaType: string; size: number }

export function chainIdOf(parentChain: string, diffId: string): string {
  if (!parentChain) return diffId;
  return 'sha256:' + createHash('sha256').update(`${parentChain} ${diffId}`).digest('hex');
}

/** The chain IDs of a list of diff IDs (OCI image spec). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  let prev = '';
  for (const d of diffIds) {
    prev = chainIdOf(prev, d);
    out.push(prev);
  }
  return out;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** 26 base32 characters from 16 random bytes, as overlay2's short link names. */
function shortLinkName(): string {
  const b = randomBytes(17);
  let bits = 0;
  let acc = 0;
  let out = '';
  for (const byte of b) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 26) {
      out += BASE32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, value] of Object.entries(files)) writeFileSync(join(dir, name), value);
}

export class LayerStore {
  readonly dbDir: string;
  readonly mountsDir: string;
  readonly overlayDir: string;
  readonly distDir: string;
  readonly layers = new Map<string, LayerRecord>();
  readonly rw = new Map<string, RwLayer>();

  constructor(root: string) {
    this.dbDir = join(root, 'image', 'layerdb', 'sha256');
    this.mountsDir = join(root, 'image', 'layerdb', 'mounts');
    this.overlayDir = join(root, 'overlay2');
    this.distDir = join(root, 'image', 'distribution', 'blob-by-diffid', 'sha256');
  }

  async init(): Promise<void> {
    for (const d of [this.dbDir, this.mountsDir, join(this.overlayDir, 'l'), this.distDir, join(this.dbDir, '..', 'tmp')]) mkdirSync(d, { recursive: true });
    rmSync(join(this.dbDir, '..', 'tmp'), { recursive: true, force: true });
    mkdirSync(join(this.dbDir, '..', 'tmp'));
    const known = new Set<string>();
    for (const hex of readdirSync(this.dbDir)) {
      const dir = join(this.dbDir, hex);
      try {
        const rec: LayerRecord = {
          chainId: 'sha256:' + hex,
          diffId: readFileSync(join(dir, 'diff'), 'utf8').trim(),
          parent: existsSync(join(dir, 'parent')) ? readFileSync(join(dir, 'parent'), 'utf8').trim() : '',
          cacheId: readFileSync(join(dir, 'cache-id'), 'utf8').trim(),
          size: Number(readFileSync(join(dir, 'size'), 'utf8').trim()),
        };
        if (!/^sha256:[a-f0-9]{64}$/.test(rec.diffId) || !/^[a-f0-9]{64}$/.test(rec.cacheId) || !Number.isFinite(rec.size) || !existsSync(join(this.overlayDir, rec.cacheId, 'diff'))) {
          throw new Error('incomplete layer record');
        }
        this.layers.set(rec.chainId, rec);
        known.add(rec.cacheId);
      } catch {
        rmSync(dir, { recursive: true, force: true }); // incomplete entry
      }
    }
    for (const cid of readdirSync(this.mountsDir)) {
      const dir = join(this.mountsDir, cid);
      try {
        const mountId = readFileSync(join(dir, 'mount-id'), 'utf8').trim();
        const parent = existsSync(join(dir, 'parent')) ? readFileSync(join(dir, 'parent'), 'utf8').trim() : '';
        this.rw.set(cid, { containerId: cid, mountId, parent });
        known.add(mountId);
        known.add(mountId + '-init');
      } catch {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    // Garbage from interrupted operations: unknown overlay dirs and dangling short links.
    for (const name of readdirSync(this.overlayDir)) {
      if (name === 'l' || known.has(name)) continue;
      rmSync(join(this.overlayDir, name), { recursive: true, force: true });
    }
    const l = join(this.overlayDir, 'l');
    for (const name of readdirSync(l)) {
      const target = readlinkSync(join(l, name));
      const m = /^\.\.\/([^/]+)\/diff$/.exec(target);
      if (!m || !known.has(m[1]!)) rmSync(join(l, name), { force: true });
    }
  }

  get(chainId: string): LayerRecord | undefined {
    return this.layers.get(chainId);
  }

  /** Layers from this one down to the base (top first). */
  chain(chainId: string): LayerRecord[] {
    const out: LayerRecord[] = [];
    let cur = chainId;
    while (cur) {
      const rec = this.layers.get(cur);
      if (!rec) throw new NotFoundError(`layer ${cur} not found`);
      out.push(rec);
      cur = rec.parent;
    }
    return out;
  }

  diffPath(cacheId: string): string {
    return join(this.overlayDir, cacheId, 'diff');
  }

  /** A scratch dir to unpack a layer into: `<dir>/diff` is the target, `<dir>/whiteout` a scratch node path. */
  prepare(): { dir: string; diff: string; whiteout: string } {
    const dir = join(this.overlayDir, '.tmp-' + randomBytes(8).toString('hex'));
    mkdirSync(join(dir, 'diff'), { recursive: true, mode: 0o755 });
    return { dir, diff: join(dir, 'diff'), whiteout: join(dir, 'whiteout') };
  }

  discard(tmpDir: string): void {
    rmSync(tmpDir, { recursive: true, force: true });
  }

  #readLink(cacheId: string): string {
    return readFileSync(join(this.overlayDir, cacheId, 'link'), 'utf8').trim();
  }

  /** `l/A:l/B:…` for the lower layers of a layer whose parent is `parent` (top first). */
  #lowerOf(parent: string): string {
    return parent ? this.chain(parent).map((r) => 'l/' + this.#readLink(r.cacheId)).join(':') : '';
  }

  /** Move an unpacked tmp dir into place and record the layer. Idempotent for an already known chain. */
  commit(tmpDir: string, diffId: string, parent: string, size: number, blob?: BlobInfo): LayerRecord {
    const chainId = chainIdOf(parent, diffId);
    const have = this.layers.get(chainId);
    if (have) { this.discard(tmpDir); return have; }
    if (parent && !this.layers.has(parent)) throw new NotFoundError(`layer ${parent} not found`);
    const cacheId = newId();
    const link = shortLinkName();
    const lower = this.#lowerOf(parent);
    writeFiles(tmpDir, { link, committed: '' });
    if (lower) {
      writeFiles(tmpDir, { lower });
      mkdirSync(join(tmpDir, 'work'), { mode: 0o700 });
    }
    rmSync(join(tmpDir, 'whiteout'), { force: true });
    const dir = join(this.overlayDir, cacheId);
    renameSync(tmpDir, dir);
    symlinkSync(`../${cacheId}/diff`, join(this.overlayDir, 'l', link));
    if (blob) this.setBlob(diffId, blob);
    // layerdb last: written aside, then renamed into place.
    const tmpDb = join(this.dbDir, '..', 'tmp', randomBytes(8).toString('hex'));
    mkdirSync(tmpDb);
    writeFiles(tmpDb, { diff: diffId, size: String(size), 'cache-id': cacheId, ...(parent ? { parent } : {}) });
    renameSync(tmpDb, join(this.dbDir, chainId.slice(7)));
    const rec: LayerRecord = { chainId, diffId, parent, cacheId, size };
    this.layers.set(chainId, rec);
    return rec;
  }

  /** Forget and delete one layer (callers check that nothing uses it). */
  remove(chainId: string): void {
    const rec = this.layers.get(chainId);
    if (!rec) return;
    const tmpDb = join(this.dbDir, '..', 'tmp', randomBytes(8).toString('hex'));
    renameSync(join(this.dbDir, chainId.slice(7)), tmpDb);
    this.layers.delete(chainId);
    this.#removeOverlayDir(rec.cacheId);
    rmSync(tmpDb, { recursive: true, force: true });
  }

  #removeOverlayDir(cacheId: string): void {
    try {
      rmSync(join(this.overlayDir, 'l', this.#readLink(cacheId)), { force: true });
    } catch { /* no link file */ }
    rmSync(join(this.overlayDir, cacheId), { recursive: true, force: true });
  }

  // --- compressed blobs kept for save/push ---------------------------------------------------
  setBlob(diffId: string, blob: BlobInfo): void {
    writeFileSync(join(this.distDir, diffId.slice(7)), JSON.stringify(blob));
  }

  async getBlob(diffId: string): Promise<BlobInfo | undefined> {
    try {
      return JSON.parse(await readFile(join(this.distDir, diffId.slice(7)), 'utf8')) as BlobInfo;
    } catch (e) {
      if (errno(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  // --- container rw layers ---------------------------------------------------------------------
  /**
   * A container's layers, as overlay2 makes them: `<id>-init` (the files Docker pre-creates in every
   * container: /.dockerenv, mount targets for /dev and /etc files) on top of the image, and `<id>` above it.
   */
  createRw(containerId: string, parent: string): RwLayer {
    if (this.rw.has(containerId)) return this.rw.get(containerId)!;
    const mountId = newId();
    const initId = mountId + '-init';
    const parentLower = this.#lowerOf(parent);
    const made: string[] = [];
    try {
      const initLink = this.#makeLayerDir(initId, parentLower, made, (diff) => {
        for (const d of ['dev', 'dev/pts', 'dev/shm', 'etc']) mkdirSync(join(diff, d), { mode: 0o755 });
        for (const f of ['.dockerenv', 'dev/console', 'etc/hostname', 'etc/hosts', 'etc/resolv.conf']) writeFileSync(join(diff, f), '', { mode: 0o755 });
        symlinkSync('/proc/mounts', join(diff, 'etc/mtab'));
      });
      writeFileSync(join(this.overlayDir, initId, 'committed'), '', { mode: 0o600 });
      this.#makeLayerDir(mountId, `l/${initLink}` + (parentLower ? ':' + parentLower : ''), made, () => {}, true);
      const tmpDb = join(this.dbDir, '..', 'tmp', randomBytes(8).toString('hex'));
      mkdirSync(tmpDb);
      writeFiles(tmpDb, { 'mount-id': mountId, 'init-id': initId, ...(parent ? { parent } : {}) });
      renameSync(tmpDb, join(this.mountsDir, containerId));
    } catch (e) {
      for (const id of made) this.#removeOverlayDir(id);
      throw e;
    }
    const rw = { containerId, mountId, parent };
    this.rw.set(containerId, rw);
    return rw;
  }

  /** Make `<overlay2>/<id>/{diff,link,lower,work[,merged]}` and its short link; returns the link name. */
  #makeLayerDir(id: string, lower: string, made: string[], fill: (diff: string) => void, merged = false): string {
    const link = shortLinkName();
    const tmp = join(this.overlayDir, '.tmp-' + randomBytes(8).toString('hex'));
    mkdirSync(join(tmp, 'diff'), { recursive: true, mode: 0o755 });
    mkdirSync(join(tmp, 'work'), { mode: 0o700 });
    if (merged) mkdirSync(join(tmp, 'merged'), { mode: 0o700 });
    fill(join(tmp, 'diff'));
    writeFiles(tmp, { link });
    if (lower) writeFiles(tmp, { lower });
    renameSync(tmp, join(this.overlayDir, id));
    made.push(id);
    symlinkSync(`../${id}/diff`, join(this.overlayDir, 'l', link));
    return link;
  }

  getRw(containerId: string): RwLayer {
    const rw = this.rw.get(containerId);
    if (!rw) throw new NotFoundError(`no read-write layer for container ${containerId}`);
    return rw;
  }

  lowerFile(mountId: string): string {
    try {
      return readFileSync(join(this.overlayDir, mountId, 'lower'), 'utf8').trim();
    } catch (e) {
      if (errno(e) === 'ENOENT') return '';
      throw e;
    }
  }

  removeRw(containerId: string): void {
    const rw = this.rw.get(containerId);
    if (!rw) return;
    const tmpDb = join(this.dbDir, '..', 'tmp', randomBytes(8).toString('hex'));
    renameSync(join(this.mountsDir, containerId), tmpDb);
    this.rw.delete(containerId);
    this.#removeOverlayDir(rw.mountId);
    this.#removeOverlayDir(rw.mountId + '-init');
    rmSync(tmpDb, { recursive: true, force: true });
  }
}

/**
 * Mount points in this process's mount namespace. Read synchronously: the kernel renders mountinfo in
 * microseconds, while a thread-pool round trip costs milliseconds when many containers start or stop at once.
 */
function mountPoints(): Set<string> {
  const info = readFileSync('/proc/self/mountinfo', 'utf8');
  const out = new Set<string>();
  for (const line of info.split('\n')) {
    const f = line.split(' ');
    if (f.length > 4) out.add(f[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

/** A directory with a filesystem mounted on it (an overlay) has another device than its parent: stat answers in µs. */
function onOtherDevice(path: string): boolean {
  try {
    return statSync(path).dev !== statSync(dirname(path)).dev;
  } catch {
    return false;
  }
}

/** Is `path` a mount point in this process's mount namespace? */
export async function isMountPoint(path: string): Promise<boolean> {
  return mountPoints().has(path);
}

export async function mountOverlay(overlayDir: string, mountId: string, lower: string): Promise<void> {
  const opts = [`lowerdir=${lower}`, `upperdir=${mountId}/diff`, `workdir=${mountId}/work`];
  if (existsSync('/sys/module/overlay/parameters/index')) opts.push('index=off');
  await run('mount', ['-t', 'overlay', 'overlay', '-o', opts.join(','), join(mountId, 'merged')], { cwd: overlayDir });
}

/**
 * Unmounts asked for while an `umount` runs wait and go together in the next one (`umount a b c`): a parallel
 * removal of many containers forks a handful of times, not once per container (each fork of the daemon blocks
 * its event loop for milliseconds). A lone unmount starts at once. `umount` runs in the shell helper, so even that
 * one fork happens off the daemon's thread (exit → auto-removed of a --rm container waits for it).
 */
const unmountQueue: { path: string; done: (err?: Error) => void }[] = [];
let unmounting = false;

async function drainUnmounts(): Promise<void> {
  unmounting = true;
  try {
    while (unmountQueue.length > 0) {
      const batch = unmountQueue.splice(0);
      const paths = [...new Set(batch.map((b) => b.path))];
      try {
        const r = await runInHelper('umount', paths);
        const still = r.code === 0 ? undefined : mountPoints();
        const errLines = r.output.trim().split('\n');
        for (const b of batch) {
          if (!still?.has(b.path)) b.done();
          else b.done(new SystemError(`umount ${b.path}: ${(errLines.find((l) => l.includes(b.path)) ?? r.output).trim()}`));
        }
      } catch (e) {
        for (const b of batch) b.done(e as Error);
      }
    }
  } finally {
    unmounting = false;
  }
}

export async function unmount(path: string): Promise<void> {
  if (!onOtherDevice(path) && !(await isMountPoint(path))) return;
  await new Promise<void>((resolve, reject) => {
    unmountQueue.push({ path, done: (err) => (err ? reject(err) : resolve()) });
    if (!unmounting) void drainUnmounts();
  });
}

/** Bytes under a directory, Docker's directory.Size (files and symlinks, hardlinks once, dirs not counted). */
export async function dirSize(dir: string): Promise<number> {
  const seen = new Set<number>();
  let total = 0;
  const walk = (d: string): void => {
    let names: string[];
    try { names = readdirSync(d); } catch { return; }
    for (const n of names) {
      const p = join(d, n);
      let st;
      try { st = lstatSync(p); } catch { continue; }
      if (st.isDirectory()) { walk(p); continue; }
      if (st.size === 0 || seen.has(st.ino)) continue;
      seen.add(st.ino);
      total += st.size;
    }
  };
  walk(dir);
  return total;
}
