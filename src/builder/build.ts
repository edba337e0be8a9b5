/**
 * The classic builder (moby builder/dockerfile, what `DOCKER_BUILDKIT=0 docker build` drives): every
 * instruction is a step that makes an image from the one before; RUN runs a container and commits it,
 * COPY/ADD/WORKDIR write a layer, the rest only change the config. A step is reused when an image with
 * the same parent was made by the same step (the cache key is the step's config: its Cmd is `#(nop) …`
 * or the RUN command, COPY's names the checksum of what it copies). Output is Docker's, line for line.
 *
 * Metadata steps do not make a container here (Docker creates one and commits it unchanged): the image
 * is the same, the `Running in` / `Removing intermediate container` lines name the ID the step's config
 * records as its container.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { ImageRunConfig } from '../oci/index.ts';
import { InvalidArgumentError, NotFoundError, ScopedFs, parseGoDuration, log } from '../lib/index.ts';
import { parseDockerfile, expandWord, expandWords, readDockerignore, matchesPatterns, chompHeredocContent, type Heredoc } from './dockerfile/index.ts';
import type { BuildBackend, BuildImage } from './backend.ts';
import { unpackContext, type BuildContext } from './context.ts';
import { remoteContext } from './remote.ts';
import { planCopy, runCopy, lookupOwner, chmodValue, download, DOWNLOADS, type CopySource } from './copy.ts';
import { compileDockerfile, type Stage, type Command } from './compile.ts';

export interface BuildOptions {
  /** Path of the Dockerfile inside the context (`Dockerfile`). */
  dockerfile: string;
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  target: string;
  noCache: boolean;
  /** Remove intermediate containers after a successful step (`rm`, default true). */
  remove: boolean;
  /** Remove them even when the step fails. */
  forceRemove: boolean;
  /** The RUN containers' host config: NetworkMode, ExtraHosts, resources. */
  hostConfig: Record<string, unknown>;
  cacheFrom: string[];
  /** `remote=`: a git repository or a URL (tarball or Dockerfile) instead of the request body. */
  remote?: string;
}

export interface BuildOutput {
  /** A `stream` message (Docker's output text, `\n`-terminated lines). */
  stream(text: string): void;
}

/** A failure inside the build: sent as the stream's errorDetail (code: the RUN's exit status). */
export class BuildStepError extends Error {
  override name = 'BuildStepError';
  readonly code: number | undefined;
  constructor(message: string, code?: number) {
    super(message);
    this.code = code;
  }
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const PROXY_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);
const RED = '\x1b[91m';
const RESET = '\x1b[0m';
const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
const envKey = (e: string) => e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('='));

interface State {
  imageId: string;
  config: ImageRunConfig;
  author: string;
  cmdSet: boolean;
  /** ARGs declared in this stage (value: its default, or undefined). */
  args: Map<string, string | undefined>;
  /** The cache stays usable until a step misses (per stage, as Docker). */
  cacheOk: boolean;
}

