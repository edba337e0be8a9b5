/**
 * Garbage collection, as distribution's registry/storage/garbagecollect.go: mark every blob that a manifest revision
 * of any repository references (the manifest itself, its config and layers, an index's children), then sweep the
 * blob store of the rest. Also drops layer links whose blob is gone and uploads older than `uploadMaxAgeMs`.
 * Run it while nothing pushes (distribution asks for read-only mode): a blob uploaded but not yet referenced is swept.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { log, removeAll } from '../../lib/index.ts';
import { parseManifest } from './manifest.ts';
import { Storage, list } from './storage.ts';

export interface GcOptions {
  dryRun?: boolean;
  /**
   * Also delete manifests no tag reaches (distribution's --delete-untagged): kept are tagged manifests, the children
   * of kept indexes, and the referrers of kept manifests (signatures, SBOMs).
   */
  deleteUntagged?: boolean;
  /** Uploads started longer ago than this are removed (default 24 h). */
  uploadMaxAgeMs?: number;
  now?: number;
}

export interface GcResult {
  marked: number;
  removedBlobs: string[];
  freedBytes: number;
  removedUploads: string[];
  removedManifests: string[];
}

export async function garbageCollect(root: string, opts: GcOptions = {}): Promise<GcResult> {
  const st = new Storage(root);
  const now = opts.now ?? Date.now();
  const maxAge = opts.uploadMaxAgeMs ?? 24 * 3600_000;
  const marked = new Set<string>();
  const repos = await st.repositories();

  const removedManifests: string[] = [];
  for (const repo of repos) {
    let revisions = await st.revisions(repo);
    if (opts.deleteUntagged) {
      const untagged = await untaggedManifests(st, repo, revisions);
      for (const d of untagged) {
        removedManifests.push(`${repo}@${d}`);
        if (!opts.dryRun) await st.deleteManifest(repo, d);
      }
      revisions = revisions.filter((d) => !untagged.includes(d));
    }
    for (const digest of revisions) {
      let bytes: Buffer;
      try {
        bytes = await readFile(st.blobData(digest));
      } catch {
        continue; // a revision whose content is gone marks nothing
      }
      marked.add(digest);
      try {
        const p = parseManifest(bytes);
        for (const d of [...p.blobs, ...p.manifests]) marked.add(d.digest);
      } catch (e) {
        log().warn({ repo, digest, err: e }, 'garbage-collect: cannot parse manifest; keeping it, marking nothing else');
      }
    }
  }

  const result: GcResult = { marked: marked.size, removedBlobs: [], freedBytes: 0, removedUploads: [], removedManifests };
  const blobs = join(st.v2, 'blobs', 'sha256');
  for (const prefix of await list(blobs)) {
    for (const hex of await list(join(blobs, prefix))) {
      const digest = `sha256:${hex}`;
      if (marked.has(digest)) continue;
      const size = await stat(join(blobs, prefix, hex, 'data')).then((s) => s.size, () => 0);
      result.removedBlobs.push(digest);
      result.freedBytes += size;
      if (!opts.dryRun) await removeAll(join(blobs, prefix, hex));
    }
  }

  for (const repo of repos) {
    const layers = join(st.repoDir(repo), '_layers', 'sha256');
    for (const hex of await list(layers)) {
      if (!marked.has(`sha256:${hex}`) && !opts.dryRun) await removeAll(join(layers, hex));
    }
    const uploads = join(st.repoDir(repo), '_uploads');
    for (const uuid of await list(uploads)) {
      const started = Date.parse(await readFile(join(uploads, uuid, 'startedat'), 'utf8').catch(() => ''));
      if (Number.isFinite(started) && now - started < maxAge) continue;
      result.removedUploads.push(`${repo}/${uuid}`);
      if (!opts.dryRun) await removeAll(join(uploads, uuid));
    }
  }
  log().info({ marked: result.marked, removed: result.removedBlobs.length, freedBytes: result.freedBytes, uploads: result.removedUploads.length }, 'garbage-collect done');
  return result;
}

/** The manifests of a repository that no tag reaches (through index children or as a referrer of a kept manifest). */
async function untaggedManifests(st: Storage, repo: string, revisions: string[]): Promise<string[]> {
  const info = new Map<string, { children: string[]; subject?: string }>();
  for (const d of revisions) {
    try {
      const p = parseManifest(await readFile(st.blobData(d)));
      info.set(d, { children: p.manifests.map((m) => m.digest), ...(p.subject ? { subject: p.subject.digest } : {}) });
    } catch {
      info.set(d, { children: [] });
    }
  }
  const kept = new Set<string>();
  for (const tag of await st.tags(repo).catch(() => [])) {
    const m = await st.getManifest(repo, tag).catch(() => undefined);
    if (m) kept.add(m.digest);
  }
  for (let grew = true; grew; ) {
    grew = false;
    for (const [d, i] of info) {
      const add = kept.has(d) ? i.children.filter((c) => !kept.has(c)) : i.subject && kept.has(i.subject) ? [d] : [];
      for (const c of add) {
        kept.add(c);
        grew = true;
      }
    }
  }
  return revisions.filter((d) => !kept.has(d));
}
