/** Streaming response helpers. */
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';

/**
 * A Writable over the response that sends the 200 headers only with the first byte, so an error raised
 * before any output still becomes a proper error response.
 */
export function lazyResponseStream(res: ServerResponse, contentType: string): Writable {
  const head = () => { if (!res.headersSent) res.writeHead(200, { 'Content-Type': contentType }); };
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      head();
      if (res.write(chunk)) cb();
      else res.once('drain', () => cb());
    },
    final(cb) {
      head();
      res.end(() => cb());
    },
  });
  res.on('close', () => { if (!res.writableFinished) w.destroy(new Error('client went away')); });
  return w;
}

export function endStream(w: Writable): void {
  if (!w.writableEnded && !w.destroyed) w.end();
}