/** Runs a build from a context tar; returns the final image ID. Errors before output are plain (HTTP status). */
export async function build(backend: BuildBackend, input: Readable, opts: BuildOptions, out: BuildOutput): Promise<string> {
  // the engine empties the scratch dir when it starts (what a crash left)
  const dir = join(backend.buildScratchDir(), `ctx-${randomBytes(8).toString('hex')}`);
  const t0 = performance.now();
  try {
    const ctx = opts.remote ? await remoteContext(opts.remote, dir, opts.dockerfile || 'Dockerfile') : await unpackContext(input, dir);
    const unpacked = performance.now() - t0;
    const b = new Builder(backend, ctx, opts, out);
    try {
      return await b.run();
    } finally {
      await b.settle();
      log().debug({ ms: { context: Math.round(unpacked), total: Math.round(performance.now() - t0) } }, 'build: done');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}.git`, { recursive: true, force: true });
  }
}

class Builder {
  readonly #be: BuildBackend;
  readonly #ctx: BuildContext;
  readonly #o: BuildOptions;
  readonly #out: BuildOutput;
  readonly #ctxFs: ScopedFs;
  #escape = '\\';
  #step = 0;
  #total = 0;
  readonly #metaArgs = new Map<string, string | undefined>();
  readonly #usedArgs = new Set<string>();
  /** Each finished stage's image, by index; names map to indexes. */
  readonly #stageImages: string[] = [];
  readonly #stageNames = new Map<string, number>();
  readonly #removals: Promise<void>[] = [];

  constructor(be: BuildBackend, ctx: BuildContext, o: BuildOptions, out: BuildOutput) {
    this.#be = be;
    this.#ctx = ctx;
    this.#o = o;
    this.#out = out;
    this.#ctxFs = new ScopedFs(ctx.dir);
  }

  async run(): Promise<string> {
    const text = this.#dockerfileText();
    this.#dropIgnoredBuildFiles();
    const ast = parseDockerfile(text, { name: this.#o.dockerfile });
    this.#escape = ast.escapeToken;
    const { metaArgs, stages } = compileDockerfile(ast.children);
    let last = stages.length - 1;
    if (this.#o.target) {
      last = stages.findIndex((s) => s.name === this.#o.target.toLowerCase());
      if (last < 0) throw new InvalidArgumentError(`failed to reach build target ${this.#o.target} in Dockerfile`);
    }
    const run = stages.slice(0, last + 1);
    const labels = Object.keys(this.#o.labels).sort();
    for (const k of labels) { // as dockerd: one LABEL step per --label, after the target stage's own steps
      const original = `LABEL ${k}=${this.#o.labels[k]}`;
      run.at(-1)!.commands.push({ kind: 'LABEL', node: { value: 'LABEL', flags: [], args: [], json: false, heredocs: [], original, startLine: 0, endLine: 0 }, flags: {}, pairs: [[k, this.#o.labels[k]!]], raw: true });
    }
    this.#total = metaArgs.length + run.reduce((n, s) => n + 1 + s.commands.length, 0);

    for (const m of metaArgs) {
      this.#print(m.node.original);
      for (const [k, v] of m.pairs) {
        const val = v === undefined ? undefined : expandWord(v, this.#metaEnv(), this.#escape);
        this.#metaArgs.set(k, val);
      }
    }
    let st: State | undefined;
    for (const [i, stage] of run.entries()) {
      if (stage.name && this.#stageNames.has(stage.name)) throw new BuildStepError(`${stage.name} stage name already used`);
      st = await this.#stage(stage);
      this.#stageImages[i] = st.imageId;
      if (stage.name) this.#stageNames.set(stage.name, i);
    }
    const unused = Object.keys(this.#o.buildArgs).filter((k) => !this.#usedArgs.has(k) && !PROXY_ARGS.has(k) && !this.#metaArgs.has(k)).sort();
    if (unused.length) this.#out.stream(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
    if (!st?.imageId) throw new BuildStepError('No image was generated. Is your Dockerfile empty?');
    return st.imageId;
  }

  #dockerfileText(): string {
    const name = this.#o.dockerfile || 'Dockerfile';
    for (const n of name === 'Dockerfile' ? [name, 'dockerfile'] : [name]) {
      try {
        const p = this.#ctxFs.resolve(n);
        const st = this.#ctxFs.lstat(p);
        if (!st.isFile()) continue;
        if (st.size >= 256 << 10) this.#ctx.materialize(); // a large file's data waits in memory
        return readFileSync(this.#ctxFs.host(p), 'utf8');
      } catch { /* next */ }
    }
    throw new InvalidArgumentError(`Cannot locate specified Dockerfile: ${name}`);
  }

  /** As dockerd: the Dockerfile and .dockerignore leave the context when .dockerignore excludes them. */
  #dropIgnoredBuildFiles(): void {
    let text: string;
    try {
      const p = this.#ctxFs.host(this.#ctxFs.resolve('.dockerignore'));
      if (this.#ctxFs.lstat(this.#ctxFs.resolve('.dockerignore')).size >= 256 << 10) this.#ctx.materialize();
      text = readFileSync(p, 'utf8');
    } catch { return; }
    const excludes = readDockerignore(text);
    for (const f of ['.dockerignore', this.#o.dockerfile || 'Dockerfile']) {
      if (!matchesPatterns(f, excludes)) continue;
      rmSync(this.#ctxFs.host(this.#ctxFs.resolve(f)), { force: true });
      this.#ctx.hashes.delete(posix.normalize(f));
    }
  }

  #print(original: string): void {
    this.#step++;
    this.#out.stream(`Step ${this.#step}/${this.#total} : ${original}`);
    this.#out.stream('\n');
  }

  #metaEnv(): Map<string, string> {
    const m = new Map<string, string>();
    for (const [k, v] of this.#metaArgs) {
      const given = this.#o.buildArgs[k];
      const val = given !== undefined && given !== null ? given : v;
      if (val !== undefined) m.set(k, val);
    }
    return m;
  }

  // ---- stages ----------------------------------------------------------------------------------

  async #stage(stage: Stage): Promise<State> {
    this.#print(stage.node.original);
    const name = expandWord(stage.base, this.#metaEnv(), this.#escape);
    if (stage.platform) {
      const p = expandWord(stage.platform, this.#metaEnv(), this.#escape);
      if (p && p !== 'linux/amd64' && p !== 'linux') throw new BuildStepError(`no match for platform in manifest: not found (berth builds linux/amd64 only, not ${p})`);
    }
    let base: BuildImage | undefined;
    if (name.toLowerCase() !== 'scratch') {
      const idx = this.#stageNames.get(name.toLowerCase());
      base = await this.#image(idx !== undefined ? this.#stageImages[idx]! : name);
    }
    const config: ImageRunConfig = structuredClone(base?.config.config ?? {});
    const st: State = { imageId: base?.id ?? '', config, author: '', cmdSet: false, args: new Map(), cacheOk: !this.#o.noCache };
    const triggers = config.OnBuild ?? [];
    config.OnBuild = null;
    if (triggers.length) {
      this.#out.stream(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      for (const t of triggers) {
        const word = t.trim().split(/\s/)[0]!.toUpperCase();
        if (word === 'ONBUILD') throw new BuildStepError('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
        if (word === 'FROM' || word === 'MAINTAINER') throw new BuildStepError(`${word} isn't allowed as an ONBUILD trigger`);
        const { stages } = compileDockerfile(parseDockerfile(`FROM scratch\n${t}`).children);
        for (const c of stages[0]!.commands) await this.#dispatch(st, c);
      }
    }
    this.#out.stream(` ---> ${short(st.imageId)}\n`);
    for (const c of stage.commands) {
      this.#print(c.node.original);
      await this.#dispatch(st, c);
      this.#out.stream(` ---> ${short(st.imageId)}\n`);
    }
    return st;
  }

  async #image(ref: string): Promise<BuildImage> {
    try {
      return await this.#be.buildImage(ref);
    } catch (err) {
      if (err instanceof NotFoundError) {
        throw new BuildStepError(`pull access denied for ${ref.split(':')[0]}: berth cannot pull images yet, and the image is not here (load it with \`docker load\`)`);
      }
      throw err;
    }
  }

  // ---- variables ---------------------------------------------------------------------------------

  /** ARGs visible to RUN and expansion, as `K=V`, for those not overridden by ENV (Docker's FilterAllowed). */
  #allowedArgs(st: State): string[] {
    const envKeys = new Set((st.config.Env ?? []).map(envKey));
    const out: string[] = [];
    for (const [k, def] of st.args) {
      if (envKeys.has(k)) continue;
      const given = this.#o.buildArgs[k];
      const v = given !== undefined && given !== null ? given : def;
      if (v !== undefined) out.push(`${k}=${v}`);
    }
    for (const [k, v] of Object.entries(this.#o.buildArgs)) {
      if (PROXY_ARGS.has(k) && !st.args.has(k) && v !== null && !envKeys.has(k)) out.push(`${k}=${v}`);
    }
    return out;
  }

  #env(st: State): Map<string, string> {
    const m = new Map<string, string>();
    for (const e of st.config.Env ?? []) { const i = e.indexOf('='); m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1)); }
    for (const a of this.#allowedArgs(st)) { const i = a.indexOf('='); if (!m.has(a.slice(0, i))) m.set(a.slice(0, i), a.slice(i + 1)); }
    return m;
  }

  #word(st: State, w: string): string { return expandWord(w, this.#env(st), this.#escape); }

  // ---- steps ---------------------------------------------------------------------------------------

  async #dispatch(st: State, c: Command): Promise<void> {
    const cfg = st.config;
    switch (c.kind) {
      case 'ENV': {
        const env = this.#env(st);
        let msg = 'ENV';
        for (const [k0, v0] of c.pairs) {
          const k = expandWord(k0, env, this.#escape);
          const v = expandWord(v0 ?? '', env, this.#escape);
          const list = (cfg.Env ?? []).filter((e) => envKey(e) !== k);
          list.push(`${k}=${v}`);
          cfg.Env = list;
          msg += ` ${k}=${v}`;
        }
        return this.#nop(st, msg);
      }
      case 'LABEL': {
        const env = this.#env(st);
        let msg = 'LABEL';
        cfg.Labels ??= {};
        for (const [k0, v0] of c.pairs) {
          const k = c.raw ? k0 : expandWord(k0, env, this.#escape);
          const v = c.raw ? (v0 ?? '') : expandWord(v0 ?? '', env, this.#escape);
          cfg.Labels[k] = v;
          msg += ` ${k}=${v}`;
        }
        return this.#nop(st, msg);
      }
      case 'ARG': {
        let msg = 'ARG';
        for (const [k, v0] of c.pairs) {
          let v = v0 === undefined ? undefined : this.#word(st, v0);
          if (v === undefined && this.#metaArgs.has(k)) v = this.#metaEnv().get(k);
          st.args.set(k, v);
          this.#usedArgs.add(k);
          msg += ` ${k}${v0 !== undefined ? `=${v}` : ''}`;
        }
        return this.#nop(st, msg.replace(/^ARG /, 'ARG '));
      }
      case 'MAINTAINER':
        st.author = c.node.args.join(' ');
        return this.#nop(st, `MAINTAINER ${st.author}`);
      case 'EXPOSE': {
        // as dockerd: the arguments sorted as written (the parser sorts them), then each expanded to words
        const env = this.#env(st);
        const words = [...c.node.args].sort().flatMap((a) => expandWords(a, env, this.#escape));
        cfg.ExposedPorts ??= {};
        for (const p of words.flatMap(portSpecs)) cfg.ExposedPorts[p] = {};
        return this.#nop(st, `EXPOSE ${words.join(' ')}`);
      }
      case 'USER':
        cfg.User = this.#word(st, c.node.args[0] ?? '');
        return this.#nop(st, `USER ${cfg.User}`);
      case 'STOPSIGNAL': {
        const s = this.#word(st, c.node.args[0] ?? '');
        if (!/^(SIG)?[A-Z0-9+-]+$/i.test(s)) throw new BuildStepError(`Invalid signal: ${s}`);
        cfg.StopSignal = s;
        return this.#nop(st, `STOPSIGNAL ${s}`);
      }
      case 'VOLUME': {
        const vols = c.node.json ? c.node.args : c.node.args.flatMap((a) => expandWords(a, this.#env(st), this.#escape));
        cfg.Volumes ??= {};
        for (const v of vols) {
          if (!v.trim()) throw new BuildStepError('VOLUME specified can not be an empty string');
          cfg.Volumes[v] = {};
        }
        return this.#nop(st, `VOLUME [${vols.join(' ')}]`);
      }
      case 'CMD': {
        cfg.Cmd = c.node.json ? [...c.node.args] : [...this.#shell(st), c.node.args.join(' ')];
        if (cfg.Cmd.length) st.cmdSet = true;
        return this.#nop(st, `CMD ${goQuoteList(cfg.Cmd)}`);
      }
      case 'ENTRYPOINT': {
        cfg.Entrypoint = c.node.json ? [...c.node.args] : (c.node.args.join(' ') ? [...this.#shell(st), c.node.args.join(' ')] : null);
        if (!st.cmdSet) cfg.Cmd = null;
        return this.#nop(st, `ENTRYPOINT ${goQuoteList(cfg.Entrypoint ?? [])}`);
      }
      case 'SHELL':
        cfg.Shell = [...c.node.args];
        return this.#nop(st, `SHELL [${cfg.Shell.join(' ')}]`);
      case 'ONBUILD': {
        const expr = c.node.original.replace(/^\s*onbuild\s+/i, '');
        cfg.OnBuild = [...(cfg.OnBuild ?? []), expr];
        return this.#nop(st, `ONBUILD ${expr}`);
      }
      case 'HEALTHCHECK': {
        cfg.Healthcheck = healthcheck(c, this.#shell(st));
        return this.#nop(st, `HEALTHCHECK ${goHealth(cfg.Healthcheck)}`);
      }
      case 'WORKDIR': {
        const wd = this.#word(st, c.node.args[0] ?? '');
        cfg.WorkingDir = posix.resolve(cfg.WorkingDir || '/', wd);
        return this.#layerStep(st, `#(nop) WORKDIR ${cfg.WorkingDir}`, true, async (rootfs) => {
          const fs = new ScopedFs(rootfs);
          const p = fs.resolve(cfg.WorkingDir!);
          if (fs.tryLstat(p)) return false;
          const { mkdirSync } = await import('node:fs');
          mkdirSync(fs.host(p), { recursive: true, mode: 0o755 });
          return true;
        });
      }
      case 'COPY': case 'ADD':
        return this.#copy(st, c);
      case 'RUN':
        return this.#run(st, c);
    }
  }

  #shell(st: State): string[] { return st.config.Shell?.length ? st.config.Shell : DEFAULT_SHELL; }

  /** A config-only step: cached, or a new image with no layer of its own. */
  async #nop(st: State, comment: string): Promise<void> {
    const containerConfig = { ...st.config, Cmd: [...this.#shell(st), '#(nop) ', comment] };
    if (await this.#cached(st, containerConfig)) return;
    const id = randomBytes(32).toString('hex');
    this.#out.stream(` ---> Running in ${short(id)}\n`);
    st.imageId = await this.#be.buildCommit(null, this.#commit(st, containerConfig, id));
    if (this.#o.remove) this.#out.stream(`Removing intermediate container ${short(id)}\n`);
  }

  #commit(st: State, containerConfig: ImageRunConfig, container: string, adopt = false) {
    return {
      adopt,
      parentImage: st.imageId || undefined,
      config: { ...st.config, Image: st.imageId },
      containerConfig: { ...containerConfig, Image: st.imageId },
      container,
      author: st.author,
      comment: '',
      createdBy: (containerConfig.Cmd ?? []).join(' '),
    };
  }

  async #cached(st: State, containerConfig: ImageRunConfig): Promise<boolean> {
    if (!st.cacheOk) return false;
    let best: BuildImage | undefined;
    for (const img of await this.#be.buildChildren(st.imageId)) {
      if (!sameStep(img.config.container_config, containerConfig)) continue;
      if (!best || (img.config.created ?? '') > (best.config.created ?? '')) best = img;
    }
    if (!best) { st.cacheOk = false; return false; }
    this.#out.stream(' ---> Using cache\n');
    st.imageId = best.id;
    return true;
  }

  /** A step that writes into a scratch layer on the current image (`write` says whether it changed anything). */
  async #layerStep(st: State, cmdComment: string, announce: boolean, write: (rootfs: string) => Promise<boolean>): Promise<void> {
    const containerConfig = { ...st.config, Cmd: [...this.#shell(st), cmdComment] };
    if (await this.#cached(st, containerConfig)) return;
    const t0 = performance.now();
    const layer = await this.#be.buildLayer(st.imageId || null);
    const t: Record<string, number> = { layer: performance.now() - t0 };
    try {
      if (announce) this.#out.stream(` ---> Running in ${short(layer.id)}\n`);
      const changed = await write(layer.rootfs);
      t.write = performance.now() - t0;
      st.imageId = await this.#be.buildCommit(changed ? layer.id : null, this.#commit(st, containerConfig, layer.id, true));
      t.commit = performance.now() - t0;
      if (announce && this.#o.remove) this.#out.stream(`Removing intermediate container ${short(layer.id)}\n`);
    } finally {
      this.#removals.push(this.#be.dropBuildLayer(layer.id).catch((err: unknown) => log().warn({ err, id: layer.id }, 'build: dropping a step layer')));
      log().debug({ ms: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v)])) }, 'build: layer step');
    }
  }

  async #copy(st: State, c: Command): Promise<void> {
    const cmd = c.kind as 'COPY' | 'ADD';
    const env = this.#env(st);
    const words = c.node.args.map((a) => expandWord(a, env, this.#escape));
    const dest = words.pop()!;
    // COPY <<NAME dest: each heredoc becomes a file NAME, written into the context for this step
    const inline = `${DOWNLOADS}${randomBytes(6).toString('hex')}`;
    for (const h of c.node.heredocs) {
      const i = c.node.args.findIndex((a) => /^<<-?/.test(a) && a.replace(/^<<-?/, '').replace(/^["']|["']$/g, '') === h.name);
      if (i < 0 || i >= words.length) continue;
      let content = h.chomp ? chompHeredocContent(h.content) : h.content;
      if (h.expand) content = expandWord(content, env, this.#escape, { rawQuotes: true, rawEscapes: true });
      mkdirSync(join(this.#ctx.dir, inline, String(i)), { recursive: true });
      writeFileSync(join(this.#ctx.dir, inline, String(i), h.name), content, { mode: 0o644 });
      words[i] = `/${inline}/${i}/${h.name}`;
    }
    const from = c.flags.from;
    let src: CopySource = { fs: this.#ctxFs, hashes: this.#ctx.hashes };
    let fromLayer: { id: string; rootfs: string } | undefined;
    // ADD <url>: downloaded into the context for this step only
    const remote = `${DOWNLOADS}${randomBytes(6).toString('hex')}`;
    if (cmd === 'ADD' && from === undefined) {
      for (const [i, w] of words.entries()) {
        if (!/^https?:\/\//i.test(w)) continue;
        try {
          const file = await download(w, join(this.#ctx.dir, remote, String(i)));
          words[i] = file.slice(this.#ctx.dir.length);
        } catch (err) {
          rmSync(join(this.#ctx.dir, remote), { recursive: true, force: true });
          throw new BuildStepError(`${cmd} failed: ${(err as Error).message}`);
        }
      }
    }
    if (from !== undefined) {
      const idx = /^\d+$/.test(from) ? Number(from) : this.#stageNames.get(from.toLowerCase());
      let imageId: string;
      if (idx !== undefined && this.#stageImages[idx] !== undefined) imageId = this.#stageImages[idx]!;
      else if (idx !== undefined && /^\d+$/.test(from)) throw new BuildStepError(`invalid from flag value ${from}: refers to current build stage`);
      else imageId = (await this.#image(from)).id;
      fromLayer = await this.#be.buildLayer(imageId);
      src = { fs: new ScopedFs(fromLayer.rootfs), imageId };
    }
    try {
      const chmod = c.flags.chmod !== undefined ? chmodValue(c.flags.chmod) : undefined;
      const chown = c.flags.chown !== undefined ? expandWord(c.flags.chown, env, this.#escape) : '';
      const plan = (() => {
        try { return planCopy(cmd, src, words, dest, st.config.WorkingDir ?? '', `${chown}\0${c.flags.chmod ?? ''}`); }
        catch (err) { throw new BuildStepError((err as Error).message); }
      })();
      // dockerd's comment: `COPY --chown=<chown><hash> in <dest as written> ` (no space after the chown)
      await this.#layerStep(st, `#(nop) ${cmd} ${chown ? `--chown=${chown}` : ''}${plan.hash} in ${dest} `, false, async (rootfs) => {
        const root = new ScopedFs(rootfs);
        this.#ctx.materialize();
        try {
          await runCopy(cmd, src, plan, root, lookupOwner(root, chown), chmod);
        } catch (err) {
          throw new BuildStepError(`${cmd} failed: ${(err as Error).message.replace(/^(COPY|ADD) failed: /, '')}`);
        }
        return true;
      });
    } finally {
      if (fromLayer) await this.#be.dropBuildLayer(fromLayer.id);
      rmSync(join(this.#ctx.dir, remote), { recursive: true, force: true });
      rmSync(join(this.#ctx.dir, inline), { recursive: true, force: true });
    }
  }

  async #run(st: State, c: Command): Promise<void> {
    if (c.flags.mount !== undefined || c.flags.network !== undefined || c.flags.security !== undefined) {
      const f = c.flags.mount !== undefined ? 'mount' : c.flags.network !== undefined ? 'network' : 'security';
      throw new BuildStepError(`the --${f} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled`);
    }
    const cmd = c.node.json ? [...c.node.args] : [...this.#shell(st), heredocScript(c.node.args.join(' '), c.node.heredocs)];
    const args = this.#allowedArgs(st);
    const shown = args.filter((a) => !PROXY_ARGS.has(envKey(a)) || st.args.has(envKey(a))).sort();
    const saveCmd = args.length ? [`|${shown.length}`, ...shown, ...cmd] : cmd;
    const probe: ImageRunConfig = { ...st.config, Cmd: saveCmd };
    if (saveCmd.length) probe.Entrypoint = null;
    if (await this.#cached(st, probe)) return;

    const runConfig = {
      ...st.config, Image: st.imageId, Cmd: cmd, Entrypoint: [''], Env: [...(st.config.Env ?? []), ...args],
      Healthcheck: { Test: ['NONE'] }, AttachStdout: true, AttachStderr: true, OpenStdin: false, StdinOnce: false,
    };
    const hostConfig = { ...this.#o.hostConfig };
    if (!st.imageId) throw new BuildStepError('Please provide a source image with `from` prior to run');
    const t0 = performance.now();
    const { id } = await this.#be.createContainer({ config: runConfig, hostConfig });
    this.#out.stream(` ---> Running in ${short(id)}\n`);
    const t: Record<string, number> = { create: performance.now() - t0 };
    let ok = false;
    try {
      const a = await this.#be.attachContainer(id, { stream: true, logs: false, stdin: false, stdout: true, stderr: true });
      a.onOutput((s, data) => this.#out.stream(s === 2 ? `${RED}${data.toString('utf8')}${RESET}` : data.toString('utf8')));
      const exited = this.#be.waitContainer(id, 'next-exit');
      await this.#be.startContainer(id);
      t.start = performance.now() - t0;
      const { StatusCode } = await exited;
      await a.done;
      t.exit = performance.now() - t0;
      if (StatusCode !== 0) throw new BuildStepError(`The command '${cmd.join(' ')}' returned a non-zero code: ${StatusCode}`, StatusCode);
      st.imageId = await this.#be.buildCommit(id, this.#commit(st, probe, id, this.#o.remove));
      t.commit = performance.now() - t0;
      ok = true;
    } finally {
      if ((ok && this.#o.remove) || (!ok && (this.#o.remove || this.#o.forceRemove))) {
        // the next step need not wait for the removal; the build's end does
        this.#removals.push(this.#be.removeContainer(id, { force: true, volumes: true, link: false })
          .catch((err: unknown) => log().warn({ err, id }, 'build: removing a step container')));
        if (ok || this.#o.forceRemove) this.#out.stream(`Removing intermediate container ${short(id)}\n`);
      }
      log().debug({ id: short(id), ms: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v)])) }, 'build: RUN step');
    }
  }

  /** Waits for the step containers still being removed. */
  async settle(): Promise<void> {
    await Promise.all(this.#removals);
  }
}

/**
 * The shell command of a shell-form RUN with heredocs (BuildKit's semantics): a RUN that is only `<<EOF` runs
 * the heredoc as its script (by its `#!` line when it has one); otherwise the command line and the heredoc
 * bodies go to the shell together, which feeds each body to its command.
 */
function heredocScript(cmdline: string, docs: Heredoc[]): string {
  if (docs.length === 0) return cmdline;
  const body = (h: Heredoc) => (h.chomp ? chompHeredocContent(h.content) : h.content);
  if (docs.length === 1 && /^<<-?\s*["']?[^"'\s]+["']?\s*$/.test(cmdline.trim())) {
    const script = body(docs[0]!);
    if (!script.startsWith('#!')) return script;
    const end = `BERTH_HEREDOC_${randomBytes(4).toString('hex')}`;
    return `f=$(mktemp) && cat > "$f" <<'${end}' && chmod +x "$f" && "$f"; r=$?; rm -f "$f"; exit $r\n${script}${script.endsWith('\n') ? '' : '\n'}${end}\n`;
  }
  return `${cmdline}\n${docs.map((h) => `${h.content}${h.content.endsWith('\n') || !h.content ? '' : '\n'}${h.name}\n`).join('')}`;
}

/** Docker's cache comparison of two step configs (image/cache/compare.go): WorkingDir is not part of it. */
function sameStep(a: ImageRunConfig | undefined, b: ImageRunConfig): boolean {
  if (!a || a.OpenStdin || b.OpenStdin) return false;
  if (!!a.AttachStdout !== !!b.AttachStdout || !!a.AttachStderr !== !!b.AttachStderr || (a.User ?? '') !== (b.User ?? '') || !!a.Tty !== !!b.Tty) return false;
  const same = (x: unknown, y: unknown) => JSON.stringify(x ?? null) === JSON.stringify(y ?? null);
  const sameSet = (x: Record<string, unknown> | null | undefined, y: Record<string, unknown> | null | undefined) =>
    same(Object.keys(x ?? {}).sort(), Object.keys(y ?? {}).sort());
  const sameMap = (x: Record<string, string> | null | undefined, y: Record<string, string> | null | undefined) =>
    sameSet(x, y) && Object.keys(x ?? {}).every((k) => x![k] === y![k]);
  const list = (x: string[] | null | undefined) => (x?.length ? x : null);
  return same(list(a.Cmd), list(b.Cmd)) && same(list(a.Env), list(b.Env)) && sameMap(a.Labels, b.Labels)
    && sameSet(a.ExposedPorts, b.ExposedPorts) && same(list(a.Entrypoint), list(b.Entrypoint)) && sameSet(a.Volumes, b.Volumes);
}

/** `80`, `80/udp`, `8000-8002/tcp` → `80/tcp`… (nat.ParsePortSpecs for EXPOSE). */
function portSpecs(s: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(s);
  if (!m) throw new BuildStepError(`Invalid containerPort: ${s.split('/')[0]}`);
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  if (lo > 65535 || hi > 65535 || hi < lo) throw new BuildStepError(`Invalid containerPort: ${s.split('/')[0]}`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  return out;
}

/** Go's `%q` of a []string: `["a" "b"]`. */
function goQuoteList(l: string[]): string {
  return `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;
}

function goDuration(ns: number): string {
  if (!ns) return '0s';
  const ms = ns / 1e6;
  if (ms < 1000) return `${ms}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${Number(s.toFixed(9))}s`;
}

/** Go's `%q` of a *HealthConfig: `&{["CMD-SHELL" "x"] "5s" "0s" "0s" '\x00'}`. */
function goHealth(h: NonNullable<ImageRunConfig['Healthcheck']>): string {
  const r = h.Retries ?? 0;
  const rq = r < 0x20 || r > 0x7e ? `'\\x${r.toString(16).padStart(2, '0')}'` : `'${String.fromCharCode(r)}'`;
  return `&{${goQuoteList(h.Test ?? [])} "${goDuration(h.Interval ?? 0)}" "${goDuration(h.Timeout ?? 0)}" "${goDuration(h.StartPeriod ?? 0)}" ${rq}}`;
}

function healthcheck(c: Command, shell: string[]): NonNullable<ImageRunConfig['Healthcheck']> {
  const a = c.node.args;
  if ((a[0] ?? '').toUpperCase() === 'NONE') return { Test: ['NONE'] };
  const test = c.node.json ? ['CMD', ...a.slice(1)] : ['CMD-SHELL', a.slice(1).join(' ')];
  void shell;
  const dur = (name: string): number => {
    const v = c.flags[name];
    if (v === undefined || v === '') return 0;
    const ms = parseGoDuration(v);
    if (ms < 0 || Number.isNaN(ms)) throw new BuildStepError(`Interval "${name}" cannot be less than 0s`);
    if (ms > 0 && ms < 1) throw new BuildStepError(`Interval "${name}" cannot be less than 1ms`);
    return Math.round(ms * 1e6);
  };
  const h: NonNullable<ImageRunConfig['Healthcheck']> = { Test: test };
  const interval = dur('interval'); if (interval) h.Interval = interval;
  const timeout = dur('timeout'); if (timeout) h.Timeout = timeout;
  const start = dur('start-period'); if (start) h.StartPeriod = start;
  if (c.flags.retries !== undefined) {
    const r = Number(c.flags.retries);
    if (!Number.isInteger(r)) throw new BuildStepError(`strconv.ParseInt: parsing "${c.flags.retries}": invalid syntax`);
    if (r < 1) throw new BuildStepError('--retries cannot be less than 1');
    h.Retries = r;
  }
  return h;
}

