/**
 * Run short host tools through one long-lived `/bin/sh` instead of forking the daemon. libuv's spawn waits for
 * the child's exec, so each fork of a daemon of ~100 MB blocks its event loop for ~7 ms; the helper forks a small
 * sh instead, off the daemon's thread. Commands run one at a time, in order, with stdout and stderr together.
 * If the helper cannot be used, the tool is run directly (`run`).
 */
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { run } from './proc.ts';

export interface HelperResult {
  code: number;
  /** stdout and stderr, interleaved. */
  output: string;
}

const DONE = '\u0001berth-done ';
type Job = { resolve: (r: HelperResult) => void; reject: (e: Error) => void };

let sh: ChildProcessByStdio<Writable, Readable, null> | undefined;
let buf = '';
const queue: Job[] = [];

function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function fail(err: Error): void {
  sh = undefined;
  buf = '';
  for (const j of queue.splice(0)) j.reject(err);
}

function helper(): ChildProcessByStdio<Writable, Readable, null> {
  if (sh) return sh;
  const { spawn } = process.getBuiltinModule('node:child_process');
  const child = spawn('/bin/sh', [], { stdio: ['pipe', 'pipe', 'ignore'] });
  sh = child;
  child.on('error', (e) => { if (sh === child) fail(e); });
  child.on('exit', () => { if (sh === child) fail(new Error('shell helper exited')); });
  child.stdin.on('error', (e) => { if (sh === child) fail(e); });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buf += chunk;
    for (;;) {
      const at = buf.indexOf(DONE);
      const end = at < 0 ? -1 : buf.indexOf('\n', at);
      if (end < 0) break;
      const output = buf.slice(0, at);
      const code = Number.parseInt(buf.slice(at + DONE.length, end), 10);
      buf = buf.slice(end + 1);
      queue.shift()?.resolve({ code: Number.isFinite(code) ? code : 128, output });
    }
    if (queue.length === 0) idle(child);
  });
  idle(child);
  return child;
}

/** An idle helper does not keep the process alive. */
function idle(child: ChildProcessByStdio<Writable, Readable, null>): void {
  child.unref();
  (child.stdin as Writable & { unref?: () => void }).unref?.();
  (child.stdout as Readable & { unref?: () => void }).unref?.();
}

function busy(child: ChildProcessByStdio<Writable, Readable, null>): void {
  child.ref();
  (child.stdin as Writable & { ref?: () => void }).ref?.();
  (child.stdout as Readable & { ref?: () => void }).ref?.();
}

/** Run `cmd args…` in the shell helper; never throws for a non-zero exit (see `code`). */
export async function runInHelper(cmd: string, args: readonly string[]): Promise<HelperResult> {
  const line = `${[cmd, ...args].map(quote).join(' ')} </dev/null 2>&1; printf '\\001berth-done %d\\n' "$?"\n`;
  try {
    const child = helper();
    return await new Promise<HelperResult>((resolve, reject) => {
      queue.push({ resolve, reject });
      busy(child);
      child.stdin.write(line);
    });
  } catch {
    // no helper (or it died under us): fork the tool directly
    const r = await run(cmd, args, { allowFailure: true });
    return { code: r.code, output: r.stdout + r.stderr };
  }
}
