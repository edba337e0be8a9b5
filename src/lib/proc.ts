import type { SpawnOptions } from 'node:child_process';
import { SystemError } from './errdefs.ts';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  input?: string | Uint8Array;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Do not throw on a non-zero exit; return the code instead. */
  allowFailure?: boolean;
  timeoutMs?: number;
}

/** Run a host tool to completion and collect its output. Throws SystemError on failure unless allowFailure. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const so: SpawnOptions = { stdio: ['pipe', 'pipe', 'pipe'] };
    if (opts.cwd) so.cwd = opts.cwd;
    if (opts.env) so.env = opts.env;
    if (opts.timeoutMs) so.timeout = opts.timeoutMs;
    // node:child_process loads on first use: importing lib stays cheap for the CLI.
    const { spawn } = process.getBuiltinModule('node:child_process');
    const child = spawn(cmd, args, so);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new SystemError(`${cmd}: ${e.message}`, { cause: e })));
    child.on('close', (code, signal) => {
      const r = { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: code ?? 128 };
      if (r.code !== 0 && !opts.allowFailure) {
        const why = r.stderr.trim() || r.stdout.trim() || (signal ? `killed by ${signal}` : `exit status ${r.code}`);
        reject(new SystemError(`${cmd} ${args.join(' ')}: ${why}`));
      } else resolve(r);
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}
