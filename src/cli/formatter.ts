/**
 * docker's cli/command/formatter: `--format` handling (`table` prefix, `\t` escapes, headers,
 * tabwriter) and the formatter contexts of ps, images and history.
 */
import { humanDuration, humanSize, humanSizeWithPrecision } from '../lib/index.ts';
import type { ContainerSummary, ImageSummary, HistoryItem, Port } from '../client/index.ts';
import { TYPE_NAME, Template, TemplateError } from './template.ts';
import { tabulate } from './tabwriter.ts';

export function truncateId(id: string): string {
  const i = id.indexOf(':');
  if (i >= 0) id = id.slice(i + 1);
  return id.length > 12 ? id.slice(0, 12) : id;
}

/** Docker's formatter.Ellipsis: at most n runes, the last one `…` when cut. */
export function ellipsis(s: string, n: number): string {
  const r = [...s];
  if (r.length <= n) return s;
  return `${r.slice(0, n - 1).join('')}…`;
}

/** time.Unix(t).String() in UTC: `2026-11-23 14:18:42 +0000 UTC`. */
export function goTimeString(sec: number): string {
  return `${new Date(sec * 1000).toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

export function rfc3339(sec: number): string {
  return `${new Date(sec * 1000).toISOString().slice(0, 19)}Z`;
}

export function ago(sec: number): string {
  return `${humanDuration(Date.now() - sec * 1000)} ago`;
}

/** Go's strconv.Quote (close enough: JSON string escaping). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** api/types DisplayablePorts (20.10). */
export function displayablePorts(ports: Port[]): string {
  const sorted = [...ports].sort((a, b) =>
    a.PrivatePort !== b.PrivatePort ? a.PrivatePort - b.PrivatePort
      : (a.IP ?? '') !== (b.IP ?? '') ? ((a.IP ?? '') < (b.IP ?? '') ? -1 : 1)
        : (a.PublicPort ?? 0) !== (b.PublicPort ?? 0) ? (a.PublicPort ?? 0) - (b.PublicPort ?? 0)
          : a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0);
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const host: string[] = [];
  const form = (key: string, first: number, last: number): string => {
    const parts = key.split('/');
    let type = parts[0]!;
    let ip = '';
    if (parts.length > 1) { ip = parts[0]!; type = parts[1]!; }
    let g = String(first);
    if (first !== last) g = `${g}-${last}`;
    if (ip) g = `${ip}:${g}->${g}`;
    return `${g}/${type}`;
  };
  for (const p of sorted) {
    const cur = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if (p.PublicPort !== cur) { host.push(`${p.IP}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`); continue; }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) { groups.set(key, { first: cur, last: cur }); continue; }
    if (cur === g.last + 1) { g.last = cur; continue; }
    result.push(form(key, g.first, g.last));
    // the key keeps its place (Go records the order in which keys first appear)
    groups.set(key, { first: cur, last: cur });
  }
  for (const [key, g] of groups) result.push(form(key, g.first, g.last));
  return [...result, ...host].join(', ');
}

function joinLabels(l: Record<string, string> | null | undefined): string {
  return Object.entries(l ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join(',');
}

/** docker's ContainerContext. */
export function containerContext(c: ContainerSummary, trunc: boolean): Record<string | symbol, unknown> {
  const ctx = {
    [TYPE_NAME]: '*formatter.ContainerContext',
    ID: () => (trunc ? truncateId(c.Id) : c.Id),
    Names: () => {
      const names = (c.Names ?? []).map((n) => n.replace(/^\//, ''));
      return (trunc ? names.filter((n) => !n.includes('/')) : names).join(',');
    },
    Image: () => {
      const img = c.Image ?? '';
      if (!trunc) return img;
      if (c.ImageID && truncateId(c.ImageID) === truncateId(img)) return truncateId(img);
      const at = img.indexOf('@');
      return at > 0 && img.slice(0, at).includes(':') ? img.slice(0, at) : img;
    },
    Command: () => goQuote(trunc ? ellipsis(c.Command, 20) : c.Command),
    CreatedAt: () => goTimeString(c.Created),
    RunningFor: () => ago(c.Created),
    Ports: () => displayablePorts(c.Ports ?? []),
    State: () => c.State,
    Status: () => c.Status,
    Size: () => {
      const rw = humanSizeWithPrecision(c.SizeRw ?? 0, 3);
      return c.SizeRootFs ? `${rw} (virtual ${humanSizeWithPrecision(c.SizeRootFs, 3)})` : rw;
    },
    Labels: () => joinLabels(c.Labels),
    Label: (name: string) => c.Labels?.[name] ?? '',
    Mounts: () => (c.Mounts ?? []).map((m) => {
      const n = m.Name || m.Source || '';
      return trunc ? ellipsis(n, 15) : n;
    }).join(','),
    LocalVolumes: () => String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
    Networks: () => Object.keys(c.NetworkSettings?.Networks ?? {}).sort().join(','),
    toJSON: () => Object.fromEntries(['Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Ports', 'RunningFor', 'Size', 'State', 'Status']
      .map((k) => [k, (ctx[k as keyof typeof ctx] as () => string)()])),
  };
  return ctx;
}

export const containerHeaders: Record<string, string> = {
  ID: 'CONTAINER ID', Names: 'NAMES', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED',
  Ports: 'PORTS', State: 'STATE', Status: 'STATUS', Size: 'SIZE', Labels: 'LABELS', Label: 'LABEL', Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES', Networks: 'NETWORKS',
};

export interface ImageRow { image: ImageSummary; repo: string; tag: string; digest: string }

/** One row per repo:tag (and per digest when asked), as docker's imageFormatTaggedAndDigest. */
export function imageRows(images: ImageSummary[], digests: boolean): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const image of images) {
    const tags = (image.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
    const dgs = (image.RepoDigests ?? []).filter((d) => d !== '<none>@<none>');
    if (!tags.length && !dgs.length) { rows.push({ image, repo: '<none>', tag: '<none>', digest: '<none>' }); continue; }
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const t of tags) {
      const i = t.lastIndexOf(':');
      const repo = i > t.lastIndexOf('/') ? t.slice(0, i) : t;
      const tag = i > t.lastIndexOf('/') ? t.slice(i + 1) : '';
      if (!repoTags.has(repo)) repoTags.set(repo, []);
      repoTags.get(repo)!.push(tag);
    }
    for (const d of dgs) {
      const i = d.indexOf('@');
      const repo = d.slice(0, i);
      if (!repoDigests.has(repo)) repoDigests.set(repo, []);
      repoDigests.get(repo)!.push(d.slice(i + 1));
    }
    for (const [repo, ts] of repoTags) {
      const ds = digests ? (repoDigests.get(repo) ?? []) : [];
      repoDigests.delete(repo);
      for (const tag of ts) {
        if (!ds.length) rows.push({ image, repo, tag, digest: '<none>' });
        else for (const d of ds) rows.push({ image, repo, tag, digest: d });
      }
    }
    for (const [repo, ds] of repoDigests) {
      if (digests) for (const d of ds) rows.push({ image, repo, tag: '<none>', digest: d });
      else rows.push({ image, repo, tag: '<none>', digest: '' });
    }
  }
  return rows;
}

export function imageContext(r: ImageRow, trunc: boolean): Record<string | symbol, unknown> {
  const i = r.image;
  const ctx = {
    [TYPE_NAME]: '*formatter.imageContext',
    ID: () => (trunc ? truncateId(i.Id) : i.Id),
    Repository: () => r.repo,
    Tag: () => r.tag,
    Digest: () => r.digest,
    CreatedSince: () => ago(i.Created),
    CreatedAt: () => goTimeString(i.Created),
    Size: () => humanSizeWithPrecision(i.Size, 3),
    Containers: () => (i.Containers === -1 ? 'N/A' : String(i.Containers)),
    VirtualSize: () => humanSize(i.VirtualSize ?? i.Size),
    SharedSize: () => (i.SharedSize === -1 ? 'N/A' : humanSize(i.SharedSize)),
    UniqueSize: () => (i.SharedSize === -1 ? 'N/A' : humanSize(i.Size - i.SharedSize)),
    toJSON: () => Object.fromEntries(['Containers', 'CreatedAt', 'CreatedSince', 'Digest', 'ID', 'Repository', 'SharedSize', 'Size', 'Tag', 'UniqueSize', 'VirtualSize']
      .map((k) => [k, (ctx[k as keyof typeof ctx] as () => string)()])),
  };
  return ctx;
}

export const imageHeaders: Record<string, string> = {
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
  Size: 'SIZE', Containers: 'CONTAINERS', VirtualSize: 'VIRTUAL SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE',
};

export function historyContext(h: HistoryItem, trunc: boolean, human: boolean): Record<string | symbol, unknown> {
  const ctx = {
    [TYPE_NAME]: '*formatter.historyContext',
    ID: () => (h.Id.startsWith('sha256:') && trunc ? truncateId(h.Id) : h.Id),
    CreatedAt: () => rfc3339(h.Created),
    CreatedSince: () => (human ? ago(h.Created) : rfc3339(h.Created)),
    CreatedBy: () => { const s = h.CreatedBy.replaceAll('\t', ' '); return trunc ? ellipsis(s, 45) : s; },
    Size: () => (human ? humanSizeWithPrecision(h.Size, 3) : String(h.Size)),
    Comment: () => h.Comment,
    toJSON: () => Object.fromEntries(['Comment', 'CreatedAt', 'CreatedBy', 'CreatedSince', 'ID', 'Size'].map((k) => [k, (ctx[k as keyof typeof ctx] as () => string)()])),
  };
  return ctx;
}

export const historyHeaders: Record<string, string> = {
  ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT',
};

/** Writes rows through a `--format` (docker's formatter.Context): returns the text to print. */
export function formatRows(format: string, rows: Array<Record<string | symbol, unknown>>, headers: Record<string, string>): string {
  let f = format;
  const table = f.startsWith('table');
  if (table) f = f.slice(5);
  f = f.replaceAll('\\t', '\t').replaceAll('\\n', '\n');
  if (table) f = f.trim();
  const t = new Template(f);
  let out = '';
  if (table) {
    // header: the same template over a context whose fields return the column names
    const typeName = (rows[0]?.[TYPE_NAME] as string | undefined) ?? '';
    const h: Record<string | symbol, unknown> = { [TYPE_NAME]: typeName };
    for (const [k, v] of Object.entries(headers)) h[k] = k === 'Label' ? (name: unknown) => String(name) : () => v;
    try { out += `${t.execute(h)}\n`; } catch { /* docker prints no header when it cannot render it */ }
  }
  for (const r of rows) out += `${t.execute(r)}\n`;
  return table ? tabulate(out) : out;
}

export { TemplateError };
