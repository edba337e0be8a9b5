/**
 * /containers/{id}/exec and /exec/{id}/... (cf. moby router/container/exec.go). Start takes over the
 * connection like attach; once it has, errors go into the stream as text (`…\r\n`), as dockerd writes them.
 */
import type { Duplex } from 'node:stream';
import type { AttachStreams, ExecCreateRequest, ExecState } from '../../../engine/index.ts';
import { InvalidArgumentError, goJsonError, stdcopy } from '../../../lib/index.ts';
import type { ExecInspectResponse } from '../../types/index.ts';
import { errorMessage, httpStatus } from '../errors.ts';
import { atoi, readJson, sendJson, sendNoContent, type Ctx, type HijackCtx } from '../http.ts';
import type { Router } from '../router.ts';
import { versionAtLeast } from '../version.ts';
import { pumpHijacked } from './attach.ts';

// Not an ES import of node:http: that would load undici at start-up (see server.ts).
const { STATUS_CODES } = process.getBuiltinModule('node:http');

export function execInspect(x: ExecState): ExecInspectResponse {
  return {
    ID: x.id,
    Running: x.running,
    ExitCode: x.exitCode,
    ProcessConfig: { tty: x.tty, entrypoint: x.entrypoint, arguments: x.arguments, privileged: x.privileged, ...(x.user ? { user: x.user } : {}) },
    OpenStdin: x.openStdin,
    OpenStderr: x.openStderr,
    OpenStdout: x.openStdout,
    CanRemove: false,
    ContainerID: x.containerId,
    DetachKeys: x.detachKeys,
    Pid: x.pid,
  };
}

async function create(ctx: Ctx): Promise<void> {
  const body = (await readJson<ExecCreateRequest>(ctx.req)) ?? {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidArgumentError('json: cannot unmarshal into Go value of type types.ExecConfig');
  if (body.Cmd !== undefined && body.Cmd !== null && (!Array.isArray(body.Cmd) || body.Cmd.some((a) => typeof a !== 'string'))) {
    throw new InvalidArgumentError('json: cannot unmarshal into Go struct field ExecConfig.Cmd of type []string');
  }
  const id = await ctx.backend.createExec(ctx.params[0]!, body);
  sendJson(ctx.res, 201, { Id: id });
}

/** The start body: from the request (plain POST) or, after `Upgrade: tcp`, from the bytes after the headers. */
async function startBody(ctx: HijackCtx): Promise<{ body: Record<string, unknown>; rest: Buffer }> {
  let raw: Buffer;
  let rest: Buffer = Buffer.alloc(0);
  if (!ctx.upgrade) {
    const chunks: Buffer[] = [];
    for await (const c of ctx.req) chunks.push(c as Buffer);
    raw = Buffer.concat(chunks);
  } else {
    const len = Number(ctx.req.headers['content-length'] ?? 0);
    let buf = ctx.head;
    if (buf.length < len) {
      buf = await new Promise<Buffer>((resolve, reject) => {
        const parts = [buf];
        let n = buf.length;
        const onData = (d: Buffer) => {
          parts.push(d);
          n += d.length;
          if (n >= len) { cleanup(); ctx.socket.pause(); resolve(Buffer.concat(parts)); }
        };
        const onEnd = () => { cleanup(); reject(new InvalidArgumentError('unexpected EOF')); };
        const cleanup = () => { ctx.socket.off('data', onData); ctx.socket.off('end', onEnd); };
        ctx.socket.on('data', onData);
        ctx.socket.on('end', onEnd);
        ctx.socket.resume();
      });
    }
    raw = buf.subarray(0, len);
    rest = buf.subarray(len);
  }
  const text = raw.toString('utf8');
  if (text.trim() === '') return { body: {}, rest };
  try {
    const v = JSON.parse(text) as unknown;
    return { body: typeof v === 'object' && v !== null ? v as Record<string, unknown> : {}, rest };
  } catch {
    throw new InvalidArgumentError(goJsonError(text, true));
  }
}

function rawError(socket: Duplex, err: unknown): void {
  const status = httpStatus(err);
  const msg = `{"message":${JSON.stringify(errorMessage(err))}}\n`;
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(msg)}\r\n\r\n${msg}`);
}

async function start(ctx: HijackCtx): Promise<void> {
  const { socket } = ctx;
  if (ctx.upgrade) socket.pause();
  socket.on('error', () => {});
  const id = ctx.params[0]!;
  let body: Record<string, unknown>;
  let rest: Buffer;
  let state: ExecState;
  try {
    ({ body, rest } = await startBody(ctx));
    state = await ctx.backend.inspectExec(id);
  } catch (err) {
    rawError(socket, err);
    return;
  }
  const cs = Array.isArray(body.ConsoleSize) && body.ConsoleSize.length === 2 ? { height: Number(body.ConsoleSize[0]), width: Number(body.ConsoleSize[1]) } : undefined;
  if (body.Detach === true) {
    try {
      await ctx.backend.startExec(id, { detach: true, ...(cs ? { consoleSize: cs } : {}) });
    } catch (err) {
      rawError(socket, err);
      return;
    }
    socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    return;
  }

  const tty = state.tty;
  const ct = !tty && versionAtLeast(ctx.version, '1.42') ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream';
  socket.write(ctx.upgrade
    ? `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${ct}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`
    : `HTTP/1.1 200 OK\r\nContent-Type: ${ct}\r\n\r\n`);
  const send = (stream: 1 | 2, data: Buffer): void => { socket.write(tty ? data : stdcopy.frame(stream, data)); };

  let streams: AttachStreams | undefined;
  try {
    streams = await ctx.backend.startExec(id, { detach: false, ...(cs ? { consoleSize: cs } : {}) });
  } catch (err) {
    send(1, Buffer.from(`${errorMessage(err)}\r\n`));
    socket.end();
    return;
  }
  if (!streams) { socket.end(); return; }
  await pumpHijacked(socket, streams, ctx.upgrade, state.openStdin ? rest : undefined);
}

export function registerExecRoutes(r: Router): void {
  r.post('/containers/{id}/exec', create);
  r.hijack('POST', '/exec/{id}/start', start);
  r.post('/exec/{id}/resize', async (ctx) => {
    const h = atoi(ctx.query, 'h') ?? 0;
    const w = atoi(ctx.query, 'w') ?? 0;
    await ctx.backend.resizeExec(ctx.params[0]!, h, w);
    sendNoContent(ctx.res, 200);
  });
  r.get('/exec/{id}/json', async (ctx) => {
    sendJson(ctx.res, 200, execInspect(await ctx.backend.inspectExec(ctx.params[0]!)));
  });
}
