/**
 * Container logs (architecture §5.4, design (a)): conmon writes a bounded k8s-file staging log
 * (`<RFC3339Nano> stdout|stderr F|P <text>`); the daemon converts it into Docker's json-file
 * `<id>-json.log` and remembers how far it got, so output written while it was down is converted
 * after a restart. Readers (logs, attach logs=1) read only the json-file.
 */
import { open, stat, rename, unlink, type FileHandle } from 'node:fs/promises';
import { EventEmitter } from 'node:events';
import { parseRfc3339, rfc3339Nano, rfc3339NanoFixed, type Nanos } from './time.ts';

/** Docker splits a line longer than this into several json-file entries. */
const MAX_ENTRY = 16 * 1024;

/** Go's encoding/json string escaping (HTML-safe: <, >, & as \u003c…; \u0008 and \u000c spelled out). */
export function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029\b\f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function jsonLogLine(log: string, stream: 'stdout' | 'stderr', time: Nanos): string {
  return `{"log":${goJsonString(log)},"stream":"${stream}","time":"${rfc3339Nano(time)}"}\n`;
}

export interface K8sRecord { time: Nanos; stream: 'stdout' | 'stderr'; partial: boolean; text: Buffer }

/** Parse one k8s-file line (without its newline); undefined for garbage. */
export function parseK8sLine(line: Buffer): K8sRecord | undefined {
  const s1 = line.indexOf(0x20);
  if (s1 < 0) return undefined;
  const s2 = line.indexOf(0x20, s1 + 1);
  if (s2 < 0) return undefined;
  const stream = line.subarray(s1 + 1, s2).toString();
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = line.subarray(s2 + 1, s2 + 2).toString();
  const time = parseRfc3339(line.subarray(0, s1).toString());
  if (time === undefined || (tag !== 'F' && tag !== 'P')) return undefined;
  // `<ts> <stream> <tag> <text>`; an empty full line may come as `<ts> <stream> F` without the space.
  const text = line.length > s2 + 3 ? line.subarray(s2 + 3) : Buffer.alloc(0);
  return { time, stream, partial: tag === 'P', text };
}

export interface ConverterState { offset: number; ino: number }

export interface LogRotation { maxSize: number; maxFiles: number }

/**
 * Converts one container's staging file into its json-file. `pump()` is idempotent and serialised;
 * `finish()` converts everything left (a pending partial line included) and closes the files.
 */
export class LogConverter extends EventEmitter {
  readonly staging: string;
  readonly jsonPath: string;
  #rot: LogRotation | undefined;
  /** --log-driver none: lines are read (the staging log must not fill up) and dropped. */
  #discard: boolean;
  #fh: FileHandle | undefined;
  #ino = 0;
  /** Bytes of the staging file consumed (complete records, partial ones included). */
  #readPos = 0;
  /** Offset of the first byte not yet safely in the json-file (start of a pending partial line). */
  #committed = 0;
  #carry: Buffer = Buffer.alloc(0);
  #pending: { stream: 'stdout' | 'stderr'; time: Nanos; parts: Buffer[]; size: number } | undefined;
  /** Skip records at or before this time (already converted before a crash). */
  #skipUntil: Nanos | undefined;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  #jsonSize = -1;

  constructor(staging: string, jsonPath: string, state: ConverterState, opts: { skipUntil?: Nanos; rotation?: LogRotation; discard?: boolean } = {}) {
    super();
    this.staging = staging;
    this.jsonPath = jsonPath;
    this.#readPos = this.#committed = state.offset;
    this.#ino = state.ino;
    this.#skipUntil = opts.skipUntil;
    this.#rot = opts.rotation;
    this.#discard = opts.discard === true;
  }

