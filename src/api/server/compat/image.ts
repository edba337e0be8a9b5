/** Image records → Docker's image summary, inspect and history JSON. */
import type { ImageRecord, GraphDriverData, HistoryItem } from '../../../image/index.ts';
import type { ImageSummary, ImageInspect, ImageHistoryItem } from '../../types/index.ts';
import { wireConfig } from './config.ts';
import { graphDriver, unixSeconds } from './container.ts';

const ZERO = '0001-01-01T00:00:00Z';

export function imageSummary(r: ImageRecord, containers = -1, sharedSize = -1): ImageSummary {
  const dangling = r.repoTags.length === 0 && r.repoDigests.length === 0;
  return {
    Containers: containers,
    Created: unixSeconds(r.config.created),
    Id: r.id,
    Labels: r.config.config?.Labels ?? null,
    ParentId: r.parent,
    RepoDigests: dangling ? ['<none>@<none>'] : r.repoDigests.length ? r.repoDigests : null,
    RepoTags: dangling ? ['<none>:<none>'] : r.repoTags.length ? r.repoTags : null,
    SharedSize: sharedSize,
    Size: r.size,
    VirtualSize: r.size,
  };
}

/**
 * Bytes an image shares with others: the size of the largest other image whose layer chain is a prefix of
 * this one's (the whole image when its chain is a prefix of another's). Exact for base-image sharing.
 */
export function sharedSizes(images: ImageRecord[]): Map<string, number> {
  const out = new Map<string, number>();
  const chains = images.map((r) => r.config.rootfs?.diff_ids ?? []);
  images.forEach((a, i) => {
    const ca = chains[i]!;
    let shared = 0;
    images.forEach((b, j) => {
      if (i === j) return;
      const cb = chains[j]!;
      const n = Math.min(ca.length, cb.length);
      if (n === 0) return;
      for (let k = 0; k < n; k++) if (ca[k] !== cb[k]) return;
      shared = Math.max(shared, ca.length <= cb.length ? a.size : b.size);
    });
    out.set(a.id, shared);
  });
  return out;
}

export function imageInspect(r: ImageRecord, gd: GraphDriverData | undefined): ImageInspect {
  const c = r.config;
  const out = {
    Id: r.id,
    RepoTags: r.repoTags,
    RepoDigests: r.repoDigests,
    Parent: r.parent,
    Comment: c.comment ?? '',
    Created: c.created ?? ZERO,
    Container: c.container ?? '',
    ContainerConfig: wireConfig(c.container_config as Record<string, unknown> | undefined),
    DockerVersion: c.docker_version ?? '',
    Author: c.author ?? '',
    Config: c.config ? wireConfig(c.config as Record<string, unknown>) : null,
    Architecture: c.architecture,
  } as ImageInspect;
  if (c.variant) out.Variant = c.variant;
  out.Os = c.os;
  out.Size = r.size;
  out.VirtualSize = r.size;
  out.GraphDriver = graphDriver(gd);
  out.RootFS = { Type: 'layers', Layers: c.rootfs?.diff_ids ?? [] };
  out.Metadata = { LastTagTime: r.lastTagTime ?? ZERO };
  return out;
}

export function historyItem(h: HistoryItem): ImageHistoryItem {
  return { Comment: h.Comment, Created: h.Created, CreatedBy: h.CreatedBy, Id: h.Id, Size: h.Size, Tags: h.Tags };
}
