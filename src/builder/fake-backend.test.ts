/**
 * An in-memory BuildBackend for the builder's tests (no daemon, no runc): images are configs in a Map, each
 * with a directory of files; a layer or a container is a copy of its image's directory; commits record what
 * the builder asked for. RUN steps run a tiny script language on the container's directory:
 * `echo WORDS [> file | >&2]`, `cat file`, `exit N`, joined by `&&` or `;` (or `onRun` decides).
 * Also: context tars (tar-stream) and a `runBuild` that collects the stream.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { Readable } from 'node:stream';
import type { ImageConfig, ImageRunConfig } from '../oci/index.ts';
import { NotFoundError } from '../lib/index.ts';
import type { BuildBackend, BuildCommit, BuildImage } from './backend.ts';
import { build, type BuildOptions } from './build.ts';

export interface FakeImage extends BuildImage { dir: string }

export interface RunSpec { cmd: string[]; env: string[]; workdir: string; rootfs: string; config: Record<string, unknown>; hostConfig: Record<string, unknown> }
export interface RunResult { code?: number; stdout?: string; stderr?: string }

interface FakeContainer {
  id: string;
  config: Record<string, unknown>;
  hostConfig: Record<string, unknown>;
  rootfs: string;
  started: boolean;
  removed: boolean;
  exit: PromiseWithResolvers<{ StatusCode: number }>;
  output?: (stream: 1 | 2, data: Buffer) => void;
  done: PromiseWithResolvers<unknown>;
}

export interface CommitRecord {
  id: string;
  /** What the new image's files came from. */
  from: { kind: 'none' } | { kind: 'layer'; id: string } | { kind: 'container'; id: string };
  o: BuildCommit;
}

export const BUSYBOX_PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n';
export const BUSYBOX_GROUP = 'root:x:0:\nnobody:x:65534:\napp:x:1000:\nstaff:x:50:\n';

export class FakeBackend implements BuildBackend {
  readonly root = mkdtempSync(join(tmpdir(), 'berth-build-test-'));
  readonly images = new Map<string, FakeImage>();
  readonly tags = new Map<string, string>();
  readonly commits: CommitRecord[] = [];
  readonly containers = new Map<string, FakeContainer>();
  /** Live scratch layers: id → rootfs. */
  readonly layers = new Map<string, string>();
  readonly droppedLayers: string[] = [];
  /** RUN: what the container does (default: the tiny script language). */
  onRun: (r: RunSpec) => RunResult = runScript;
  #clock = Date.UTC(2026, 10, 23);
  #n = 0;

