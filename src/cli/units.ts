/**
 * The few unit helpers the CLI needs, kept local: src/lib's index loads pino (~50 ms of start-up), and even without it
 * node:crypto, node:fs/promises and node:child_process through fs.ts, ids.ts and proc.ts (~20 ms, measured 2026-11-23),
 * too much for a CLI call. Same behaviour as lib/units.ts and lib/stdcopy.ts; drop this file once lib's index is that cheap.
 */
const decimal = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const binary = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function customSize(size: number, base: number, units: string[], precision: number): string {
  let i = 0;
  while (size >= base && i < units.length - 1) { size /= base; i++; }
  return `${Number(size.toPrecision(precision))}${units[i]}`;
}

/** units.HumanSize: `4.27MB` (4 significant digits). */
export const humanSize = (n: number): string => customSize(n, 1000, decimal, 4);
/** units.HumanSizeWithPrecision(n, 3): `1.99MB`, the precision of docker's SIZE columns. */
export const humanSize3 = (n: number): string => customSize(n, 1000, decimal, 3);
/** units.BytesSize: `23.54GiB`. */
export const bytesSize = (n: number): string => customSize(n, 1024, binary, 4);

/** units.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

/** units.RAMInBytes: `64m` → 67108864; throws on a bad size. */
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) throw new Error(`invalid size: '${s}'`);
  const mult: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5 };
  return Math.trunc(Number.parseFloat(m[1]!) * 1024 ** (m[2] ? mult[m[2].toLowerCase()]! : 0));
}

/** Go's time.ParseDuration → milliseconds; throws on a bad duration. */
export function parseGoDuration(s: string): number {
  if (s === '0') return 0;
  const f: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const rest = s.replace(/^[-+]/, '');
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(rest); m; m = re.exec(rest)) { total += Number.parseFloat(m[1]!) * f[m[2]!]!; pos = re.lastIndex; }
  if (pos !== rest.length || !rest.length) throw new Error(`time: invalid duration "${s}"`);
  return s.startsWith('-') ? -total : total;
}

export const STDOUT = 1;
export const STDERR = 2;
export const SYSTEMERR = 3;

/** Docker's stream demultiplexer: 8-byte headers [stream,0,0,0,size BE]. */
export class Demuxer {
  #buf: Buffer = Buffer.alloc(0);
  readonly onFrame: (stream: number, payload: Buffer) => void;
  constructor(onFrame: (stream: number, payload: Buffer) => void) { this.onFrame = onFrame; }
  push(chunk: Buffer): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    while (this.#buf.length >= 8) {
      const size = this.#buf.readUInt32BE(4);
      if (this.#buf.length < 8 + size) break;
      this.onFrame(this.#buf[0]!, this.#buf.subarray(8, 8 + size));
      this.#buf = this.#buf.subarray(8 + size);
    }
  }
}
