/** Test helpers: a registry on 127.0.0.1:0 over a temp root, blob and manifest uploads. Not part of the module surface. */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeAll } from '../../lib/index.ts';
import { startRegistry, type Authorizer, type RunningRegistry } from './index.ts';

export const sha = (b: string | Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface TestRegistry {
  reg: RunningRegistry;
  root: string;
  base: string;
  req(path: string, init?: RequestInit): Promise<{ status: number; headers: Headers; text: string; json: () => unknown }>;
  pushBlob(repo: string, data: string | Buffer): Promise<string>;
  pushManifest(repo: string, ref: string, m: object, mediaType: string): Promise<{ status: number; digest: string; bytes: string; headers: Headers }>;
  close(): Promise<void>;
}

export async function testRegistry(authorizer?: Authorizer): Promise<TestRegistry> {
  const root = mkdtempSync(join(tmpdir(), 'berth-reg-test-'));
  const reg = await startRegistry({ root, addr: '127.0.0.1:0', ...(authorizer ? { authorizer } : {}) });
  const base = `http://${reg.addr}`;
  const req: TestRegistry['req'] = async (path, init) => {
    const r = await fetch(base + path, init);
    const text = await r.text();
    return { status: r.status, headers: r.headers, text, json: () => JSON.parse(text) as unknown };
  };
  return {
    reg, root, base, req,
    async pushBlob(repo, data) {
      const d = sha(data);
      const r = await req(`/v2/${repo}/blobs/uploads/?digest=${d}`, { method: 'POST', body: data, headers: { 'Content-Type': 'application/octet-stream' } });
      if (r.status !== 201) throw new Error(`push blob: ${r.status} ${r.text}`);
      return d;
    },
    async pushManifest(repo, ref, m, mediaType) {
      const bytes = JSON.stringify(m);
      const r = await req(`/v2/${repo}/manifests/${ref}`, { method: 'PUT', body: bytes, headers: { 'Content-Type': mediaType } });
      return { status: r.status, digest: sha(bytes), bytes, headers: r.headers };
    },
    async close() {
      await reg.close();
      await removeAll(root);
    },
  };
}

/** An image manifest of `mediaType` over a config and layers already pushed. */
export function imageManifest(mediaType: string, config: { digest: string; size: number; mediaType?: string }, layers: { digest: string; size: number }[], extra: object = {}): object {
  const docker = mediaType.includes('docker');
  return {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: config.mediaType ?? (docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json'), digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
    ...extra,
  };
}
