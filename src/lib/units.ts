import { InvalidArgumentError } from './errdefs.ts';

const decimal = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const binary = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** Go's `%.<precision>g` for a value below the base (no exponent form needed). */
function customSize(size: number, base: number, units: string[], precision: number): string {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return `${Number(size.toPrecision(precision))}${units[i]}`;
}

/** Docker's `units.HumanSizeWithPrecision`: decimal units (`1.99MB` with 3, the precision of docker's SIZE columns). */
export function humanSizeWithPrecision(bytes: number, precision: number): string {
  return customSize(bytes, 1000, decimal, precision);
}

/** Docker's `units.HumanSize`: decimal units, 4 significant digits (`4.27MB`, `1.62kB`, `0B`). */
export function humanSize(bytes: number): string {
  return customSize(bytes, 1000, decimal, 4);
}

/** Docker's `units.BytesSize`: binary units (`5.312MiB`). */
export function bytesSize(bytes: number): string {
  return customSize(bytes, 1024, binary, 4);
}

/** Docker's `units.HumanDuration` (`Less than a second`, `About a minute`, `3 hours`). */
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

const sizeRe = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;
const mult: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5 };

function parseSize(s: string, base: number): number {
  const m = sizeRe.exec(s);
  if (!m) throw new InvalidArgumentError(`invalid size: '${s}'`);
  const n = Number.parseFloat(m[1]!);
  const u = m[2] ? mult[m[2].toLowerCase()]! : 0;
  return Math.trunc(n * base ** u);
}

/** Docker's `units.RAMInBytes`: `64m` → 67108864 (binary multiples). */
export function ramInBytes(s: string): number {
  return parseSize(s, 1024);
}

/** Docker's `units.FromHumanSize`: `1kB` → 1000 (decimal multiples). */
export function fromHumanSize(s: string): number {
  return parseSize(s, 1000);
}

/** Go's `time.Duration` parser (`10s`, `1m30s`, `500ms`) → milliseconds. */
export function parseGoDuration(s: string): number {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  const f: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let sign = 1;
  let rest = s;
  if (rest.startsWith('-')) { sign = -1; rest = rest.slice(1); } else if (rest.startsWith('+')) rest = rest.slice(1);
  let total = 0;
  let pos = 0;
  re.lastIndex = 0;
  for (let m = re.exec(rest); m; m = re.exec(rest)) {
    total += Number.parseFloat(m[1]!) * f[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos !== rest.length || rest.length === 0) throw new InvalidArgumentError(`time: invalid duration "${s}"`);
  return sign * total;
}
