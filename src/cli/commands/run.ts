/** create, run, start: creating containers and attaching to them (hijacked stream, TTY, stdin). */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { ApiError } from '../../client/index.ts';
import type { Client, ContainerInspect, RawResponse } from '../../client/index.ts';
import { DetachWatcher, parseDetachKeys, stdcopy } from '../../lib/index.ts';
import { CliError, ExitCode } from '../errors.ts';
import { buildCreate, type RunOpts } from '../run-opts.ts';
import type { Ctx, Opts } from '../main.ts';
import { errText, notFound, str } from './common.ts';

/** The reference with a tag when it has none (`nosuch` → `nosuch:latest`). */
function tagged(image: string): string {
  if (image.includes('@')) return image;
  const i = image.lastIndexOf(':');
  return i > image.lastIndexOf('/') ? image : `${image}:latest`;
}

async function pull(ctx: Ctx, image: string): Promise<void> {
  const ref = tagged(image);
  const at = ref.indexOf('@');
  const i = at >= 0 ? at : ref.lastIndexOf(':');
  const res = await ctx.client().request('POST', '/images/create', { query: { fromImage: ref.slice(0, i), tag: ref.slice(i + 1) } });
  let buf = '';
  for await (const c of res.body) buf += (c as Buffer).toString();
  for (const line of buf.split('\n')) {
    if (!line.trim()) continue;
    const m = JSON.parse(line) as { status?: string; id?: string; error?: string; errorDetail?: { message?: string } };
    if (m.error || m.errorDetail) throw new ApiError(500, m.errorDetail?.message ?? m.error ?? '');
    if (m.status) ctx.err(m.id ? `${m.id}: ${m.status}\n` : `${m.status}\n`);
  }
}

/** Creates the container (pulling a missing image as docker does); prints warnings; returns the ID. */
async function createContainer(ctx: Ctx, o: RunOpts, args: string[], forRun: boolean): Promise<string> {
  const [image, ...cmd] = args;
  const req = buildCreate(o, image!, cmd, forRun && o.detach === true);
  const cidfile = str(o as Opts, 'cidfile');
  if (cidfile && existsSync(cidfile)) throw new CliError(`Container ID file found, make sure the other container isn't running or delete ${cidfile}`, 125);
  const client = ctx.client();
  let r;
  try {
    r = await client.containerCreate(req.body, req.name, req.platform);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404 || !/^No such image/.test(e.message)) throw e;
    ctx.err(`Unable to find image '${tagged(image!)}' locally\n`);
    await pull(ctx, image!);
    r = await client.containerCreate(req.body, req.name, req.platform);
  }
  for (const w of r.Warnings ?? []) ctx.err(`WARNING: ${w}\n`);
  if (cidfile) writeFileSync(cidfile, r.Id);
  return r.Id;
}

export async function create(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const id = await createContainer(ctx, o as RunOpts, args, false);
  ctx.out(`${id}\n`);
}

/** docker's runStartContainerErr: 127 not found, 126 cannot invoke, else 125. */
function startError(e: unknown): CliError {
  const msg = e instanceof ApiError ? `Error response from daemon: ${e.message}` : (e as Error).message;
  let code = 125;
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(msg)) code = 127;
  else if (/permission denied/.test(msg)) code = 126;
  return new CliError(`berth: ${msg.replace(/\.?$/, '.')}`, code, 'raw');
}

export interface Streams {
  stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean;
  /** `--detach-keys` (default ctrl-p,ctrl-q): watched for on our input when there is a TTY. */
  detachKeys?: string | undefined;
}

/**
 * Opens the hijacked attach stream; `done` settles when the output has ended. With a TTY and
 * stdin, docker's detach keys (ctrl-p ctrl-q) leave the container running: `detached` turns true.
 */
export async function attach(client: Client, id: string, s: Streams): Promise<{ done: Promise<void>; socket: Socket; detached: () => boolean }> {
  const res = await client.containerAttach(id, {
    stream: true, stdin: s.stdin || undefined, stdout: s.stdout || undefined, stderr: s.stderr || undefined, detachKeys: s.detachKeys,
  });
  return pump(res, s);
}

/** The detach keys of `--detach-keys`, with docker's error for a bad one. */
export function detachKeys(v: unknown): string | undefined {
  if (typeof v !== 'string' || !v) return undefined;
  try {
    parseDetachKeys(v);
  } catch {
    throw new CliError(`Invalid detach keys (${v}) provided`);
  }
  return v;
}

