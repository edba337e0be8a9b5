/** `exec`: run a command in a running container (docker's cli/command/container/exec.go). */
import { ApiError } from '../../client/index.ts';
import type { ExecCreateBody } from '../../client/index.ts';
import { CliError, ExitCode } from '../errors.ts';
import { readKvFile } from '../run-opts.ts';
import type { Ctx, Opts } from '../main.ts';
import { notFound } from './common.ts';
import { detachKeys, followTerminalSize, pump, restoreStdin, type Streams } from './run.ts';

function list(o: Opts, k: string): string[] {
  const v = o[k];
  return Array.isArray(v) ? v.map(String) : [];
}

export async function exec(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const [container, ...cmd] = args;
  const client = ctx.client();
  const tty = o.tty === true;
  const interactive = o.interactive === true;
  const detach = o.detach === true;
  const env = [
    ...list(o, 'envFile').flatMap((f) => readKvFile(f, true)),
    ...list(o, 'env').map((e) => (e.includes('=') || process.env[e] === undefined ? e : `${e}=${process.env[e]}`)),
  ];
  const body: ExecCreateBody = {
    User: typeof o.user === 'string' ? o.user : '', Privileged: o.privileged === true, Tty: tty,
    AttachStdin: interactive && !detach, AttachStderr: !detach, AttachStdout: !detach,
    DetachKeys: detachKeys(o.detachKeys) ?? '', Env: env.length ? env : null,
    WorkingDir: typeof o.workdir === 'string' ? o.workdir : '', Cmd: cmd,
  };
  if (tty && interactive && !detach && !process.stdin.isTTY) throw new CliError('the input device is not a TTY');
  try {
    await client.containerInspect(container!);
  } catch (e) {
    throw notFound(e, 'container', container!);
  }
  const { Id: id } = await client.execCreate(container!, body);
  if (detach) {
    await client.execStart(id, { Detach: true, Tty: tty });
    return;
  }
  const size = tty && process.stdout.isTTY && process.stdout.rows ? [process.stdout.rows, process.stdout.columns] as [number, number] : undefined;
  const s: Streams = { stdin: interactive, stdout: true, stderr: true, tty, detachKeys: detachKeys(o.detachKeys) };
  const res = await client.execStart(id, { Detach: false, Tty: tty, ...(size ? { ConsoleSize: size } : {}) });
  const a = pump(res, s);
  const stopResize = tty ? followTerminalSize((h, w) => client.execResize(id, h, w)) : () => {};
  await a.done;
  stopResize();
  if (interactive) restoreStdin();
  if (a.detached()) process.exit(0);
  let code: number | null = 0;
  try {
    code = (await client.execInspect(id)).ExitCode;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
  }
  if (code) throw new ExitCode(code);
}
