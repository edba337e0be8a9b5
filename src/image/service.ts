/** The image service: composes the content store, layer store and image store (see index.ts). */
import { rmSync, existsSync, readdirSync, renameSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ConflictError, InvalidArgumentError, KeyedMutex, NotFoundError, SystemError, shortId, log,
} from '../lib/index.ts';
import { MediaType, type ImageConfig, type ImageRunConfig } from '../oci/index.ts';
import type {
  DeleteItem, GraphDriverData, HistoryItem, ImageRecord, ImageService, ImageServiceOptions, ImportOptions, CommitOptions,
} from './index.ts';
import { ContentStore } from './content-store.ts';
import { LayerStore, chainIdOf, dirSize, isMountPoint, mountOverlay, unmount, type BlobInfo } from './layer-store.ts';
import { ImageStore, noSuchImage, parseConfig, type StoredImage } from './image-store.ts';
import { spoolArchive, maybeGunzip, writeTar, type ArchiveImage, type Spooled, type SaveEntry, type Follower } from './archive.ts';
import { UnpackWorker, detectCompression, readHead, FOLLOW_MIN } from './layer-unpack.ts';
import { overlayDiffTar } from './layer-diff.ts';

/** The diff ID of an empty layer tar (1024 zero bytes). */
const EMPTY_TAR_DIGEST = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

/** How many layers loads unpacked while they arrived, and how many of those were adopted (for tests and the debug log). */
export const followStats = { followed: 0, adopted: 0 };

/** A layer unpacked into a prepared dir, not yet committed. */
interface Unpacked { dir: string; size: number; diffId: string }
import { familiarName, familiarString, fullString, parseNormalizedNamed, parseTagged, isValidTag, type Reference } from './reference.ts';

const GO_ZERO_UNIX = -62135596800;

function mediaTypeFor(file: string): string {
  const c = detectCompression(readHead(file));
  return c === 'gzip' ? MediaType.OciLayerGzip : c === 'zstd' ? MediaType.OciLayerZstd : MediaType.OciLayer;
}

function unixOf(t: string | undefined): number {
  if (!t) return GO_ZERO_UNIX;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? GO_ZERO_UNIX : Math.floor(ms / 1000);
}

/** A full container.Config as Go marshals it (import writes these). */
function fullRunConfig(c: Partial<ImageRunConfig> = {}): Record<string, unknown> {
  const o: Record<string, unknown> = {
    Hostname: c.Hostname ?? '', Domainname: c.Domainname ?? '', User: c.User ?? '',
    AttachStdin: false, AttachStdout: false, AttachStderr: false,
  };
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length) o.ExposedPorts = c.ExposedPorts;
  Object.assign(o, { Tty: false, OpenStdin: false, StdinOnce: false, Env: c.Env ?? null, Cmd: c.Cmd ?? null });
  if (c.Healthcheck) o.Healthcheck = c.Healthcheck;
  if (c.ArgsEscaped) o.ArgsEscaped = true;
  Object.assign(o, {
    Image: c.Image ?? '', Volumes: c.Volumes ?? null, WorkingDir: c.WorkingDir ?? '', Entrypoint: c.Entrypoint ?? null,
    OnBuild: c.OnBuild ?? null, Labels: c.Labels ?? null,
  });
  if (c.StopSignal) o.StopSignal = c.StopSignal;
  if (c.Shell?.length) o.Shell = c.Shell;
  return o;
}

class Service implements ImageService {
  readonly root: string;
  readonly content: ContentStore;
  readonly layers: LayerStore;
  readonly images: ImageStore;
  readonly #lock = new KeyedMutex();

  constructor(root: string) {
    this.root = root;
    this.content = new ContentStore(join(root, 'image'));
    this.layers = new LayerStore(root);
    this.images = new ImageStore(root);
  }

