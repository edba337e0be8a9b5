/**
 * Volumes in the engine: the /volumes API over the local store, and a container's mounts through its life
 * (dockerd's registerMountPoints at create, setupMounts at start, UnmountVolumes at exit, removeMountPoints
 * at rm), with Docker's volume events.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { posix } from 'node:path';
import { ConflictError, InvalidArgumentError, NotFoundError, SystemError, errno, log, newId } from '../lib/index.ts';
import {
  VolumeStore, parseBind, parseMountConfig, mergeTmpfsOptions, copyUp, DEFAULT_PROPAGATION,
  type Volume, type CreateVolumeOptions, type MountConfig, type ParsedMount,
} from '../volume/index.ts';
import type { Container, MountPoint } from './model.ts';

/** A mount for the OCI spec (runtime SpecOptions.mounts). */
export interface SpecMount { destination: string; source: string; type: 'bind' | 'tmpfs'; options: string[] }

/** What the engine keeps per mount point in config.v2.json (Docker's fields plus copy-up state). */
export interface StoredMountPoint extends MountPoint {
  Spec?: MountConfig;
  /** The image's content is still to be copied in (on the first start). */
  CopyData?: boolean;
  SkipMountpointCreation?: boolean;
  NonRecursive?: boolean;
  /** tmpfs data (`size=…,mode=…`) of a --mount type=tmpfs. */
  Data?: string;
}

export interface VolumeDeps {
  store: VolumeStore;
  /** Every container the engine knows. */
  containers: () => Iterable<Container>;
  /** Resolve a container reference (--volumes-from); throws NotFoundError. */
  container: (ref: string) => Container;
  emit: (action: string, id: string, attributes: Record<string, string>) => void;
}

export interface VolumePruneReport { VolumesDeleted: string[]; SpaceReclaimed: number }

const LIST_FILTERS = new Set(['dangling', 'name', 'driver', 'label']);
const PRUNE_FILTERS = new Set(['label', 'label!']);

function matchLabels(labels: Record<string, string> | null, wanted: string[]): boolean {
  const l = labels ?? {};
  return wanted.every((w) => {
    const i = w.indexOf('=');
    return i < 0 ? w in l : l[w.slice(0, i)] === w.slice(i + 1);
  });
}

function matchAny(values: string[], s: string): boolean {
  return values.some((v) => {
    try { return new RegExp(v).test(s); } catch { return s.includes(v); }
  });
}

/** Go's filepath.Clean for a container path. */
const cleanPath = (p: string): string => posix.normalize(p).replace(/(.)\/+$/, '$1');

export class Volumes {
  readonly #d: VolumeDeps;
  /** Containers whose volumes are mounted (started and not yet cleaned up). */
  readonly #active = new Map<string, string[]>();

  constructor(d: VolumeDeps) {
    this.#d = d;
  }