  /** An image with files (a map of path → content; a `->target` value makes a symlink). */
  addImage(refs: string[], config: ImageRunConfig, files: Record<string, string> = {}): FakeImage {
    const dir = this.#dir('img');
    writeTree(dir, files);
    const ic: ImageConfig = {
      architecture: 'amd64', os: 'linux', created: this.#now(), config,
      rootfs: { type: 'layers', diff_ids: [`sha256:${createHash('sha256').update(JSON.stringify(files)).digest('hex')}`] },
      history: [{ created: this.#now(), created_by: 'ADD rootfs' }],
    };
    const img = this.#store(ic, '', dir);
    for (const r of refs) this.tags.set(r.includes(':') ? r : `${r}:latest`, img.id);
    return img;
  }

  /** busybox:1.35 as the fixture's config says, with /etc/passwd and /etc/group. */
  addBusybox(): FakeImage {
    return this.addImage(['busybox:1.35'], { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
      { 'etc/passwd': BUSYBOX_PASSWD, 'etc/group': BUSYBOX_GROUP, 'bin/.keep': '' });
  }

  image(ref: string): FakeImage {
    const id = this.tags.get(ref.includes(':') ? ref : `${ref}:latest`) ?? (ref.startsWith('sha256:') ? ref : `sha256:${ref}`);
    const img = this.images.get(id) ?? [...this.images.values()].find((i) => ref.length >= 12 && i.id.slice(7).startsWith(ref));
    if (!img) throw new NotFoundError(`No such image: ${ref}`);
    return img;
  }

  /** A file of an image, or undefined. */
  file(image: string, path: string): string | undefined {
    try { return readFileSync(join(this.image(image).dir, path), 'utf8'); } catch { return undefined; }
  }

  /** The created_by of each commit of the last build, in order (the history the user sees, oldest first). */
  history(image: string): string[] {
    return (this.image(image).config.history ?? []).map((h) => h.created_by ?? '');
  }

  cleanup(): void { rmSync(this.root, { recursive: true, force: true }); }

  // ---- BuildBackend

  async buildImage(ref: string): Promise<BuildImage> {
    const img = this.image(ref);
    return { id: img.id, config: structuredClone(img.config), parent: img.parent };
  }

  async buildChildren(parent: string): Promise<BuildImage[]> {
    return [...this.images.values()].filter((i) => i.parent === parent).map((i) => ({ id: i.id, config: structuredClone(i.config), parent: i.parent }));
  }

  async buildCommit(from: string | null, o: BuildCommit): Promise<string> {
    const parent = o.parentImage ? this.image(o.parentImage) : undefined;
    let src: string | undefined = parent?.dir;
    let rec: CommitRecord['from'] = { kind: 'none' };
    if (from !== null) {
      const layer = this.layers.get(from);
      const c = this.containers.get(from);
      if (layer) { src = layer; rec = { kind: 'layer', id: from }; }
      else if (c && !c.removed) { src = c.rootfs; rec = { kind: 'container', id: from }; }
      else throw new Error(`fake: commit from ${from}: no such live layer or container`);
    }
    let dir = parent?.dir ?? this.#dir('empty');
    if (from !== null) {
      dir = this.#dir('img');
      cpSync(src!, dir, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    }
    const created = this.#now();
    const ic: ImageConfig = {
      architecture: 'amd64', os: 'linux', created,
      config: structuredClone(o.config), container: o.container, container_config: structuredClone(o.containerConfig),
      rootfs: { type: 'layers', diff_ids: [...(parent?.config.rootfs.diff_ids ?? []), ...(from !== null ? [`sha256:${randomBytes(32).toString('hex')}`] : [])] },
      history: [...(parent?.config.history ?? []), { created, created_by: o.createdBy, ...(o.author ? { author: o.author } : {}), ...(from === null ? { empty_layer: true } : {}) }],
    };
    if (o.author) ic.author = o.author;
    if (parent) ic.parent = parent.id;
    const img = this.#store(ic, parent?.id ?? '', dir);
    this.commits.push({ id: img.id, from: rec, o: structuredClone(o) });
    return img.id;
  }

  async buildLayer(image: string | null): Promise<{ id: string; rootfs: string }> {
    const rootfs = this.#dir('layer');
    if (image) cpSync(this.image(image).dir, rootfs, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    const id = randomBytes(32).toString('hex');
    this.layers.set(id, rootfs);
    return { id, rootfs };
  }

  async dropBuildLayer(id: string): Promise<void> {
    const dir = this.layers.get(id);
    if (!dir) throw new Error(`fake: drop of unknown layer ${id}`);
    this.layers.delete(id);
    this.droppedLayers.push(id);
    rmSync(dir, { recursive: true, force: true });
  }

  async tagImage(id: string, repo: string, tag: string): Promise<void> { this.tags.set(`${repo}:${tag}`, id); }

  async createContainer(req: { config: Record<string, unknown>; hostConfig: Record<string, unknown> }): Promise<{ id: string; warnings: string[] }> {
    const img = this.image(req.config.Image as string);
    const rootfs = this.#dir('ctr');
    cpSync(img.dir, rootfs, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    const id = randomBytes(32).toString('hex');
    this.containers.set(id, {
      id, config: structuredClone(req.config), hostConfig: structuredClone(req.hostConfig), rootfs, started: false, removed: false,
      exit: Promise.withResolvers(), done: Promise.withResolvers(),
    });
    return { id, warnings: [] };
  }

  async attachContainer(id: string): Promise<{ onOutput(cb: (stream: 1 | 2, data: Buffer) => void): void; done: Promise<unknown>; close(): void }> {
    const c = this.#ctr(id);
    return { onOutput: (cb) => { c.output = cb; }, done: c.done.promise, close: () => {} };
  }

  async startContainer(id: string): Promise<void> {
    const c = this.#ctr(id);
    if (c.started) throw new Error('fake: started twice');
    c.started = true;
    const cfg = c.config as { Cmd: string[]; Entrypoint?: string[]; Env?: string[]; WorkingDir?: string };
    const r = this.onRun({ cmd: cfg.Cmd, env: cfg.Env ?? [], workdir: cfg.WorkingDir || '/', rootfs: c.rootfs, config: c.config, hostConfig: c.hostConfig });
    setImmediate(() => {
      if (r.stdout) c.output?.(1, Buffer.from(r.stdout));
      if (r.stderr) c.output?.(2, Buffer.from(r.stderr));
      c.exit.resolve({ StatusCode: r.code ?? 0 });
      c.done.resolve(undefined);
    });
  }

  async waitContainer(id: string): Promise<{ StatusCode: number }> { return this.#ctr(id).exit.promise; }

  async removeContainer(id: string): Promise<void> {
    const c = this.#ctr(id);
    c.removed = true;
    rmSync(c.rootfs, { recursive: true, force: true });
  }

  buildScratchDir(): string { return join(this.root, 'scratch'); }

  /** Containers not removed. */
  liveContainers(): FakeContainer[] { return [...this.containers.values()].filter((c) => !c.removed); }

  #ctr(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c || c.removed) throw new NotFoundError(`No such container: ${id}`);
    return c;
  }

  #store(config: ImageConfig, parent: string, dir: string): FakeImage {
    const id = `sha256:${createHash('sha256').update(JSON.stringify(config)).digest('hex')}`;
    const img: FakeImage = { id, config, parent, dir };
    this.images.set(id, img);
    return img;
  }

  #dir(kind: string): string {
    const d = join(this.root, `${kind}-${++this.#n}`);
    mkdirSync(d, { recursive: true });
    return d;
  }

  /** Strictly increasing timestamps (the cache prefers the newest candidate). */
  #now(): string { return new Date(this.#clock += 1000).toISOString(); }
}

/** Writes `files` (path → content; `->target` makes a symlink; a path ending in `/` a directory) under `dir`. */
export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [p, content] of Object.entries(files)) {
    const host = join(dir, p);
    if (p.endsWith('/')) { mkdirSync(host, { recursive: true }); continue; }
    mkdirSync(dirname(host), { recursive: true });
    if (content.startsWith('->')) symlinkSync(content.slice(2), host);
    else writeFileSync(host, content);
  }
}

/** The tiny script language of RUN (shell form only; exec form: `echo` prints its arguments). */
export function runScript(r: RunSpec): RunResult {
  const env = new Map(r.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const expand = (s: string) => s.replace(/\$\{?(\w+)\}?/g, (_, k: string) => env.get(k) ?? '');
  let stdout = '';
  let stderr = '';
  const shell = r.cmd.length === 3 && r.cmd[1]!.startsWith('-') && r.cmd[0]!.includes('sh');
  if (!shell) {
    if (r.cmd[0] === 'echo') stdout += `${r.cmd.slice(1).join(' ')}\n`;
    return { stdout };
  }
  for (const part of r.cmd[2]!.split(/\s*(?:&&|;)\s*/)) {
    const m = /^(\w+)\s*(.*)$/.exec(part.trim());
    if (!m) continue;
    const [, word, rest] = m as unknown as [string, string, string];
    if (word === 'exit') return { code: Number(rest), stdout, stderr };
    if (word === 'cat') { stdout += readFileSync(join(r.rootfs, posix.resolve(r.workdir, rest)), 'utf8'); continue; }
    if (word === 'echo') {
      const redir = /^(.*?)\s*(>&2|>\s*(\S+))$/.exec(rest);
      const text = `${expand((redir ? redir[1]! : rest).replace(/"/g, ''))}\n`;
      if (redir?.[2] === '>&2') stderr += text;
      else if (redir) writeFileSync(join(r.rootfs, posix.resolve(r.workdir, redir[3]!)), text);
      else stdout += text;
      continue;
    }
    throw new Error(`fake: unknown command ${word}`);
  }
  return { stdout, stderr };
}

// ---- contexts and builds

export interface CtxEntry { content?: string | Buffer; mode?: number; mtime?: number; type?: 'file' | 'directory' | 'symlink'; linkname?: string }

/** A context tar: name → content (or an entry). Files are 0644 with a fixed mtime unless told. */
export async function ctxTar(files: Record<string, string | Buffer | CtxEntry>): Promise<Buffer> {
  const { default: tar } = await import('tar-stream');
  const pack = tar.pack();
  for (const [name, v] of Object.entries(files)) {
    const e: CtxEntry = typeof v === 'string' || Buffer.isBuffer(v) ? { content: v } : v;
    const type = e.type ?? 'file';
    const header = {
      name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: 0, gid: 0,
      mtime: new Date((e.mtime ?? 1795392000) * 1000), ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
    };
    if (type === 'file') pack.entry(header, e.content ?? '');
    else pack.entry(header);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const b of pack as AsyncIterable<Buffer>) chunks.push(b);
  return Buffer.concat(chunks);
}

export function buildOptions(o: Partial<BuildOptions> = {}): BuildOptions {
  return { dockerfile: 'Dockerfile', buildArgs: {}, labels: {}, target: '', noCache: false, remove: true, forceRemove: false, hostConfig: {}, cacheFrom: [], ...o };
}

export interface BuildRun {
  id: string;
  /** Every stream message, in order. */
  messages: string[];
  text: string;
}

/** Builds from a context (a tar, or files made into one) and collects the stream; the error carries the messages. */
export async function runBuild(be: FakeBackend, ctx: Buffer | Record<string, string | Buffer | CtxEntry>, o: Partial<BuildOptions> = {}): Promise<BuildRun> {
  const tarBuf = Buffer.isBuffer(ctx) ? ctx : await ctxTar(ctx);
  const messages: string[] = [];
  try {
    const id = await build(be, Readable.from([tarBuf]), buildOptions(o), { stream: (t) => { messages.push(t); } });
    return { id, messages, text: messages.join('') };
  } catch (err) {
    Object.assign(err as object, { messages, text: messages.join('') });
    throw err;
  }
}

/** The short ID Docker prints. */
export const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