  get state(): ConverterState { return { offset: this.#committed, ino: this.#ino }; }

  pump(): Promise<void> {
    const p = this.#chain.then(() => this.#pump(false));
    this.#chain = p.catch(() => {});
    return p;
  }

  finish(): Promise<void> {
    const p = this.#chain.then(() => this.#pump(true)).finally(() => this.#close());
    this.#chain = p.catch(() => {});
    return p;
  }

  /** Stop without converting further (daemon shutdown: the rest is converted after the restart). */
  close(): Promise<void> {
    const p = this.#chain.then(() => this.#close());
    this.#chain = p.catch(() => {});
    return p;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    await this.#fh?.close().catch(() => {});
    this.#fh = undefined;
    this.emit('closed');
  }

  async #openStaging(): Promise<boolean> {
    let st;
    try { st = await stat(this.staging); } catch { return false; }
    if (this.#fh && st.ino === this.#ino) {
      if (st.size < this.#readPos) { this.#readPos = this.#committed = 0; this.#carry = Buffer.alloc(0); this.#pending = undefined; } // truncated in place
      return true;
    }
    if (this.#fh) {
      // conmon replaced the file (its --log-size-max truncation): drain the old one first.
      await this.#drain(false);
      await this.#fh.close().catch(() => {});
      this.#fh = undefined;
      this.#readPos = this.#committed = 0;
      this.#carry = Buffer.alloc(0);
    } else if (this.#ino !== 0 && st.ino !== this.#ino) {
      this.#readPos = this.#committed = 0; // replaced while we were away
    } else if (st.size < this.#readPos) {
      this.#readPos = this.#committed = 0; // truncated in place
    }
    try { this.#fh = await open(this.staging, 'r'); } catch { return false; }
    this.#ino = st.ino;
    return true;
  }

  async #pump(final: boolean): Promise<void> {
    if (this.#closed) return;
    if (await this.#openStaging()) await this.#drain(final);
    else if (final) {
      const out: string[] = [];
      await this.#flushPending(out);
      await this.#write(out);
    }
  }

  async #drain(final: boolean): Promise<void> {
    const fh = this.#fh!;
    const out: string[] = [];
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, this.#readPos);
      if (bytesRead === 0) break;
      const chunk = this.#carry.length ? Buffer.concat([this.#carry, buf.subarray(0, bytesRead)]) : Buffer.from(buf.subarray(0, bytesRead));
      let start = 0;
      const consumedBase = this.#readPos - this.#carry.length;
      for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
        const rec = parseK8sLine(chunk.subarray(start, nl));
        const recStart = consumedBase + start;
        start = nl + 1;
        if (rec) this.#record(rec, recStart, consumedBase + start, out);
        else if (!this.#pending) this.#committed = consumedBase + start;
      }
      this.#carry = Buffer.from(chunk.subarray(start));
      this.#readPos += bytesRead;
      if (out.length >= 256) await this.#write(out.splice(0));
    }
    if (final) await this.#flushPending(out);
    await this.#write(out);
  }

  #record(r: K8sRecord, start: number, end: number, out: string[]): void {
    if (this.#skipUntil !== undefined) {
      if (r.time <= this.#skipUntil) { if (!this.#pending) this.#committed = end; return; }
      this.#skipUntil = undefined;
    }
    const p = this.#pending;
    if (p && p.stream !== r.stream) {
      // another stream interleaves: emit the partial line as its own entry, as Docker does at a buffer end
      out.push(jsonLogLine(Buffer.concat(p.parts).toString(), p.stream, p.time));
      this.#pending = undefined;
    }
    if (r.partial) {
      const q = this.#pending ?? (this.#pending = { stream: r.stream, time: r.time, parts: [], size: 0 });
      if (q.parts.length === 0) this.#committed = start;
      q.parts.push(r.text);
      q.size += r.text.length;
      if (q.size >= MAX_ENTRY) {
        out.push(jsonLogLine(Buffer.concat(q.parts).toString(), q.stream, q.time));
        this.#pending = undefined;
        this.#committed = end;
      }
      return;
    }
    const q = this.#pending;
    const text = q ? Buffer.concat([...q.parts, r.text]) : r.text;
    out.push(jsonLogLine(`${text.toString()}\n`, r.stream, q ? q.time : r.time));
    this.#pending = undefined;
    this.#committed = end;
  }

  async #flushPending(out: string[]): Promise<void> {
    const p = this.#pending;
    if (!p) return;
    out.push(jsonLogLine(Buffer.concat(p.parts).toString(), p.stream, p.time));
    this.#pending = undefined;
    this.#committed = this.#readPos - this.#carry.length;
  }

  async #write(lines: string[]): Promise<void> {
    if (!lines.length || this.#discard) return;
    const rot = this.#rot && this.#rot.maxSize > 0 ? this.#rot : undefined;
    if (!rot) {
      await appendTo(this.jsonPath, lines.join(''));
      this.emit('data');
      return;
    }
    // as Docker's jsonfile logger: rotate before a line that would take the file past max-size
    if (this.#jsonSize < 0) this.#jsonSize = await stat(this.jsonPath).then((s) => s.size, () => 0);
    let batch: string[] = [];
    for (const line of lines) {
      const n = Buffer.byteLength(line);
      if (this.#jsonSize > 0 && this.#jsonSize + n > rot.maxSize) {
        if (batch.length) await appendTo(this.jsonPath, batch.join(''));
        batch = [];
        await rotate(this.jsonPath, rot.maxFiles);
        this.#jsonSize = 0;
      }
      batch.push(line);
      this.#jsonSize += n;
    }
    if (batch.length) await appendTo(this.jsonPath, batch.join(''));
    this.emit('data');
  }
}

async function appendTo(path: string, data: string): Promise<void> {
  const fh = await open(path, 'a', 0o640);
  try { await fh.write(data); } finally { await fh.close(); }
}

async function rotate(path: string, maxFiles: number): Promise<void> {
  if (maxFiles <= 1) { await unlink(path).catch(() => {}); return; }
  await unlink(`${path}.${maxFiles - 1}`).catch(() => {});
  for (let i = maxFiles - 2; i >= 1; i--) await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => {});
  await rename(path, `${path}.1`).catch(() => {});
}

export interface JsonLogEntry { stream: 'stdout' | 'stderr'; time: Nanos; log: string }

export function parseJsonLogLine(line: string): JsonLogEntry | undefined {
  try {
    const o = JSON.parse(line) as { log?: string; stream?: string; time?: string };
    const time = parseRfc3339(o.time ?? '');
    if (typeof o.log !== 'string' || time === undefined) return undefined;
    return { stream: o.stream === 'stderr' ? 'stderr' : 'stdout', time, log: o.log };
  } catch {
    return undefined;
  }
}

/** Time of the last entry of a json-file (to skip what a crashed daemon had already converted). */
export async function lastJsonLogTime(path: string): Promise<Nanos | undefined> {
  let fh: FileHandle;
  try { fh = await open(path, 'r'); } catch { return undefined; }
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    const lines = buf.toString().split('\n').filter(Boolean);
    for (let i = lines.length - 1; i >= 0; i--) {
      const e = parseJsonLogLine(lines[i]!);
      if (e) return e.time;
    }
    return undefined;
  } finally {
    await fh.close();
  }
}