  get store(): VolumeStore { return this.#d.store; }

  /** IDs of the containers that refer to the volume (running or not). */
  users(name: string): string[] {
    const ids: string[] = [];
    for (const c of this.#d.containers()) {
      if (Object.values(c.MountPoints ?? {}).some((m) => m.Type === 'volume' && m.Name === name)) ids.push(c.ID);
    }
    return ids;
  }

  // ───────────────────────── API ─────────────────────────

  async list(filters: Record<string, string[]>): Promise<Volume[]> {
    for (const k of Object.keys(filters)) if (!LIST_FILTERS.has(k)) throw new InvalidArgumentError(`Invalid filter '${k}'`);
    let dangling: boolean | undefined;
    const d = filters.dangling ?? [];
    if (d.length) {
      if (d.some((v) => v === 'true' || v === '1')) dangling = true;
      else if (d.some((v) => v === 'false' || v === '0')) dangling = false;
      else throw new InvalidArgumentError(`Invalid filter 'dangling=[${d.join(' ')}]'`);
    }
    const inUse = dangling === undefined ? undefined : this.#inUse();
    return (await this.store.list()).filter((v) =>
      (dangling === undefined || inUse!.has(v.Name) !== dangling) &&
      (!filters.name?.length || matchAny(filters.name, v.Name)) &&
      (!filters.driver?.length || matchAny(filters.driver, v.Driver)) &&
      (!filters.label?.length || matchLabels(v.Labels, filters.label)));
  }

  #inUse(): Set<string> {
    const s = new Set<string>();
    for (const c of this.#d.containers()) for (const m of Object.values(c.MountPoints ?? {})) if (m.Type === 'volume' && m.Name) s.add(m.Name);
    return s;
  }

  inspect(name: string): Promise<Volume> {
    return this.store.get(name);
  }

  /** Create (or return the existing volume of that name) and log Docker's `create` event either way. */
  async create(o: CreateVolumeOptions): Promise<Volume> {
    const { volume } = await this.store.create(o);
    this.#d.emit('create', volume.Name, { driver: volume.Driver });
    return volume;
  }

  async remove(name: string, force: boolean): Promise<void> {
    let v: Volume;
    try {
      v = await this.store.get(name);
    } catch (err) {
      if (force && err instanceof NotFoundError) return;
      throw err;
    }
    const users = this.users(name);
    if (users.length) throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    await this.store.remove(name);
    this.#d.emit('destroy', name, { driver: v.Driver });
  }

  async prune(filters: Record<string, string[]>): Promise<VolumePruneReport> {
    for (const k of Object.keys(filters)) if (!PRUNE_FILTERS.has(k)) throw new InvalidArgumentError(`Invalid filter '${k}'`);
    const inUse = this.#inUse();
    // as dockerd: only local volumes without driver options (a bind- or NFS-backed volume is never pruned)
    const victims = (await this.store.list()).filter((v) =>
      !inUse.has(v.Name) && Object.keys(v.Options ?? {}).length === 0 && (!filters.label?.length || matchLabels(v.Labels, filters.label)) &&
      (!filters['label!']?.length || !filters['label!'].some((l) => matchLabels(v.Labels, [l]))));
    const deleted: string[] = [];
    let space = 0;
    for (const v of victims) {
      const size = await this.store.size(v.Name).catch(() => 0);
      try {
        await this.store.remove(v.Name);
      } catch (err) {
        log().warn({ err, name: v.Name }, 'volume prune: remove failed');
        continue;
      }
      this.#d.emit('destroy', v.Name, { driver: v.Driver });
      deleted.push(v.Name);
      space += size;
    }
    this.#d.emit('prune', '', { reclaimed: String(space) });
    return { VolumesDeleted: deleted, SpaceReclaimed: space };
  }

  // ───────────────────────── containers ─────────────────────────

  /**
   * At create: the container's mount points from --volumes-from, Binds, Mounts and the VOLUMEs of its config
   * (image + `-v /path`), in Docker's order and with its errors. Creates the volumes they name.
   */
  async register(c: Container): Promise<void> {
    const hc = c.HostConfig;
    const points = new Map<string, StoredMountPoint>();
    const taken = new Set<string>();
    const tmpfs = new Set(Object.keys(hc.Tmpfs ?? {}).map(cleanPath));
    const duplicate = (dest: string) => new InvalidArgumentError(`Duplicate mount point: ${dest}`);

    // parse everything first: a bad spec creates no volume
    const binds = (hc.Binds ?? []).map((b) => parseBind(b, hc.VolumeDriver));
    const mounts = (hc.Mounts ?? []).map((m) => parseMountConfig(m as MountConfig, existsSync));
    const from = (hc.VolumesFrom ?? []).map((spec) => {
      const i = spec.lastIndexOf(':');
      const ref = i < 0 ? spec : spec.slice(0, i);
      const mode = i < 0 ? '' : spec.slice(i + 1);
      if (mode !== '' && mode !== 'ro' && mode !== 'rw') throw new InvalidArgumentError(`invalid mode: ${mode}`);
      try {
        return { source: this.#d.container(ref), mode };
      } catch (err) {
        // dockerd answers 400 here (a 404 would make the CLI try to pull the image)
        if (err instanceof NotFoundError) throw new InvalidArgumentError(err.message);
        throw err;
      }
    });
    for (const b of binds) {
      if (taken.has(b.Destination) || tmpfs.has(b.Destination)) throw duplicate(b.Destination);
      taken.add(b.Destination);
    }
    for (const m of mounts) {
      if (taken.has(m.Destination)) throw duplicate(m.Spec.Target ?? m.Destination);
      taken.add(m.Destination);
    }

    for (const { source, mode } of from) {
      for (const m of Object.values(source.MountPoints ?? {}) as StoredMountPoint[]) {
        const cp: StoredMountPoint = {
          Type: m.Type, Source: m.Source, Destination: m.Destination, Mode: '', RW: m.RW && mode !== 'ro', Propagation: m.Propagation,
        };
        if (m.Name) cp.Name = m.Name;
        if (m.Driver) cp.Driver = m.Driver;
        if (m.Spec) cp.Spec = m.Spec;
        if (m.Data !== undefined) cp.Data = m.Data;
        if (m.NonRecursive) cp.NonRecursive = true;
        points.set(cp.Destination, cp);
      }
    }
    for (const p of [...binds, ...mounts]) points.set(p.Destination, await this.#point(p));
    for (const spec of Object.keys(c.Config.Volumes ?? {})) {
      const dest = cleanPath(spec);
      if (points.has(dest) || tmpfs.has(dest)) continue;
      const v = await this.create({ name: newId() });
      points.set(dest, { Type: 'volume', Name: v.Name, Source: v.Mountpoint, Destination: dest, Driver: v.Driver, Mode: '', RW: true, Propagation: '', CopyData: true });
    }
    c.MountPoints = Object.fromEntries(points);
  }

  async #point(p: ParsedMount): Promise<StoredMountPoint> {
    const mp: StoredMountPoint = { Type: p.Type, Source: p.Source, Destination: p.Destination, Mode: p.Mode, RW: p.RW, Propagation: p.Propagation, Spec: p.Spec };
    if (p.SkipMountpointCreation) mp.SkipMountpointCreation = true;
    if (p.NonRecursive) mp.NonRecursive = true;
    if (p.Type === 'tmpfs') mp.Data = p.Data ?? '';
    if (p.Type === 'volume') {
      const o: CreateVolumeOptions = { name: p.Name || newId() };
      if (p.Driver) o.driver = p.Driver;
      if (p.VolumeLabels) o.labels = p.VolumeLabels;
      if (p.VolumeOptions) o.driverOpts = p.VolumeOptions;
      const v = await this.create(o);
      mp.Name = v.Name;
      mp.Driver = v.Driver;
      mp.Source = v.Mountpoint;
      if (!mp.Mode) mp.Mode = 'z';
      if (p.CopyData) mp.CopyData = true;
    }
    return mp;
  }

  /** At daemon start: containers still running from before hold their volumes (mounted, nothing to do but count them). */
  adoptRunning(): void {
    for (const c of this.#d.containers()) {
      if (!c.State.Running || this.#active.has(c.ID)) continue;
      const names = Object.values(c.MountPoints ?? {}).filter((m) => m.Type === 'volume' && m.Name).map((m) => m.Name!);
      for (const n of names) this.store.adopt(n, c.ID);
      this.#active.set(c.ID, names);
    }
  }

  /**
   * At start: mount the container's volumes (copying the image's content into empty new ones), create missing
   * `-v` bind sources, and return the spec's mounts (HostConfig.Tmpfs included). Mutates CopyData: persist after.
   */
  async mount(c: Container, rootfs: string): Promise<SpecMount[]> {
    await this.unmount(c, false);
    const out: SpecMount[] = [];
    const mounted: string[] = [];
    this.#active.set(c.ID, mounted);
    const tmpfs = new Map(Object.entries(c.HostConfig.Tmpfs ?? {}).map(([k, v]) => [cleanPath(k), v]));
    for (const m of Object.values(c.MountPoints ?? {}) as StoredMountPoint[]) {
      if (tmpfs.has(m.Destination)) continue;
      if (m.Type === 'tmpfs') { tmpfs.set(m.Destination, m.Data ?? ''); continue; }
      let source = m.Source;
      if (m.Type === 'volume' && m.Name) {
        try {
          source = await this.store.mount(m.Name, c.ID);
        } catch (err) {
          if (err instanceof NotFoundError) {
            // removed behind our back (or by hand): Docker recreates it
            await this.create({ name: m.Name, ...(m.Driver ? { driver: m.Driver } : {}) });
            source = await this.store.mount(m.Name, c.ID);
          } else throw new SystemError(`error while mounting volume '${m.Source}': ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
        mounted.push(m.Name);
        if (m.CopyData) {
          await copyUp(rootfs, m.Destination, source);
          m.CopyData = false;
        }
        this.#d.emit('mount', m.Name, {
          container: c.ID, destination: m.Destination, driver: m.Driver ?? 'local', propagation: m.Propagation, 'read/write': String(m.RW),
        });
      } else if (m.Type === 'bind') {
        if (m.SkipMountpointCreation) {
          if (!existsSync(source)) throw new InvalidArgumentError(`invalid mount config for type "bind": bind source path does not exist: ${source}`);
        } else {
          await mkdir(source, { recursive: true, mode: 0o755 }).catch((err: unknown) => {
            if (errno(err) !== 'EEXIST' && errno(err) !== 'ENOTDIR') throw new SystemError(`error while creating mount source path '${source}': ${(err as Error).message}`);
          });
        }
      }
      const opts = [m.NonRecursive ? 'bind' : 'rbind'];
      if (!m.RW) opts.push('ro');
      if (m.Propagation) opts.push(m.Propagation);
      out.push({ destination: m.Destination, source, type: 'bind', options: opts });
    }
    for (const [dest, data] of tmpfs) {
      const options = mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', DEFAULT_PROPAGATION, ...(data ? data.split(',') : [])]);
      out.push({ destination: dest, source: 'tmpfs', type: 'tmpfs', options });
    }
    return out;
  }

  /** At exit (or after a failed start): give the container's volumes back, with an `unmount` event for each volume mount. */
  async unmount(c: Container, events = true): Promise<void> {
    const names = this.#active.get(c.ID);
    if (!names) return;
    this.#active.delete(c.ID);
    for (const n of names) await this.store.unmount(n, c.ID).catch((err: unknown) => log().warn({ err, name: n }, 'volume unmount failed'));
    if (!events) return;
    for (const m of Object.values(c.MountPoints ?? {})) {
      if (m.Type === 'volume' && m.Name) this.#d.emit('unmount', m.Name, { container: c.ID, driver: m.Driver ?? 'local' });
    }
  }

  /** At rm: release the container's volumes; with `rm -v` (or --rm) remove its anonymous ones unless others use them. */
  async release(c: Container, removeAnonymous: boolean): Promise<void> {
    await this.unmount(c);
    if (!removeAnonymous) return;
    for (const m of Object.values(c.MountPoints ?? {}) as StoredMountPoint[]) {
      if (m.Type !== 'volume' || !m.Name || m.Spec?.Source) continue;
      if (this.users(m.Name).some((id) => id !== c.ID)) continue;
      await this.remove(m.Name, true).catch((err: unknown) => {
        if (!(err instanceof ConflictError)) log().warn({ err, name: m.Name }, 'cannot remove an anonymous volume');
      });
    }
  }
}
