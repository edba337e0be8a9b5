/**
 * The OCI runtime's CLI (runc and compatibles): `<path> --root <root> --log-format=json [args] <cmd> …`.
 * runc prints its errors on stderr as JSON log lines; the `msg` of the last error line is the text users see.
 */
import { spawn } from 'node:child_process';
import { NotFoundError, SystemError } from '../lib/index.ts';

export interface RuntimeBinary {
  name: string;
  path: string;
  /** Global flags (e.g. --systemd-cgroup), placed before the command. */
  args: string[];
  /** State directory (runc --root), private to berth. */
  root: string;
}

/** The text of runc's last error line (JSON or logrus text), or the raw output. */
export function runtimeErrorText(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!;
    if (l.startsWith('{')) {
      try {
        const j = JSON.parse(l) as { level?: string; msg?: string };
        if (j.msg && (j.level === 'error' || j.level === 'fatal')) return j.msg;
      } catch { /* not JSON */ }
    }
    const m = /level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"/.exec(l);
    if (m) return m[1]!.replace(/\\(.)/g, '$1');
  }
  return lines.join('\n');
}

export function isNotExist(msg: string): boolean {
  return /does not exist|not exist/i.test(msg);
}

/** Run `runtime <cmd> <args…>`; resolves stdout. Not-found errors become NotFoundError, the rest SystemError. */
export function runtimeCall(rt: RuntimeBinary, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(rt.path, ['--root', rt.root, '--log-format=json', ...rt.args, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new SystemError(`${rt.name}: ${e.message}`, { cause: e })));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(Buffer.concat(out).toString());
      const msg = runtimeErrorText(Buffer.concat(err).toString()) || `${rt.name} ${args[0]}: ${signal ?? `exit status ${code}`}`;
      reject(isNotExist(msg) ? new NotFoundError(msg) : new SystemError(msg));
    });
  });
}
