import { RegistryError } from './errors.ts';
import { isDigest } from './names.ts';

/** The manifest types berth-registry stores (Docker schema 2 and its lists, OCI manifests and indexes). */
export const MediaTypes = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

const KNOWN = new Set<string>(Object.values(MediaTypes));
const isList = (mt: string): boolean => mt === MediaTypes.dockerList || mt === MediaTypes.ociIndex;
const FOREIGN = /^application\/vnd\.(docker\.image\.rootfs\.foreign\.diff\.|oci\.image\.layer\.nondistributable\.)/;

export interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
  urls?: string[];
}

export interface ParsedManifest {
  mediaType: string;
  /** Blobs the manifest needs in its repository (config and layers; foreign layers left out). */
  blobs: Desc[];
  /** Manifests an index or list needs in its repository. */
  manifests: Desc[];
  subject?: Desc;
  /** The referrers API's artifactType: the manifest's own, else its config's media type. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

const invalid = (detail: string): RegistryError => new RegistryError('MANIFEST_INVALID', detail);

function desc(v: unknown, where: string): Desc {
  const d = v as Desc;
  if (!d || typeof d !== 'object' || typeof d.mediaType !== 'string' || typeof d.digest !== 'string' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw invalid(`invalid descriptor in ${where}`);
  }
  if (!isDigest(d.digest)) throw invalid(`invalid digest ${d.digest} in ${where}`);
  return d;
}

/** The media type a stored manifest is served with: its mediaType field, else what its shape says (OCI allows leaving it out). */
export function mediaTypeOf(m: Record<string, unknown>): string {
  if (typeof m.mediaType === 'string' && m.mediaType) return m.mediaType;
  return Array.isArray(m.manifests) ? MediaTypes.ociIndex : MediaTypes.ociManifest;
}

/**
 * Parse and check a manifest as PUT sends it. The Content-Type wins; without one (or with application/json) the
 * mediaType field decides. A mediaType field that contradicts the Content-Type is MANIFEST_INVALID, as in distribution.
 */
export function parseManifest(bytes: Buffer, contentType?: string): ParsedManifest {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw invalid('manifest is not a JSON object');
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const field = typeof m.mediaType === 'string' ? m.mediaType : undefined;
  const mediaType = ct && ct !== 'application/json' ? ct : mediaTypeOf(m);
  if (!KNOWN.has(mediaType)) throw invalid(`unsupported manifest media type ${mediaType}`);
  if (field !== undefined && field !== mediaType) throw invalid(`mediaType ${field} does not match Content-Type ${mediaType}`);
  if (m.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
  const out: ParsedManifest = { mediaType, blobs: [], manifests: [] };
  if (isList(mediaType)) {
    if (!Array.isArray(m.manifests)) throw invalid('manifests must be an array');
    out.manifests = m.manifests.map((d, i) => desc(d, `manifests[${i}]`));
  } else {
    if (!Array.isArray(m.layers)) throw invalid('layers must be an array');
    const config = desc(m.config, 'config');
    out.blobs = [config, ...m.layers.map((d, i) => desc(d, `layers[${i}]`)).filter((d) => !FOREIGN.test(d.mediaType))];
    out.artifactType = typeof m.artifactType === 'string' ? m.artifactType : config.mediaType;
  }
  if (isList(mediaType) && typeof m.artifactType === 'string') out.artifactType = m.artifactType;
  if (m.subject !== undefined) out.subject = desc(m.subject, 'subject');
  if (m.annotations && typeof m.annotations === 'object') out.annotations = m.annotations as Record<string, string>;
  return out;
}

export const isListType = isList;