/** Pump a hijacked stream (attach, exec start) to our stdout/stderr, and our stdin to it. */
export function pump(res: RawResponse, s: Streams): { done: Promise<void>; socket: Socket; detached: () => boolean } {
  let detached = false;
  const sock = res.socket;
  const done = new Promise<void>((resolve) => {
    if (s.tty) sock.on('data', (c: Buffer) => { process.stdout.write(c); });
    else {
      const d = new stdcopy.Demuxer((stream, payload) => {
        if (stream === stdcopy.STDERR || stream === stdcopy.SYSTEMERR) process.stderr.write(payload);
        else process.stdout.write(payload);
      });
      sock.on('data', (c: Buffer) => d.push(c));
    }
    sock.on('end', () => resolve());
    sock.on('close', () => resolve());
    sock.on('error', () => resolve());
  });
  sock.resume();
  if (s.stdin) {
    const stdin = process.stdin;
    if (s.tty && stdin.isTTY) { stdin.setRawMode(true); rawOutput(true); }
    const watch = s.tty ? new DetachWatcher(parseDetachKeys(s.detachKeys || 'ctrl-p,ctrl-q')) : undefined;
    stdin.on('data', (c: Buffer) => {
      if (sock.destroyed) return;
      if (!watch) { sock.write(c); return; }
      const r = watch.feed(c);
      if (r.pass.length) sock.write(r.pass);
      if (r.detached) { detached = true; sock.destroy(); }
    });
    stdin.on('end', () => { if (!sock.destroyed) sock.end(); });
    stdin.resume();
  }
  return { done, socket: sock, detached: () => detached };
}

/** Raw output too (docker's SetRawTerminalOutput): libuv's raw mode keeps ONLCR, which doubles \r. */
export function rawOutput(on: boolean): void {
  if (!process.stdout.isTTY) return;
  spawnSync('stty', [on ? '-opost' : 'opost'], { stdio: [process.stdout.fd, 'ignore', 'ignore'] });
}

export function restoreStdin(): void {
  const stdin = process.stdin;
  if (stdin.isTTY && stdin.isRaw) { stdin.setRawMode(false); rawOutput(false); }
  stdin.pause();
  stdin.destroy();
}

/** Keeps the container's TTY size in step with ours. */
export function monitorSize(client: Client, id: string): () => void {
  return followTerminalSize((h, w) => client.containerResize(id, h, w));
}

/** Calls resize with our terminal's size now and on every SIGWINCH; returns the stop function. */
export function followTerminalSize(resizeTo: (rows: number, cols: number) => Promise<void>): () => void {
  if (!process.stdout.isTTY) return () => {};
  const resize = (): void => {
    const { rows, columns } = process.stdout;
    if (rows && columns) resizeTo(rows, columns).catch(() => {});
  };
  resize();
  process.on('SIGWINCH', resize);
  return () => process.off('SIGWINCH', resize);
}

/** Forwards SIGINT/SIGTERM to the container (docker's --sig-proxy, on when there is no TTY). */
export function proxySignals(client: Client, id: string): () => void {
  const handlers: Array<[NodeJS.Signals, () => void]> = (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as NodeJS.Signals[])
    .map((sig) => [sig, () => { client.containerKill(id, sig).catch(() => {}); }]);
  for (const [s, h] of handlers) process.on(s, h);
  return () => { for (const [s, h] of handlers) process.off(s, h); };
}

