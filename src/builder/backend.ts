/**
 * What the builder needs from the engine (moby builder.Backend, smaller). The engine implements it;
 * the builder sees no engine type, only this.
 */
import type { ImageConfig, ImageRunConfig } from '../oci/index.ts';

export interface BuildImage {
  /** `sha256:<hex>` */
  id: string;
  config: ImageConfig;
  /** The parent image's ID ('' for none). */
  parent: string;
}

export interface BuildCommit {
  /** The image the step started from; undefined for `scratch`. */
  parentImage: string | undefined;
  config: ImageRunConfig;
  /** The step's cache key: the run config with Cmd set to the step (`#(nop) …` or the RUN command). */
  containerConfig: ImageRunConfig;
  container: string;
  /** MAINTAINER */
  author: string;
  comment: string;
  createdBy: string;
  /** The layer is thrown away next: its files may be moved into the image rather than copied. */
  adopt?: boolean;
}

export interface BuildBackend {
  /** An image by reference or ID: NotFoundError `No such image: <ref>` when it is not here. */
  buildImage(ref: string): Promise<BuildImage>;
  /** Images whose parent is `parent` ('' for none): candidates for the cache. */
  buildChildren(parent: string): Promise<BuildImage[]>;
  /** A new image: `from`'s read-write layer (a container or a build layer) on its parent, or no layer when null. */
  buildCommit(from: string | null, o: BuildCommit): Promise<string>;
  /** A scratch read-write layer on `image` (null: empty), mounted: COPY/ADD/WORKDIR write into `rootfs`. */
  buildLayer(image: string | null): Promise<{ id: string; rootfs: string }>;
  dropBuildLayer(id: string): Promise<void>;
  /** `repo:tag` for an image (emits Docker's tag event). */
  tagImage(id: string, repo: string, tag: string): Promise<void>;

  // RUN steps are containers
  createContainer(req: { config: Record<string, unknown>; hostConfig: Record<string, unknown> }): Promise<{ id: string; warnings: string[] }>;
  attachContainer(id: string, o: { stream: boolean; logs: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): Promise<{
    onOutput(cb: (stream: 1 | 2, data: Buffer) => void): void;
    done: Promise<unknown>;
    close(): void;
  }>;
  startContainer(id: string): Promise<void>;
  waitContainer(id: string, condition: string): Promise<{ StatusCode: number }>;
  removeContainer(id: string, o: { force: boolean; volumes: boolean; link: boolean }): Promise<void>;
  /** Where a build may keep its context (removed when the build ends). */
  buildScratchDir(): string;
}

