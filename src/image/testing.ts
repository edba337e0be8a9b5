/** Test helpers: build small tar archives in memory (tar-stream). Used by the image tests only. */
import tar from 'tar-stream';

const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;

/** One entry; owner defaults to the caller (so tests also run without root). */
export interface TarEntrySpec { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; linkname?: string; content?: string; mode?: number; uid?: number; gid?: number; pax?: Record<string, string> }

/** A tar of the entries, in order. */
export async function mkTar(entries: TarEntrySpec[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const h: Partial<tar.Header> & { name: string } = {
      name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: e.uid ?? uid, gid: e.gid ?? gid,
      mtime: new Date(1795392000 * 1000),
    };
    if (e.linkname) h.linkname = e.linkname;
    if (e.pax) h.pax = e.pax;
    if (type === 'file') pack.entry(h, e.content ?? '');
    else pack.entry(h);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const b of pack as AsyncIterable<Buffer>) chunks.push(b);
  return Buffer.concat(chunks);
}
