/**
 * Docker's stream multiplexing for non-TTY attach/logs/exec: an 8-byte header
 * [stream, 0, 0, 0, size uint32 BE] before each payload. stdin=0, stdout=1, stderr=2.
 */
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const SYSTEMERR = 3;

export function frame(stream: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(8 + payload.length);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  h.set(payload, 8);
  return h;
}

/** Incremental demultiplexer: feed chunks, get (stream, payload) callbacks. */
export class Demuxer {
  #buf: Buffer = Buffer.alloc(0);
  readonly onFrame: (stream: number, payload: Buffer) => void;
  constructor(onFrame: (stream: number, payload: Buffer) => void) {
    this.onFrame = onFrame;
  }
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
