/** Docker's detach keys, shared by the daemon's attach and the CLI (which watches its own input for them). */
import { InvalidArgumentError } from './errdefs.ts';

/** Docker's detach-key syntax (`ctrl-p,ctrl-q`, `a`, `ctrl-@`…) → bytes. */
export function parseDetachKeys(s: string): number[] {
  const out: number[] = [];
  for (const part of s.split(',')) {
    const k = part.trim();
    if (k.length === 1) { out.push(k.charCodeAt(0)); continue; }
    const m = /^ctrl-(.)$/i.exec(k);
    if (!m) throw new InvalidArgumentError(`Invalid detach keys (${s}) provided`);
    const c = m[1]!;
    if (/[a-z]/i.test(c)) out.push(c.toLowerCase().charCodeAt(0) - 96);
    else if ('@[\\]^_'.includes(c)) out.push('@[\\]^_'.indexOf(c) === 0 ? 0 : 27 + '[\\]^_'.indexOf(c));
    else throw new InvalidArgumentError(`Invalid detach keys (${s}) provided`);
  }
  return out;
}

/**
 * Watches a byte stream for the detach sequence (docker's escapeProxy): `feed` returns the bytes to pass on and
 * whether the sequence was completed. A partial sequence is held back, and sent on when the next byte breaks it.
 */
export class DetachWatcher {
  readonly #keys: number[];
  #held: number[] = [];

  constructor(keys: number[]) {
    this.#keys = keys;
  }

  feed(data: Uint8Array): { pass: Buffer; detached: boolean } {
    const pass: number[] = [];
    for (const b of data) {
      if (this.#keys.length && b === this.#keys[this.#held.length]) {
        this.#held.push(b);
        if (this.#held.length === this.#keys.length) {
          this.#held = [];
          return { pass: Buffer.from(pass), detached: true };
        }
        continue;
      }
      if (this.#held.length) { pass.push(...this.#held); this.#held = []; }
      if (this.#keys.length && b === this.#keys[0]) { this.#held.push(b); continue; }
      pass.push(b);
    }
    return { pass: Buffer.from(pass), detached: false };
  }
}
