/**
 * Image records and references.
 *   <root>/image/imagedb/content/sha256/<id>            the config blob, byte for byte (its sha256 is the ID)
 *   <root>/image/imagedb/metadata/sha256/<id>/{parent,lastUpdated}
 *   <root>/image/repositories.json                      {"Repositories":{"busybox":{"busybox:1.35":"sha256:…"}}}
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile, atomicWriteJson, NotFoundError, InvalidArgumentError } from '../lib/index.ts';
import type { ImageConfig } from '../oci/index.ts';
import { familiarName, familiarString, fullString, parseAnyReference, parseNormalizedNamed, type Reference } from './reference.ts';
import { chainIds } from './layer-store.ts';

export interface StoredImage {
  id: string;
  config: ImageConfig;
  /** Chain IDs of its layers, base first. */
  chain: string[];
  parent: string;
  lastTagTime?: string;
}

export function parseConfig(raw: Buffer): ImageConfig {
  let c: ImageConfig;
  try {
    c = JSON.parse(raw.toString('utf8')) as ImageConfig;
  } catch {
    throw new InvalidArgumentError('invalid image config: not JSON');
  }
  if (!c || typeof c !== 'object' || !c.rootfs || !Array.isArray(c.rootfs.diff_ids)) throw new InvalidArgumentError('invalid image config: no rootfs.diff_ids');
  for (const d of c.rootfs.diff_ids) if (typeof d !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d)) throw new InvalidArgumentError(`invalid image config: bad diff ID ${JSON.stringify(d)}`);
  return c;
}

export class ImageStore {
  readonly contentDir: string;
  readonly metaDir: string;
  readonly reposFile: string;
  readonly images = new Map<string, StoredImage>();
  /** Full reference string (`docker.io/library/busybox:1.35`, `…@sha256:…`) → image ID. */
  readonly refs = new Map<string, string>();

  constructor(root: string) {
    this.contentDir = join(root, 'image', 'imagedb', 'content', 'sha256');
    this.metaDir = join(root, 'image', 'imagedb', 'metadata', 'sha256');
    this.reposFile = join(root, 'image', 'repositories.json');
  }

  init(): void {
    mkdirSync(this.contentDir, { recursive: true });
    mkdirSync(this.metaDir, { recursive: true });
    for (const hex of readdirSync(this.contentDir)) {
      if (!/^[a-f0-9]{64}$/.test(hex)) { rmSync(join(this.contentDir, hex), { force: true }); continue; }
      const id = 'sha256:' + hex;
      const config = parseConfig(readFileSync(join(this.contentDir, hex)));
      const md = join(this.metaDir, hex);
      const img: StoredImage = {
        id, config, chain: chainIds(config.rootfs.diff_ids),
        parent: existsSync(join(md, 'parent')) ? readFileSync(join(md, 'parent'), 'utf8').trim() : '',
      };
      if (existsSync(join(md, 'lastUpdated'))) img.lastTagTime = readFileSync(join(md, 'lastUpdated'), 'utf8').trim();
      this.images.set(id, img);
    }
    if (existsSync(this.reposFile)) {
      const repos = JSON.parse(readFileSync(this.reposFile, 'utf8')) as { Repositories?: Record<string, Record<string, string>> };
      for (const byRef of Object.values(repos.Repositories ?? {})) {
        for (const [ref, id] of Object.entries(byRef)) {
          if (this.images.has(id)) this.refs.set(fullString(parseNormalizedNamed(ref)), id);
        }
      }
    }
  }

  /** Add an image from its raw config (already validated). Returns the ID. */
  async add(raw: Buffer, parent = ''): Promise<StoredImage> {
    const hex = createHash('sha256').update(raw).digest('hex');
    const id = 'sha256:' + hex;
    const have = this.images.get(id);
    if (have) return have;
    const config = parseConfig(raw);
    const md = join(this.metaDir, hex);
    mkdirSync(md, { recursive: true });
    if (parent) writeFileSync(join(md, 'parent'), parent);
    await atomicWriteFile(join(this.contentDir, hex), raw, 0o600);
    const img: StoredImage = { id, config, chain: chainIds(config.rootfs.diff_ids), parent };
    this.images.set(id, img);
    return img;
  }

  async delete(id: string): Promise<void> {
    const hex = id.slice(7);
    for (const [ref, v] of [...this.refs]) if (v === id) this.refs.delete(ref);
    rmSync(join(this.contentDir, hex), { force: true });
    rmSync(join(this.metaDir, hex), { recursive: true, force: true });
    this.images.delete(id);
    await this.saveRefs();
  }

  async setLastTagTime(id: string, when: string): Promise<void> {
    const img = this.images.get(id);
    if (!img) return;
    img.lastTagTime = when;
    mkdirSync(join(this.metaDir, id.slice(7)), { recursive: true });
    await atomicWriteFile(join(this.metaDir, id.slice(7), 'lastUpdated'), when);
  }

  async saveRefs(): Promise<void> {
    const repos: Record<string, Record<string, string>> = {};
    for (const [full, id] of [...this.refs].sort()) {
      const r = parseNormalizedNamed(full);
      (repos[familiarName(r.name)] ??= {})[familiarString(r)] = id;
    }
    await atomicWriteJson(this.reposFile, { Repositories: repos });
  }

  /** The references of an image, sorted as Docker sorts them (by familiar string). */
  refsOf(id: string): Reference[] {
    const out: Reference[] = [];
    for (const [full, v] of this.refs) if (v === id) out.push(parseNormalizedNamed(full));
    return out.sort((a, b) => (familiarString(a) < familiarString(b) ? -1 : familiarString(a) > familiarString(b) ? 1 : 0));
  }

  children(id: string): string[] {
    return [...this.images.values()].filter((i) => i.parent === id).map((i) => i.id);
  }

  /** Find an image by reference, full ID or unique ID prefix (Docker's GetImage). */
  resolve(refOrId: string): StoredImage | undefined {
    const any = parseAnyReference(refOrId);
    if (any.kind === 'id') return this.images.get(any.id);
    const ref = any.ref;
    const key = fullString(ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: 'latest' } : ref);
    const byRef = this.refs.get(key);
    if (byRef && this.images.has(byRef)) return this.images.get(byRef);
    // Short ID prefix (optionally with sha256:)
    const prefix = refOrId.startsWith('sha256:') ? refOrId.slice(7) : refOrId;
    if (/^[a-f0-9]+$/.test(prefix)) {
      let found: StoredImage | undefined;
      for (const img of this.images.values()) {
        if (img.id.startsWith('sha256:' + prefix)) {
          if (found) return undefined; // ambiguous
          found = img;
        }
      }
      return found;
    }
    return undefined;
  }
}

/** Docker's "No such image" text for a lookup string (tag added for names). */
export function noSuchImage(refOrId: string): NotFoundError {
  let shown = refOrId;
  try {
    const any = parseAnyReference(refOrId);
    if (any.kind === 'named') {
      const r = any.ref;
      shown = familiarString(r.tag === undefined && r.digest === undefined ? { ...r, tag: 'latest' } : r);
    }
  } catch { /* shown as given */ }
  return new NotFoundError(`No such image: ${shown}`);
}