  async init(): Promise<void> {
    this.content.init();
    await this.layers.init();
    this.images.init();
  }

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.#lock.run('store', fn);
  }

  #find(ref: string): StoredImage {
    const img = this.images.resolve(ref);
    if (!img) throw noSuchImage(ref);
    return img;
  }

  #record(img: StoredImage): ImageRecord {
    const refs = this.images.refsOf(img.id);
    const top = img.chain.at(-1);
    let size = 0;
    for (const c of img.chain) size += this.layers.get(c)?.size ?? 0;
    const r: ImageRecord = {
      id: img.id,
      config: img.config,
      repoTags: refs.filter((x) => x.tag !== undefined).map(familiarString),
      repoDigests: refs.filter((x) => x.digest !== undefined).map(familiarString),
      size,
      parent: img.parent,
    };
    if (img.lastTagTime) r.lastTagTime = img.lastTagTime;
    if (top) r.topLayer = top;
    return r;
  }

  async get(ref: string): Promise<ImageRecord> {
    return this.#record(this.#find(ref));
  }

  async list(): Promise<ImageRecord[]> {
    return [...this.images.images.values()].map((i) => this.#record(i));
  }

  async children(parent: string): Promise<ImageRecord[]> {
    return this.images.children(parent).map((id) => this.#record(this.images.images.get(id)!));
  }

  async tag(source: string, target: string): Promise<void> {
    await this.#locked(async () => {
      const img = this.#find(source);
      const ref = parseTagged(target);
      if (ref.digest !== undefined) throw new InvalidArgumentError('refusing to create a tag with a digest reference');
      if (ref.name === 'docker.io/library/scratch') throw new InvalidArgumentError("'scratch' is a reserved name");
      this.images.refs.set(fullString(ref), img.id);
      await this.images.saveRefs();
      await this.images.setLastTagTime(img.id, new Date().toISOString());
    });
  }

  // ---- rmi ------------------------------------------------------------------------------------
  async remove(ref: string, opts: { force: boolean; noPrune: boolean }, usedBy: (imageId: string) => { id: string; running: boolean } | undefined): Promise<DeleteItem[]> {
    return this.#locked(() => this.#remove(ref, opts, usedBy));
  }

  async #remove(ref: string, opts: { force: boolean; noPrune: boolean }, usedBy: (imageId: string) => { id: string; running: boolean } | undefined): Promise<DeleteItem[]> {
    const img = this.#find(ref);
    const id = img.id;
    const records: DeleteItem[] = [];
    let repoRefs = this.images.refsOf(id);
    const byId = id.startsWith('sha256:' + ref) || id.startsWith(ref);
    let removedRepositoryRef = false;
    if (!byId) {
      const parsed = parseTagged(ref);
      if (!opts.force && isSingleReference(repoRefs)) {
        const c = usedBy(id);
        if (c) throw new ConflictError(`conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(c.id)} is using its referenced image ${shortId(id)}`);
      }
      if (this.images.refs.get(fullString(parsed)) !== id) throw noSuchImage(ref);
      this.images.refs.delete(fullString(parsed));
      records.push({ Untagged: familiarString(parsed) });
      repoRefs = this.images.refsOf(id);
      if (parsed.digest === undefined) {
        // the last tag of a repository takes that repository's digest references with it
        if (!repoRefs.some((r) => r.digest === undefined && r.name === parsed.name)) {
          for (const r of repoRefs.filter((x) => x.digest !== undefined && x.name === parsed.name)) {
            this.images.refs.delete(fullString(r));
            records.push({ Untagged: familiarString(r) });
          }
          repoRefs = this.images.refsOf(id);
        }
      }
      await this.images.saveRefs();
      if (repoRefs.length > 0) return records;
      removedRepositoryRef = true;
    } else if (isSingleReference(repoRefs)) {
      const conflict = this.#conflict(id, opts.force ? HARD : HARD | STOPPED, usedBy);
      if (conflict) throw conflict;
      for (const r of repoRefs) {
        this.images.refs.delete(fullString(r));
        records.push({ Untagged: familiarString(r) });
      }
      await this.images.saveRefs();
    }
    await this.#deleteHelper(id, records, opts.force, !opts.noPrune, removedRepositoryRef, usedBy);
    return records;
  }

  #conflict(id: string, mask: number, usedBy: (imageId: string) => { id: string; running: boolean } | undefined): ConflictError | undefined {
    const fail = (hard: boolean, msg: string) => new ConflictError(`conflict: unable to delete ${shortId(id)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${msg}`);
    if (mask & CHILD && this.images.children(id).length > 0) return fail(true, 'image has dependent child images');
    const c = usedBy(id);
    if (mask & RUNNING && c?.running) return fail(true, `image is being used by running container ${shortId(c.id)}`);
    if (mask & REFERENCED && this.images.refsOf(id).length > 0) return fail(false, 'image is referenced in multiple repositories');
    if (mask & STOPPED && c && !c.running) return fail(false, `image is being used by stopped container ${shortId(c.id)}`);
    return undefined;
  }

  async #deleteHelper(id: string, records: DeleteItem[], force: boolean, prune: boolean, quiet: boolean, usedBy: (imageId: string) => { id: string; running: boolean } | undefined): Promise<void> {
    const conflict = this.#conflict(id, force ? HARD : HARD | SOFT, usedBy);
    if (conflict) {
      const img = this.images.images.get(id);
      const dangling = img ? this.images.refsOf(id).length === 0 && this.images.children(id).length === 0 : false;
      if (quiet && (!dangling || usedBy(id))) return;
      throw conflict;
    }
    const img = this.images.images.get(id);
    if (!img) return;
    const parent = img.parent;
    for (const r of this.images.refsOf(id)) records.push({ Untagged: familiarString(r) });
    await this.images.delete(id);
    await this.content.delete(id);
    records.push({ Deleted: id });
    for (const chain of await this.#releaseLayers(img.chain)) records.push({ Deleted: chain });
    if (prune && parent && this.images.images.has(parent)) await this.#deleteHelper(parent, records, false, true, true, usedBy);
  }

  /** Remove the layers of a deleted image that nothing else uses (top first). */
  async #releaseLayers(chain: string[]): Promise<string[]> {
    const used = new Set<string>();
    for (const img of this.images.images.values()) for (const c of img.chain) used.add(c);
    for (const rw of this.layers.rw.values()) if (rw.parent) for (const l of this.layers.chain(rw.parent)) used.add(l.chainId);
    const removed: string[] = [];
    for (const c of [...chain].reverse()) {
      if (used.has(c)) break;
      const rec = this.layers.get(c);
      if (!rec) continue;
      this.layers.remove(c);
      removed.push(c);
      if (![...this.layers.layers.values()].some((l) => l.diffId === rec.diffId)) await this.#dropBlob(rec.diffId);
    }
    return removed;
  }

  async #dropBlob(diffId: string): Promise<void> {
    const b = await this.layers.getBlob(diffId);
    if (b) await this.content.delete(b.digest);
    rmSync(join(this.layers.distDir, diffId.slice(7)), { force: true });
  }

  // ---- load / save ----------------------------------------------------------------------------
  async load(input: Readable, onProgress?: (line: string) => void): Promise<string[]> {
    return this.#load(input, onProgress);
  }

  async #load(input: Readable, onProgress?: (line: string) => void): Promise<string[]> {
    const spooled: Spooled[] = [];
    const prepared: { dir: string }[] = [];
    const worker = new UnpackWorker();
    const early = new Map<string, Promise<Unpacked | undefined>>();
    try {
      // Spooling touches only private ingest files: no lock while the (maybe slow) upload arrives.
      // Large layers are unpacked aside while they arrive (a second core); phase 1 adopts what matches.
      const t0 = Date.now();
      const archive = await spoolArchive(input, this.content, spooled, this.#follower(worker, prepared, early));
      log().debug({ ms: Date.now() - t0, files: spooled.length, early: early.size }, 'load: spooled');
      if (archive.length === 0) throw new InvalidArgumentError('invalid archive: no images in it');
      return await this.#locked(() => this.#unpackAndCommit(archive, prepared, worker, early, onProgress));
    } finally {
      // The worker must be done with a dir before it goes.
      await Promise.allSettled(early.values());
      await worker.close();
      for (const s of spooled) rmSync(s.file, { force: true });
      for (const p of prepared) if (existsSync(p.dir)) this.layers.discard(p.dir);
    }
  }

  /** Unpack each large file that looks like a layer while it is spooled (see Follower). */
  #follower(worker: UnpackWorker, prepared: { dir: string }[], early: Map<string, Promise<Unpacked | undefined>>): Follower {
    return {
      start: (path, file, size) => {
        if (size < FOLLOW_MIN) return undefined;
        const blob = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
        if (!blob && !path.endsWith('/layer.tar')) return undefined;
        if (blob && this.#hasDiff('sha256:' + blob[1])) return undefined; // a plain layer we have
        const tmp = this.layers.prepare();
        prepared.push(tmp);
        const job = worker.follow(file, tmp.diff, tmp.whiteout);
        followStats.followed++;
        // A file that is not a layer after all, or a broken one, fails here; phase 1 then unpacks it the usual way.
        early.set(file, job.result.then((r) => ({ dir: tmp.dir, size: r.size, diffId: r.diffId }), () => undefined));
        return job;
      },
    };
  }

  #hasDiff(diffId: string): boolean {
    for (const l of this.layers.layers.values()) if (l.diffId === diffId) return true;
    return false;
  }

  /** Phase 1 unpacks every new layer aside and checks it; only then phase 2 commits (all or nothing). */
  async #unpackAndCommit(archive: ArchiveImage[], prepared: { dir: string }[], worker: UnpackWorker, early: Map<string, Promise<Unpacked | undefined>>, onProgress?: (line: string) => void): Promise<string[]> {
    const t0 = Date.now();
    const plans: { raw: Buffer; config: ImageConfig; tags: string[]; layers: Spooled[] }[] = [];
    const pending = new Map<string, Promise<{ dir: string; size: number; diffId: string; parent: string; blob: Spooled }>>();
    for (const a of archive) {
      const raw = a.config.data ?? (await readFile(a.config.file));
      const config = parseConfig(raw);
      const diffIds = config.rootfs.diff_ids;
      if (diffIds.length !== a.layers.length) throw new InvalidArgumentError(`invalid archive: the config lists ${diffIds.length} layers, the manifest ${a.layers.length}`);
      let parent = '';
      for (let i = 0; i < diffIds.length; i++) {
        const diffId = diffIds[i]!;
        const chain = chainIdOf(parent, diffId);
        const blob = a.layers[i]!;
        if (!this.layers.get(chain) && !pending.has(chain)) {
          const p = parent;
          const unpack = async (): Promise<Unpacked> => {
            const e = await early.get(blob.file);
            early.delete(blob.file); // adopted or not, it is used once
            if (e && (e.diffId || blob.digest) === diffId) {
              followStats.adopted++;
              return { ...e, diffId };
            }
            const tmp = this.layers.prepare();
            prepared.push(tmp);
            const r = await worker.unpack(blob.file, tmp.diff, tmp.whiteout, blob.digest);
            return { dir: tmp.dir, size: r.size, diffId: r.diffId };
          };
          const job = unpack().then((r) => {
            if (r.diffId !== diffId) throw new InvalidArgumentError(`invalid archive: layer ${blob.path} has diff ID ${r.diffId}, but the image config says ${diffId}`);
            return { dir: r.dir, size: r.size, diffId, parent: p, blob };
          });
          job.catch(() => {});
          pending.set(chain, job);
        }
        parent = chain;
      }
      for (const t of a.tags) parseTagged(t); // a bad tag fails the load before anything is committed
      plans.push({ raw, config, tags: a.tags, layers: a.layers });
    }
    const unpacked = await Promise.all([...pending.values()]);
    log().debug({ ms: Date.now() - t0, layers: unpacked.length }, 'load: layers unpacked');

    // Phase 2: blobs, layers (base first: the map keeps chain order), images, tags.
    for (const u of unpacked) {
      const info: BlobInfo = { digest: u.blob.digest, mediaType: mediaTypeFor(u.blob.file), size: u.blob.size };
      this.content.commitFile(u.blob.file, u.blob.digest);
      this.layers.commit(u.dir, u.diffId, u.parent, u.size, info);
    }
    const lines: string[] = [];
    const emit = (l: string) => { lines.push(l); onProgress?.(l); };
    for (const p of plans) {
      for (const [i, l] of p.layers.entries()) {
        // a present layer whose blob was not kept (made by import, or loaded from another blob form): keep this one
        const diffId = p.config.rootfs.diff_ids[i]!;
        if (existsSync(l.file) && !(await this.layers.getBlob(diffId))) {
          this.layers.setBlob(diffId, { digest: l.digest, mediaType: mediaTypeFor(l.file), size: l.size });
          this.content.commitFile(l.file, l.digest);
        }
      }
      this.content.put(p.raw);
      const img = await this.images.add(p.raw);
      if (p.tags.length === 0) { emit(`Loaded image ID: ${img.id}`); continue; }
      for (const t of p.tags) {
        const ref = parseTagged(t);
        const key = fullString(ref);
        const old = this.images.refs.get(key);
        if (old && old !== img.id) emit(`The image ${familiarString(ref)} already exists, renaming the old one with ID ${old} to empty string`);
        this.images.refs.set(key, img.id);
        emit(`Loaded image: ${familiarString(ref)}`);
      }
    }
    await this.images.saveRefs();
    log().debug({ ms: Date.now() - t0 }, 'load: committed');
    return lines;
  }

  async save(refs: string[], out: Writable): Promise<void> {
    // Which images, under which tags (a bare name means every tag of that repository).
    const order: string[] = [];
    const tagsOf = new Map<string, Reference[]>();
    const add = (id: string, ref?: Reference) => {
      if (!tagsOf.has(id)) { tagsOf.set(id, []); order.push(id); }
      if (ref && !tagsOf.get(id)!.some((r) => fullString(r) === fullString(ref))) tagsOf.get(id)!.push(ref);
    };
    for (const s of refs) {
      const img = this.images.resolve(s);
      let named: Reference | undefined;
      try { named = parseNormalizedNamed(s); } catch { named = undefined; }
      const isId = img && (img.id.startsWith('sha256:' + s) || img.id.startsWith(s));
      if (named && !isId && named.tag === undefined && named.digest === undefined) {
        let any = false;
        for (const [full, id] of [...this.images.refs].sort()) {
          const r = parseNormalizedNamed(full);
          if (r.name === named.name && r.tag !== undefined) { add(id, r); any = true; }
        }
        if (any) continue;
      }
      if (!img) throw new NotFoundError('reference does not exist');
      if (isId || !named) add(img.id);
      else add(img.id, named.tag === undefined && named.digest === undefined ? { ...named, tag: 'latest' } : named.digest ? undefined : named);
    }
    const blobs = new Map<string, SaveEntry>();
    const index: Record<string, unknown>[] = [];
    const manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const id of order) {
      const img = this.images.images.get(id)!;
      const raw = await readFile(join(this.images.contentDir, id.slice(7)));
      blobs.set(id, { name: 'blobs/sha256/' + id.slice(7), data: raw });
      const layers: { mediaType: string; digest: string; size: number }[] = [];
      for (const diffId of img.config.rootfs.diff_ids) {
        const b = await this.layers.getBlob(diffId);
        if (!b || !this.content.has(b.digest)) throw new SystemError(`cannot save ${shortId(id)}: the blob of layer ${diffId} is not stored`);
        layers.push({ mediaType: b.mediaType, digest: b.digest, size: b.size });
        blobs.set(b.digest, { name: 'blobs/sha256/' + b.digest.slice(7), file: this.content.path(b.digest), size: b.size });
      }
      const man = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: id, size: raw.length }, layers,
      }));
      const manDigest = this.content.put(man);
      blobs.set(manDigest, { name: 'blobs/sha256/' + manDigest.slice(7), data: man });
      const platform = { architecture: img.config.architecture, os: img.config.os, ...(img.config.variant ? { variant: img.config.variant } : {}) };
      const tags = tagsOf.get(id)!;
      const desc = { mediaType: MediaType.OciManifest, digest: manDigest, size: man.length };
      if (tags.length === 0) index.push({ ...desc, platform });
      for (const t of tags) {
        index.push({ ...desc, annotations: { 'io.containerd.image.name': fullString(t), 'org.opencontainers.image.ref.name': t.tag! }, platform });
        const top = img.config.rootfs.diff_ids.at(-1);
        if (top) (repositories[familiarName(t.name)] ??= {})[t.tag!] = top.slice(7);
      }
      manifest.push({
        Config: 'blobs/sha256/' + id.slice(7),
        RepoTags: tags.length ? tags.map(familiarString) : null,
        Layers: layers.map((l) => 'blobs/sha256/' + l.digest.slice(7)),
      });
    }
    const entries: SaveEntry[] = [{ name: 'blobs/', dir: true }, { name: 'blobs/sha256/', dir: true }];
    entries.push(...[...blobs.values()].sort((a, b) => (a.name < b.name ? -1 : 1)));
    entries.push({ name: 'index.json', data: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: index })) });
    entries.push({ name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) });
    entries.push({ name: 'oci-layout', data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') });
    entries.push({ name: 'repositories', data: Buffer.from(JSON.stringify(repositories)) });
    await writeTar(entries, out);
  }

  // ---- import ---------------------------------------------------------------------------------
  async importRootfs(input: Readable, opts: ImportOptions): Promise<string> {
    const ref = targetReference(opts.repo, opts.tag, 'cannot import digest reference');
    const msg = opts.message ?? '';
    return this.#layerImage(await maybeGunzip(input), undefined, false, ref, (diffId) => {
      const created = new Date().toISOString();
      return {
        ...(msg ? { comment: msg } : {}),
        created, container_config: fullRunConfig(), config: fullRunConfig(opts.config ?? {}), architecture: 'amd64', os: 'linux',
        rootfs: { type: 'layers', diff_ids: [diffId] }, history: [{ created, ...(msg ? { comment: msg } : {}) }],
      };
    });
  }

  async commit(containerId: string | null, o: CommitOptions): Promise<string> {
    const ref = targetReference(o.repo, o.tag, 'cannot commit to digest reference');
    const parent = o.parentImage ? this.#find(o.parentImage) : undefined;
    const config = (diffId: string | undefined) => {
      const created = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
      const base = parent?.config;
      const history = [...(base?.history ?? []), {
        created, ...(o.author ? { author: o.author } : {}), created_by: o.createdBy, ...(o.comment ? { comment: o.comment } : {}), ...(diffId ? {} : { empty_layer: true }),
      }];
      return {
        architecture: base?.architecture ?? 'amd64',
        ...(o.author ? { author: o.author } : {}),
        ...(o.comment ? { comment: o.comment } : {}),
        config: fullRunConfig(o.config),
        ...(o.container ? { container: o.container } : {}),
        container_config: fullRunConfig(o.containerConfig),
        created,
        docker_version: '20.10.24',
        history,
        os: base?.os ?? 'linux',
        rootfs: { type: 'layers', diff_ids: [...(base?.rootfs.diff_ids ?? []), ...(diffId ? [diffId] : [])] },
      };
    };
    if (containerId === null) return this.#configImage(Buffer.from(JSON.stringify(config(undefined))), parent, ref);
    const rw = this.layers.getRw(containerId);
    if (o.adopt) return this.#adoptLayer(containerId, parent, ref, config);
    return this.#layerImage(overlayDiffTar(this.layers.diffPath(rw.mountId)), parent, true, ref, config);
  }

  /**
   * commit for a read-write layer that is thrown away next (the builder's steps): its upper dir already is the
   * new layer's diff dir (same overlay format), so it is moved rather than unpacked again from the tar. The
   * tar is still made once, for the diff ID and the stored blob.
   */
  async #adoptLayer(containerId: string, parent: StoredImage | undefined, ref: Reference | undefined,
    config: (diffId: string | undefined) => Record<string, unknown>): Promise<string> {
    await this.unmountRwLayer(containerId);
    const upper = this.layers.diffPath(this.layers.getRw(containerId).mountId);
    const w = this.content.newIngest();
    const counted = { size: 0 };
    const tmp = this.layers.prepare();
    try {
      for await (const chunk of overlayDiffTar(upper, counted)) w.write(chunk);
      const { digest } = w.close();
      if (digest === EMPTY_TAR_DIGEST) return await this.#configImage(Buffer.from(JSON.stringify(config(undefined))), parent, ref);
      rmSync(tmp.diff, { recursive: true, force: true });
      renameSync(upper, tmp.diff);
      mkdirSync(upper, { mode: 0o755 });
      const raw = Buffer.from(JSON.stringify(config(digest)));
      return await this.#register(raw, parent, ref, { ingest: w, dir: tmp.dir, diffId: digest, size: counted.size, digest });
    } finally {
      w.discard();
      if (existsSync(tmp.dir)) this.layers.discard(tmp.dir);
    }
  }

  /**
   * Makes a new image known, under the lock: its layer (unpacked in `dir`, its tar in the ingest) if it has one,
   * its config, its tag.
   */
  #register(raw: Buffer, parent: StoredImage | undefined, ref: Reference | undefined,
    layer?: { ingest: { path: string; size: number }; dir: string; diffId: string; size: number; digest: string }): Promise<string> {
    return this.#locked(async () => {
      if (layer) {
        this.content.commitFile(layer.ingest.path, layer.digest);
        this.layers.commit(layer.dir, layer.diffId, parent?.chain.at(-1) ?? '', layer.size, { digest: layer.digest, mediaType: MediaType.DockerLayer, size: layer.ingest.size });
      }
      this.content.put(raw);
      const img = await this.images.add(raw, parent?.id ?? '');
      if (ref) {
        this.images.refs.set(fullString(ref), img.id);
        await this.images.saveRefs();
      }
      return img.id;
    });
  }

  /** A new image with no layer of its own (the builder's metadata steps): just its config. */
  #configImage(raw: Buffer, parent: StoredImage | undefined, ref: Reference | undefined): Promise<string> {
    return this.#register(raw, parent, ref);
  }


  /**
   * A new image: `tar` as one more layer on `parent` (import, commit; the builder's steps), its config from
   * `config(diffId)`, tagged `ref`. With `skipEmpty`, an empty tar adds no layer (diffId undefined), as Docker's
   * commit does. The tar is stored and unpacked aside without the lock; only making it all known takes it.
   */
  async #layerImage(tar: AsyncIterable<Buffer>, parent: StoredImage | undefined, skipEmpty: boolean, ref: Reference | undefined,
    config: (diffId: string | undefined) => Record<string, unknown>): Promise<string> {
    const w = this.content.newIngest();
    const worker = new UnpackWorker();
    const tmp = this.layers.prepare();
    try {
      for await (const chunk of tar) w.write(chunk);
      const { digest } = w.close();
      // the ingest is the plain tar (import gunzips first): its digest is the diff ID
      const r = skipEmpty && digest === EMPTY_TAR_DIGEST ? undefined : await worker.unpack(w.path, tmp.diff, tmp.whiteout, digest);
      const raw = Buffer.from(JSON.stringify(config(r?.diffId)));
      return await this.#register(raw, parent, ref, r && { ingest: w, dir: tmp.dir, diffId: r.diffId, size: r.size, digest });
    } finally {
      w.discard();
      await worker.close();
      if (existsSync(tmp.dir)) this.layers.discard(tmp.dir);
    }
  }

  async history(ref: string): Promise<HistoryItem[]> {
    const img = this.#find(ref);
    const out: HistoryItem[] = [];
    let n = 0;
    for (const h of img.config.history ?? []) {
      let size = 0;
      if (!h.empty_layer) {
        const chain = img.chain[n];
        if (!chain) throw new SystemError('too many non-empty layers in History section');
        size = this.layers.get(chain)?.size ?? 0;
        n++;
      }
      out.unshift({ Id: '<missing>', Created: unixOf(h.created), CreatedBy: h.created_by ?? '', Tags: null, Size: size, Comment: h.comment ?? '' });
    }
    let cur: StoredImage | undefined = img;
    for (const item of out) {
      if (!cur) break;
      item.Id = cur.id;
      const tags = this.images.refsOf(cur.id).filter((r) => r.tag !== undefined).map(familiarString);
      item.Tags = tags.length ? tags : null;
      cur = cur.parent ? this.images.images.get(cur.parent) : undefined;
    }
    return out;
  }

  async prune(opts: { all: boolean; filters: Record<string, string[]> }, inUse: Set<string>): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }> {
    return this.#locked(async () => {
      const sizes = new Map([...this.layers.layers.values()].map((l) => [l.chainId, l.size]));
      const until = (opts.filters.until ?? []).map(parseUntil);
      const labels = opts.filters.label ?? [];
      const notLabels = opts.filters['label!'] ?? [];
      const used = (id: string) => inUse.has(id) || inUse.has(id.slice(7));
      const candidates = [...this.images.images.values()].filter((img) => {
        if (!opts.all && this.images.children(img.id).length > 0) return false;
        const created = Date.parse(img.config.created ?? '') / 1000;
        if (until.some((u) => created >= u)) return false;
        const l = img.config.config?.Labels ?? {};
        if (!labels.every((f) => matchLabel(l, f))) return false;
        if (notLabels.some((f) => matchLabel(l, f))) return false;
        return true;
      });
      const deleted: DeleteItem[] = [];
      const never = () => undefined;
      for (const img of candidates) {
        if (!this.images.images.has(img.id) || used(img.id)) continue;
        const refs = this.images.refsOf(img.id);
        try {
          if (refs.length > 0) {
            if (!opts.all && refs.some((r) => r.tag !== undefined)) continue;
            for (const r of refs) if (this.images.images.has(img.id)) deleted.push(...(await this.#remove(familiarString(r), { force: false, noPrune: false }, never)));
          } else {
            deleted.push(...(await this.#remove(img.id, { force: false, noPrune: false }, never)));
          }
        } catch (e) {
          if (!(e instanceof ConflictError)) throw e;
        }
      }
      let spaceReclaimed = 0;
      for (const d of deleted) if (d.Deleted) spaceReclaimed += sizes.get(d.Deleted) ?? 0;
      return { deleted, spaceReclaimed };
    });
  }

  async diskUsage(): Promise<{ layersSize: number }> {
    let layersSize = 0;
    for (const l of this.layers.layers.values()) layersSize += l.size;
    return { layersSize };
  }

  // ---- container rw layers --------------------------------------------------------------------
  rwLayerIds(): string[] { return [...this.layers.rw.keys()]; }

  async createRwLayer(containerId: string, imageId: string | null): Promise<void> {
    await this.#locked(async () => {
      const parent = imageId ? (this.#find(imageId).chain.at(-1) ?? '') : '';
      this.layers.createRw(containerId, parent);
    });
  }

  async mountRwLayer(containerId: string): Promise<string> {
    const rw = this.layers.getRw(containerId);
    const dir = join(this.layers.overlayDir, rw.mountId);
    const lower = this.layers.lowerFile(rw.mountId);
    if (!lower) throw new SystemError(`container ${containerId}: its layer has no lower layers`);
    const merged = join(dir, 'merged');
    return this.#lock.run('mount:' + containerId, async () => {
      if (!(await isMountPoint(merged))) await mountOverlay(this.layers.overlayDir, rw.mountId, lower);
      return merged;
    });
  }

  async unmountRwLayer(containerId: string): Promise<void> {
    const rw = this.layers.rw.get(containerId);
    if (!rw) return;
    await this.#lock.run('mount:' + containerId, () => unmount(join(this.layers.overlayDir, rw.mountId, 'merged')));
  }

  async removeRwLayer(containerId: string): Promise<void> {
    await this.unmountRwLayer(containerId);
    await this.#locked(async () => {
      const rw = this.layers.rw.get(containerId);
      this.layers.removeRw(containerId);
      // layers kept only for this container (its image was removed meanwhile) go with it
      if (rw?.parent && this.layers.get(rw.parent)) await this.#releaseLayers(this.layers.chain(rw.parent).map((l) => l.chainId).reverse());
    });
  }

  async graphDriverData(containerId: string): Promise<GraphDriverData> {
    const rw = this.layers.getRw(containerId);
    const dir = join(this.layers.overlayDir, rw.mountId);
    const lower = [this.layers.diffPath(rw.mountId + '-init'), ...(rw.parent ? this.layers.chain(rw.parent).map((l) => this.layers.diffPath(l.cacheId)) : [])];
    return { LowerDir: lower.join(':'), MergedDir: join(dir, 'merged'), UpperDir: join(dir, 'diff'), WorkDir: join(dir, 'work') };
  }

  async imageGraphDriverData(imageId: string): Promise<GraphDriverData> {
    const img = this.#find(imageId);
    const top = img.chain.at(-1);
    if (!top) return { MergedDir: '', UpperDir: '', WorkDir: '' };
    const [t, ...lower] = this.layers.chain(top);
    const dir = join(this.layers.overlayDir, t!.cacheId);
    const g: GraphDriverData = { MergedDir: join(dir, 'merged'), UpperDir: join(dir, 'diff'), WorkDir: join(dir, 'work') };
    if (lower.length) g.LowerDir = lower.map((l) => this.layers.diffPath(l.cacheId)).join(':');
    return g;
  }

  async rwLayerSize(containerId: string): Promise<number> {
    const rw = this.layers.getRw(containerId);
    return dirSize(join(this.layers.overlayDir, rw.mountId, 'diff'));
  }

  async exportRwLayer(containerId: string, out: Writable): Promise<void> {
    const rw = this.layers.getRw(containerId);
    const merged = join(this.layers.overlayDir, rw.mountId, 'merged');
    const wasMounted = await isMountPoint(merged);
    const dir = await this.mountRwLayer(containerId);
    try {
      const names = readdirSync(dir).sort();
      const child = spawn('tar', ['--format=gnu', '--sort=name', '-C', dir, '-cf', '-', '--', ...(names.length ? names : ['.'])], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
      const exited = new Promise<number>((res) => child.on('close', (c) => res(c ?? 1)));
      await pipeline(child.stdout, out);
      const code = await exited;
      if (code !== 0) throw new SystemError(`export: tar: ${err.trim()}`);
    } finally {
      if (!wasMounted) await this.unmountRwLayer(containerId);
    }
  }
}

