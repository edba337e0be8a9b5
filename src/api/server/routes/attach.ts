/**
 * POST /containers/{id}/attach: take over the connection. With `Upgrade: tcp` answer `101 UPGRADED`,
 * otherwise `200 OK`, then raw bytes both ways: stdin from the socket into the backend's AttachStreams,
 * output to the socket (stdcopy-framed unless TTY). The client half-closes after its stdin ends; we close
 * the container's stdin then and keep sending output until the attach is done.
 */
import type { AttachOptions, AttachStreams } from '../../../engine/index.ts';
import { stdcopy } from '../../../lib/index.ts';
import { errorMessage, httpStatus } from '../errors.ts';
import type { Duplex } from 'node:stream';
import { boolValue, type HijackCtx } from '../http.ts';
import { versionAtLeast } from '../version.ts';

// Not an ES import of node:http: that would load undici at start-up (see server.ts).
const { STATUS_CODES } = process.getBuiltinModule('node:http');

export async function attach(ctx: HijackCtx): Promise<void> {
  const { socket, query: q, upgrade } = ctx;
  const opts: AttachOptions = {
    stream: boolValue(q, 'stream'),
    logs: boolValue(q, 'logs'),
    stdin: boolValue(q, 'stdin'),
    stdout: boolValue(q, 'stdout'),
    stderr: boolValue(q, 'stderr'),
  };
  const dk = q.get('detachKeys');
  if (dk) opts.detachKeys = dk;
  if (upgrade) socket.pause();

  let streams: AttachStreams;
  try {
    streams = await ctx.backend.attachContainer(ctx.params[0]!, opts);
  } catch (err) {
    const status = httpStatus(err);
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n${errorMessage(err)}\r\n`);
    return;
  }

  const tty = streams.tty;
  const ct = !tty && versionAtLeast(ctx.version, '1.42') ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream';
  socket.write(upgrade
    ? `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${ct}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`
    : `HTTP/1.1 200 OK\r\nContent-Type: ${ct}\r\n\r\n`);

  await pumpHijacked(socket, streams, upgrade, opts.stdin ? ctx.head : undefined);
}

/**
 * Pump a taken-over connection until the streams end: output to the socket (stdcopy frames unless TTY). On an
 * upgraded connection (`owned`: ours, not the http parser's) with `stdin` given (the bytes already read after the
 * request), the socket's bytes go to the streams' stdin and its end to closeStdin. The socket ends with the
 * streams; a client that goes away closes them.
 */
export async function pumpHijacked(socket: Duplex, streams: AttachStreams, owned: boolean, stdin: Buffer | undefined): Promise<void> {
  const tty = streams.tty;
  let open = true;
  streams.onOutput((stream, data) => {
    if (!open || data.length === 0) return;
    socket.write(tty ? data : stdcopy.frame(stream, data));
  });
  socket.on('error', () => {});
  socket.once('close', () => {
    if (!open) return;
    open = false;
    streams.close();
  });
  if (owned) {
    if (stdin) {
      if (stdin.length) streams.writeStdin(stdin);
      socket.on('data', (d: Buffer) => streams.writeStdin(d));
      socket.once('end', () => streams.closeStdin());
    } else {
      socket.on('data', () => {});
    }
    socket.resume();
  }
  await streams.done.catch(() => ({ detached: false }));
  if (open) {
    open = false;
    socket.end();
  }
}
