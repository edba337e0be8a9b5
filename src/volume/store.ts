/**
 * The local volume driver: `<data-root>/volumes/<name>/_data` is the Mountpoint, `<name>/volume.json` the
 * metadata (written before the directory gets its name, so a volume exists whole or not at all). Volumes
 * created with `type`/`device`/`o` options are mounted on their first user and unmounted after the last.
 */
import { lstat, mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ConflictError, InvalidArgumentError, NotFoundError, SystemError, KeyedMutex, atomicWriteJson, errno, log, newId, readJson, removeAll,
  runInHelper,
} from '../lib/index.ts';

export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  /** RFC 3339, seconds, UTC. */
  CreatedAt: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
  Scope: 'local';
}

export interface CreateVolumeOptions {
  /** '' or absent: an anonymous volume with a random 64-hex name. */
  name?: string;
  driver?: string;
  driverOpts?: Record<string, string> | null;
  labels?: Record<string, string> | null;
}

interface Meta { Name: string; Driver: string; CreatedAt: string; Labels: Record<string, string> | null; Options: Record<string, string> | null }

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const VALID_OPTS = new Set(['type', 'device', 'o', 'size']);
const REQUIRED_OPTS: Record<string, string[]> = { device: ['type'], type: ['device'], o: ['device', 'type'] };
const META = 'volume.json';

/** Docker's local-driver name check; the message without the `create <name>: ` prefix. */
export function volumeNameError(name: string): string | undefined {
  if (name.length === 1) return 'volume name is too short, names should be at least two alphanumeric characters';
  if (!NAME_RE.test(name)) {
    return `${JSON.stringify(name)} includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`;
  }
  return undefined;
}

function optsError(opts: Record<string, string>): string | undefined {
  for (const k of Object.keys(opts)) if (!VALID_OPTS.has(k)) return `invalid option: ${JSON.stringify(k)}`;
  if ('size' in opts) return 'quota size requested but no quota support';
  for (const [k, req] of Object.entries(REQUIRED_OPTS)) {
    if (!(k in opts)) continue;
    for (const r of req) if (!(r in opts)) return `missing required option: ${JSON.stringify(r)}`;
  }
  return undefined;
}

