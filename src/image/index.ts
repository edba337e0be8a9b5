/**
 * image: content-addressed blobs, the overlay layer store, image records and references,
 * load/save/import/export. Implementation: service.ts composes content-store.ts (blobs),
 * layer-store.ts (overlay2 layers, rw layers, mounts), image-store.ts (imagedb, repositories.json),
 * archive.ts (docker-archive / OCI layout in and out), layer-apply.ts + tar-parser.ts (applying
 * layer tars, run in a worker by layer-unpack.ts) and reference.ts (Docker reference grammar).
 */
import type { Readable, Writable } from 'node:stream';
import type { ImageConfig, ImageRunConfig } from '../oci/index.ts';

export interface ImageRecord {
  /** `sha256:<hex>` = digest of the config blob. */
  id: string;
  config: ImageConfig;
  /** `name:tag` in Docker's familiar form (`busybox:1.35`, `myreg:5000/a/b:v1`). */
  repoTags: string[];
  /** `name@sha256:…` */
  repoDigests: string[];
  /** Sum of the uncompressed layer sizes. */
  size: number;
  /** `sha256:…` of the parent image (builds/commits), or ''. */
  parent: string;
  /** RFC 3339, or undefined if never tagged since load. */
  lastTagTime?: string;
  /** Chain ID of the top layer, undefined for an image without layers. */
  topLayer?: string;
}

export interface GraphDriverData {
  LowerDir?: string;
  MergedDir: string;
  UpperDir: string;
  WorkDir: string;
}

export interface DeleteItem { Untagged?: string; Deleted?: string }

export interface HistoryItem { Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }

export interface ImportOptions {
  repo?: string;
  tag?: string;
  message?: string;
  /** Parsed `-c` changes (Dockerfile instructions already applied to a config). */
  config?: Partial<ImageRunConfig>;
}

/** docker commit (and the builder's steps): the container's changes as a new layer on its image. */
export interface CommitOptions {
  /** The image the container was made from; undefined for `scratch`. */
  parentImage: string | undefined;
  /** The new image's config (the container's, with any changes applied). */
  config: Partial<ImageRunConfig>;
  /** The container's own config, kept as container_config. */
  containerConfig: Partial<ImageRunConfig>;
  /** The container's ID (the config's `container`); '' for none. */
  container: string;
  author: string;
  comment: string;
  /** The history entry's created_by (Docker: the container's Cmd joined). */
  createdBy: string;
  repo?: string;
  tag?: string;
  /** The read-write layer is removed right after: its files may be moved into the new layer (the builder). */
  adopt?: boolean;
}

export interface ImageService {
  /** By `name[:tag]`, `name@digest`, full or short (unique prefix) ID. NotFoundError `No such image: <ref>`. */
  get(ref: string): Promise<ImageRecord>;
  list(): Promise<ImageRecord[]>;
  tag(source: string, target: string): Promise<void>;
  /**
   * rmi. `usedBy(imageId)` returns the short ID of a container using it (for Docker's conflict message) or undefined.
   */
  remove(ref: string, opts: { force: boolean; noPrune: boolean }, usedBy: (imageId: string) => { id: string; running: boolean } | undefined): Promise<DeleteItem[]>;
  /** docker load: a docker-archive or OCI layout tar (optionally gzip'd). Returns Docker's lines: `Loaded image: busybox:1.35` / `Loaded image ID: sha256:…`. */
  load(input: Readable, onProgress?: (line: string) => void): Promise<string[]>;
  /** docker save: a tar that is both a docker-archive and an OCI layout. */
  save(refs: string[], out: Writable): Promise<void>;
  /** docker import: one-layer image from a rootfs tar (optionally compressed). Returns the image ID. */
  importRootfs(input: Readable, opts: ImportOptions): Promise<string>;
  history(ref: string): Promise<HistoryItem[]>;
  /** Remove dangling (or, with all, unused) images. */
  prune(opts: { all: boolean; filters: Record<string, string[]> }, inUse: Set<string>): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }>;
  /** Bytes used by layers on disk, shared ones counted once. */
  diskUsage(): Promise<{ layersSize: number }>;

  // A container's read-write layer on top of an image (or empty for `scratch`).
  /** The owners of every read-write layer (containers, and build steps in progress). */
  rwLayerIds(): string[];
  createRwLayer(containerId: string, imageId: string | null): Promise<void>;
  /** Mount the overlay (idempotent); returns the merged dir. */
  mountRwLayer(containerId: string): Promise<string>;
  unmountRwLayer(containerId: string): Promise<void>;
  removeRwLayer(containerId: string): Promise<void>;
  graphDriverData(containerId: string): Promise<GraphDriverData>;
  imageGraphDriverData(imageId: string): Promise<GraphDriverData>;
  rwLayerSize(containerId: string): Promise<number>;
  /** docker export: the merged filesystem as one tar. */
  exportRwLayer(containerId: string, out: Writable): Promise<void>;
  /**
   * The container's changes (its rw layer's upper dir) as a new image; returns its ID. With a null
   * container, an image with no layer of its own (the builder's metadata steps).
   */
  commit(containerId: string | null, o: CommitOptions): Promise<string>;
  /** Images whose parent is `parent` ('' for those without one): the builder's cache candidates. */
  children(parent: string): Promise<ImageRecord[]>;
}

export interface ImageServiceOptions {
  /** The daemon's data root; the store lives in <root>/image and <root>/overlay2. */
  root: string;
}

export { createImageService } from './service.ts';
