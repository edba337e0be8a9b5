/**
 * Timestamps with nanoseconds, as Go prints them. A time is kept as a bigint of nanoseconds since
 * the epoch; Node's clock only has microseconds, so the last digits of "now" are zero.
 */

export type Nanos = bigint;

let anchor = Date.now() - performance.now();

/**
 * The wall clock with microseconds. performance.now() gives the digits below the millisecond, but its
 * monotonic clock drifts from the wall clock (NTP slews it), so the anchor is moved whenever the sum leaves
 * the millisecond Date.now() is in: times compare rightly with Date.now() and with other hosts' clocks.
 */
export function nowNanos(): Nanos {
  const p = performance.now();
  const wall = Date.now();
  let ms = anchor + p;
  if (ms < wall || ms >= wall + 1) {
    anchor = wall - p;
    ms = wall;
  }
  return BigInt(Math.floor(ms * 1000)) * 1000n;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function base(ns: Nanos): { date: string; frac: string } {
  const sec = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  const d = new Date(Number(sec) * 1000);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return { date, frac: frac.toString().padStart(9, '0') };
}

/** Go's time.RFC3339Nano: trailing zeros of the fraction dropped (`…52.85766795Z`, `…52Z`). */
export function rfc3339Nano(ns: Nanos): string {
  const { date, frac } = base(ns);
  const f = frac.replace(/0+$/, '');
  return f ? `${date}.${f}Z` : `${date}Z`;
}

/** Docker's `logs -t` format: always 9 fraction digits (`…52.857667950Z`). */
export function rfc3339NanoFixed(ns: Nanos): string {
  const { date, frac } = base(ns);
  return `${date}.${frac}Z`;
}

const tsRe = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/** Parse an RFC 3339 time with up to 9 fraction digits and any offset; undefined when malformed. */
export function parseRfc3339(s: string): Nanos | undefined {
  const m = tsRe.exec(s);
  if (!m) return undefined;
  let secs = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000;
  const off = m[8]!;
  if (off !== 'Z') {
    const sign = off[0] === '-' ? -1 : 1;
    secs -= sign * (Number(off.slice(1, 3)) * 3600 + Number(off.slice(4, 6)) * 60);
  }
  const frac = BigInt((m[7] ?? '').padEnd(9, '0') || '0');
  return BigInt(secs) * 1_000_000_000n + frac;
}

/** Unix seconds (float, as the API's since/until) → nanoseconds. */
export function secondsToNanos(s: number): Nanos {
  const whole = Math.floor(s);
  return BigInt(whole) * 1_000_000_000n + BigInt(Math.round((s - whole) * 1e9));
}