/** Read json-file entries from byte `from`; returns entries and the offset after the last complete line. */
export async function readJsonLog(path: string, from = 0): Promise<{ entries: JsonLogEntry[]; end: number }> {
  let fh: FileHandle;
  try { fh = await open(path, 'r'); } catch { return { entries: [], end: from }; }
  try {
    const { size } = await fh.stat();
    if (size <= from) return { entries: [], end: size < from ? 0 : from };
    const buf = Buffer.alloc(size - from);
    await fh.read(buf, 0, buf.length, from);
    const last = buf.lastIndexOf(0x0a);
    if (last < 0) return { entries: [], end: from };
    const entries: JsonLogEntry[] = [];
    for (const l of buf.subarray(0, last).toString().split('\n')) {
      const e = l ? parseJsonLogLine(l) : undefined;
      if (e) entries.push(e);
    }
    return { entries, end: from + last + 1 };
  } finally {
    await fh.close();
  }
}

/** Rotated files oldest first, then the live one. */
export async function jsonLogFiles(path: string, maxFiles: number): Promise<string[]> {
  const files: string[] = [];
  for (let i = Math.max(1, maxFiles) - 1; i >= 1; i--) {
    if (await stat(`${path}.${i}`).then(() => true, () => false)) files.push(`${path}.${i}`);
  }
  files.push(path);
  return files;
}

export { rfc3339NanoFixed };