export async function run(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const ro = o as RunOpts;
  const detach = ro.detach === true;
  const id = await createContainer(ctx, ro, args, true);
  const client = ctx.client();
  if (detach) {
    try { await client.containerStart(id); } catch (e) { throw startError(e); }
    ctx.out(`${id}\n`);
    return;
  }
  const tty = ro.tty === true;
  const attachList = (Array.isArray(ro.attach) ? ro.attach : []).map((a) => a.toLowerCase());
  const s: Streams = {
    stdin: ro.interactive === true,
    stdout: attachList.length ? attachList.includes('stdout') : true,
    stderr: attachList.length ? attachList.includes('stderr') : true,
    tty,
    detachKeys: detachKeys(ro.detachKeys),
  };
  if (tty && s.stdin && !process.stdin.isTTY) {
    restoreStdin();
    throw new CliError('the input device is not a TTY', 1, 'raw');
  }
  const a = await attach(client, id, s);
  const waitResult = await client.containerWait(id, ro.rm === true ? 'removed' : 'next-exit');
  const stopResize = tty ? monitorSize(client, id) : () => {};
  const sigProxy = ro.noSigProxy !== true && ro.sigProxy !== false && !tty;
  const stopSignals = sigProxy ? proxySignals(client, id) : () => {};
  try {
    await client.containerStart(id);
  } catch (e) {
    a.socket.destroy();
    stopResize();
    stopSignals();
    if (s.stdin) restoreStdin();
    throw startError(e);
  }
  if (tty) {
    // the size may have been set before the process existed
    monitorSize(client, id)();
  }
  await a.done;
  if (a.detached()) {
    stopResize();
    stopSignals();
    restoreStdin();
    process.exit(0);
  }
  const r = await waitResult();
  stopResize();
  stopSignals();
  if (s.stdin) restoreStdin();
  if (r.Error?.Message) ctx.err(`${r.Error.Message}\n`);
  if (r.StatusCode !== 0) throw new ExitCode(r.StatusCode);
}

export async function start(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const client = ctx.client();
  if (o.attach === true || o.interactive === true) {
    if (args.length > 1) throw new CliError('you cannot start and attach multiple containers at once');
    const c = await inspectContainer(client, args[0]!);
    const tty = c.Config.Tty;
    const s: Streams = {
      stdin: o.interactive === true && c.Config.OpenStdin, stdout: o.attach === true, stderr: o.attach === true, tty, detachKeys: detachKeys(o.detachKeys),
    };
    if (tty && s.stdin && !process.stdin.isTTY) throw new CliError('the input device is not a TTY');
    const a = await attach(client, c.Id, s);
    const waitResult = await client.containerWait(c.Id, c.HostConfig.AutoRemove ? 'removed' : 'next-exit');
    const stopResize = tty ? monitorSize(client, c.Id) : () => {};
    const stopSignals = !tty ? proxySignals(client, c.Id) : () => {};
    try {
      await client.containerStart(c.Id);
    } catch (e) {
      a.socket.destroy();
      stopResize();
      stopSignals();
      if (s.stdin) restoreStdin();
      throw e;
    }
    await a.done;
    if (a.detached()) { stopResize(); stopSignals(); restoreStdin(); process.exit(0); }
    const r = await waitResult();
    stopResize();
    stopSignals();
    if (s.stdin) restoreStdin();
    if (r.StatusCode !== 0) throw new ExitCode(r.StatusCode);
    return;
  }
  const failed: string[] = [];
  const errors: string[] = [];
  for (const n of args) {
    try {
      await client.containerStart(n);
      ctx.out(`${n}\n`);
    } catch (e) {
      errors.push(errText(e));
      failed.push(n);
    }
  }
  if (failed.length) {
    ctx.err(`${errors.join('\n')}\nError: failed to start containers: ${failed.join(', ')}\n`);
    throw new ExitCode(1);
  }
}


/** `attach`: our stdio to a running container's (docker's cli/command/container/attach.go). */
export async function attachCmd(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const client = ctx.client();
  const c = await inspectContainer(client, args[0]!);
  if (!c.State.Running) throw new CliError('You cannot attach to a stopped container, start it first');
  if (c.State.Paused) throw new CliError('You cannot attach to a paused container, unpause it first');
  const tty = c.Config.Tty;
  const s: Streams = { stdin: o.noStdin !== true && c.Config.OpenStdin, stdout: true, stderr: true, tty, detachKeys: detachKeys(o.detachKeys) };
  if (tty && s.stdin && !process.stdin.isTTY) throw new CliError('the input device is not a TTY');
  const a = await attach(client, c.Id, s);
  const stopResize = tty ? monitorSize(client, c.Id) : () => {};
  const stopSignals = o.sigProxy !== false && !tty ? proxySignals(client, c.Id) : () => {};
  await a.done;
  stopResize();
  stopSignals();
  if (s.stdin) restoreStdin();
  // as the 20.10 CLI: a detach is reported as an error of its own
  if (a.detached()) throw new CliError('read escape sequence');
  const r = await (await client.containerWait(c.Id, 'not-running'))();
  if (r.StatusCode !== 0) throw new ExitCode(r.StatusCode);
}

/** The container, or docker's `Error: No such container: x`. */
function inspectContainer(client: Client, ref: string): Promise<ContainerInspect> {
  return client.containerInspect(ref).catch((e: unknown) => { throw notFound(e, 'container', ref); });
}