function rfc3339Seconds(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

const MS_FLAGS: Record<string, number> = { ro: 0x1, nosuid: 0x2, nodev: 0x4, noexec: 0x8, sync: 0x10, bind: 0x1000, rbind: 0x5000, noatime: 0x400 };

/** mount(8) the volume's device; returns Docker's error text (`mount <dev>:<path>, flags: 0x…: <errno>`) on failure. */
async function mountDevice(type: string, device: string, path: string, opts: string): Promise<string | undefined> {
  const flags = opts.split(',').reduce((f, o) => f | (MS_FLAGS[o] ?? 0), 0);
  const head = `mount ${device}:${path}, flags: 0x${flags.toString(16)}`;
  if (device.startsWith('/') && (flags & 0x1000) && !(await lstat(device).catch(() => undefined))) return `${head}: no such file or directory`;
  const r = await runInHelper('mount', ['-t', type, ...(opts ? ['-o', opts] : []), device, path]);
  return r.code === 0 ? undefined : `${head}: ${r.output.trim().replace(/^mount: /, '').split('\n')[0]}`;
}

/** Is `path` a mount point (per /proc/self/mountinfo, whose paths escape blanks as octal)? */
async function isMountPoint(path: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return info.split('\n').some((l) => l.split(' ')[4]?.replace(/\\(\d{3})/g, (_x, o: string) => String.fromCharCode(parseInt(o, 8))) === path);
}

export class VolumeStore {
  readonly root: string;
  #vols = new Map<string, Meta>();
  #users = new Map<string, Set<string>>();
  #ready: Promise<void> | undefined;
  #mutex = new KeyedMutex();

  /** `root` is `<data-root>/volumes`. */
  constructor(root: string) {
    this.root = root;
  }

  #load(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(this.root, { recursive: true, mode: 0o701 });
      for (const n of await readdir(this.root)) {
        if (n.startsWith('.')) {
          // a create or remove that a crash interrupted
          await removeAll(join(this.root, n)).catch((err: unknown) => log().warn({ err, n }, 'cannot clear a volume leftover'));
          continue;
        }
        const m = await readJson<Meta>(join(this.root, n, META)).catch(() => undefined);
        if (m && m.Name === n) this.#vols.set(n, m);
        else log().warn({ name: n }, 'skipping a volume directory without metadata');
      }
    })();
    return this.#ready;
  }

  #view(m: Meta): Volume {
    return {
      Name: m.Name, Driver: m.Driver, Mountpoint: this.path(m.Name), CreatedAt: m.CreatedAt, Labels: m.Labels, Options: m.Options, Scope: 'local',
    };
  }

  /** The volume's Mountpoint (`<root>/<name>/_data`). */
  path(name: string): string {
    return join(this.root, name, '_data');
  }

  /** Create a volume; an existing name returns that volume unchanged (`created: false`). */
  async create(o: CreateVolumeOptions = {}): Promise<{ volume: Volume; created: boolean }> {
    await this.#load();
    const name = o.name || newId();
    const driver = o.driver || 'local';
    if (driver !== 'local') throw new NotFoundError(`create ${name}: error looking up volume plugin ${driver}: plugin ${JSON.stringify(driver)} not found`);
    const bad = volumeNameError(name) ?? optsError(o.driverOpts ?? {});
    if (bad) throw new InvalidArgumentError(`create ${name}: ${bad}`);
    return this.#mutex.run(name, async () => {
      const have = this.#vols.get(name);
      if (have) return { volume: this.#view(have), created: false };
      const m: Meta = { Name: name, Driver: driver, CreatedAt: rfc3339Seconds(new Date()), Labels: o.labels ?? null, Options: o.driverOpts ?? null };
      const tmp = join(this.root, `.create-${name}-${newId().slice(0, 8)}`);
      try {
        await mkdir(join(tmp, '_data'), { recursive: true, mode: 0o755 });
        await atomicWriteJson(join(tmp, META), m, 0o600);
        await rename(tmp, join(this.root, name));
      } catch (err) {
        await removeAll(tmp).catch(() => {});
        throw new SystemError(`create ${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
      this.#vols.set(name, m);
      return { volume: this.#view(m), created: true };
    });
  }

  /** NotFoundError `get <name>: no such volume`. */
  async get(name: string): Promise<Volume> {
    await this.#load();
    const m = this.#vols.get(name);
    if (!m) throw new NotFoundError(`get ${name}: no such volume`);
    return this.#view(m);
  }

  async list(): Promise<Volume[]> {
    await this.#load();
    return [...this.#vols.values()].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0)).map((m) => this.#view(m));
  }

  /** Remove a volume (the caller has checked that no container refers to it). */
  async remove(name: string): Promise<void> {
    await this.#load();
    await this.#mutex.run(name, async () => {
      if (!this.#vols.has(name)) throw new NotFoundError(`get ${name}: no such volume`);
      if (this.#users.get(name)?.size) throw new ConflictError(`remove ${name}: volume is in use - [${[...this.#users.get(name)!].join(', ')}]`);
      // never delete through a mount (a bind-backed volume would take the host directory's files with it)
      const p = this.path(name);
      if (await isMountPoint(p)) {
        await runInHelper('umount', [p]);
        if (await isMountPoint(p)) throw new SystemError(`remove ${name}: volume is still mounted at ${p}`);
      }
      const trash = join(this.root, `.remove-${name}-${newId().slice(0, 8)}`);
      try {
        await rename(join(this.root, name), trash);
      } catch (err) {
        if (errno(err) !== 'ENOENT') throw new SystemError(`remove ${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
      this.#vols.delete(name);
      await removeAll(trash).catch((err: unknown) => log().warn({ err, name }, 'cannot remove a volume directory'));
    });
  }

  /** Bytes used by the volume's files (hard links counted once). */
  async size(name: string): Promise<number> {
    const seen = new Set<string>();
    const walk = async (p: string): Promise<number> => {
      let total = 0;
      const entries = await readdir(p, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const q = join(p, e.name);
        if (e.isDirectory()) { total += await walk(q); continue; }
        const st = await lstat(q).catch(() => undefined);
        if (!st) continue;
        const key = `${st.dev}:${st.ino}`;
        if (st.nlink > 1) { if (seen.has(key)) continue; seen.add(key); }
        total += st.size;
      }
      return total;
    };
    return walk(this.path(name));
  }

  /** Take the volume for `user` (a container ID); the first user mounts a volume with mount options. Returns its path. */
  async mount(name: string, user: string): Promise<string> {
    await this.#load();
    return this.#mutex.run(name, async () => {
      const m = this.#vols.get(name);
      if (!m) throw new NotFoundError(`get ${name}: no such volume`);
      const users = this.#users.get(name) ?? new Set();
      const p = this.path(name);
      // (a mount left by a daemon that died with the volume in use is taken over, not stacked)
      if (users.size === 0 && m.Options?.type && !(await isMountPoint(p))) {
        const o = m.Options;
        if (!o.device) throw new SystemError('missing device in volume options');
        const why = await mountDevice(o.type!, o.device, p, o.o ?? '');
        if (why) throw new SystemError(`failed to mount local volume: ${why}`);
      }
      users.add(user);
      this.#users.set(name, users);
      return p;
    });
  }

  /** Give the volume back; the last user unmounts it. */
  async unmount(name: string, user: string): Promise<void> {
    await this.#load();
    await this.#mutex.run(name, async () => {
      const users = this.#users.get(name);
      if (!users?.delete(user)) return;
      if (users.size) return;
      this.#users.delete(name);
      const m = this.#vols.get(name);
      if (!m?.Options?.type) return;
      const r = await runInHelper('umount', [this.path(name)]);
      if (r.code !== 0) {
        const lazy = await runInHelper('umount', ['-l', this.path(name)]);
        if (lazy.code !== 0) log().warn({ name, output: r.output }, 'cannot unmount a volume');
      }
    });
  }

  /** Count `user` as holding the volume without mounting it (a container still running across a daemon restart). */
  adopt(name: string, user: string): void {
    const users = this.#users.get(name) ?? new Set();
    users.add(user);
    this.#users.set(name, users);
  }
}