/** `repo` and `tag` of import and commit as a tagged reference (`latest` by default), or undefined without a repo. */
function targetReference(repo: string | undefined, tag: string | undefined, digestError: string): Reference | undefined {
  if (!repo) return undefined;
  let ref = parseNormalizedNamed(repo);
  if (tag) {
    if (!isValidTag(tag)) throw new InvalidArgumentError('invalid reference format');
    ref = { name: ref.name, tag };
  }
  if (ref.digest !== undefined) throw new InvalidArgumentError(digestError);
  ref.tag ??= 'latest';
  return ref;
}

const CHILD = 1, RUNNING = 2, REFERENCED = 4, STOPPED = 8;
const HARD = CHILD | RUNNING;
const SOFT = REFERENCED | STOPPED;

/** Docker's isSingleReference: one tag, or only digests of that same repository. */
function isSingleReference(refs: Reference[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: Reference | undefined;
  const canonical = new Set<string>();
  for (const r of refs) {
    if (r.digest !== undefined) canonical.add(r.name);
    else if (!single) single = r;
    else return false;
  }
  single ??= refs[0]!;
  return canonical.size === 1 && canonical.has(single.name);
}

function parseUntil(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const d = /^(\d+(?:\.\d+)?)(h|m|s)$/.exec(v);
  if (d) return Date.now() / 1000 - Number(d[1]) * (d[2] === 'h' ? 3600 : d[2] === 'm' ? 60 : 1);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`invalid filter 'until=${v}'`);
  return t / 1000;
}

function matchLabel(labels: Record<string, string>, f: string): boolean {
  const eq = f.indexOf('=');
  if (eq === -1) return f in labels;
  return labels[f.slice(0, eq)] === f.slice(eq + 1);
}

export async function createImageService(opts: ImageServiceOptions): Promise<ImageService> {
  const s = new Service(opts.root);
  await s.init();
  return s;
}
