/** Attach sessions: output fan-out, stdin with detach keys (Docker's escape proxy), and their end. */
import { DetachWatcher, parseDetachKeys } from '../lib/index.ts';
import type { AttachSession } from '../runtime/index.ts';
import type { AttachStreams } from './backend.ts';

export { parseDetachKeys };

export class Attach implements AttachStreams {
  readonly tty: boolean;
  readonly done: Promise<{ detached: boolean }>;
  #resolve!: (v: { detached: boolean }) => void;
  #finished = false;
  #cbs: ((stream: 1 | 2, data: Buffer) => void)[] = [];
  #queue: [1 | 2, Buffer][] = [];
  #holding = true;
  #session: AttachSession | undefined;
  #stdinBuf: Buffer[] = [];
  #stdinClosed = false;
  readonly #watch: DetachWatcher;
  readonly want: { stdin: boolean; stdout: boolean; stderr: boolean };
  readonly closeStdinOnEof: boolean;
  onEnd: (() => void) | undefined;

  constructor(tty: boolean, keys: number[], want: { stdin: boolean; stdout: boolean; stderr: boolean }, closeStdinOnEof: boolean) {
    this.tty = tty;
    this.#watch = new DetachWatcher(keys);
    this.want = want;
    this.closeStdinOnEof = closeStdinOnEof;
    this.done = new Promise((r) => (this.#resolve = r));
  }

  get finished(): boolean { return this.#finished; }
  get connected(): boolean { return this.#session !== undefined; }

  onOutput(cb: (stream: 1 | 2, data: Buffer) => void): void {
    this.#cbs.push(cb);
    this.#flush();
  }

  /** Deliver output (replayed logs or live), respecting the stdout/stderr selection. */
  output(stream: 1 | 2, data: Buffer): void {
    if (this.#finished || data.length === 0) return;
    const s: 1 | 2 = this.tty ? 1 : stream;
    if ((s === 1 && !this.want.stdout) || (s === 2 && !this.want.stderr)) return;
    if (this.#holding || this.#cbs.length === 0) { this.#queue.push([s, data]); return; }
    for (const cb of this.#cbs) cb(s, data);
  }

  /** Live output is held back until replayed logs went out. */
  release(): void {
    this.#holding = false;
    this.#flush();
  }

  #flush(): void {
    if (this.#holding || this.#cbs.length === 0) return;
    const q = this.#queue;
    this.#queue = [];
    for (const [s, d] of q) for (const cb of this.#cbs) cb(s, d);
  }

  connect(session: AttachSession): void {
    this.#session = session;
    session.onData((s, d) => this.output(s, d));
    session.onClose(() => this.finish(false));
    for (const b of this.#stdinBuf) session.write(b);
    this.#stdinBuf = [];
    if (this.#stdinClosed) session.closeStdin();
  }

  writeStdin(data: Buffer): void {
    if (this.#finished || !this.want.stdin) return;
    const { pass, detached } = this.#watch.feed(data);
    if (pass.length) this.#send(pass);
    if (detached) this.finish(true);
  }

  #send(b: Buffer): void {
    if (this.#session) this.#session.write(b);
    else this.#stdinBuf.push(b);
  }

  /**
   * The client's input ended. As dockerd (container/stream/attach.go): with StdinOnce and no TTY the container's
   * stdin closes and output goes on until it exits; otherwise the container's stdin stays open for the next client
   * and this attach ends (a docker CLI that caught the detach keys itself half-closes like this).
   */
  closeStdin(): void {
    if (!this.closeStdinOnEof) { this.finish(false); return; }
    if (this.#stdinClosed) return;
    this.#stdinClosed = true;
    this.#session?.closeStdin();
  }

  close(): void { this.finish(false); }

  finish(detached: boolean): void {
    if (this.#finished) return;
    this.#holding = false;
    this.#flush();
    this.#finished = true;
    const s = this.#session;
    if (s) setImmediate(() => { try { s.close(); } catch { /* already gone */ } });
    this.onEnd?.();
    this.#resolve({ detached });
  }
}
