/**
 * A terminal for tests: a tmux server of its own (own socket), one window running a command, keys sent in,
 * the screen read back. Used to drive the real docker CLI through a TTY (run -it, attach, exec -it).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export class Tmux {
  readonly socket = `berth-test-${randomBytes(4).toString('hex')}`;

  #tmux(args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args[0]}: ${r.stderr}`);
    return r.stdout;
  }

  /** Start `cmd` (a shell command line) in a width×height window; the window stays after it exits. */
  start(cmd: string, env: Record<string, string>, width = 100, height = 30): void {
    const envs = Object.entries(env).map(([k, v]) => `${k}=${shq(v)}`).join(' ');
    this.#tmux(['new-session', '-d', '-s', 't', '-x', String(width), '-y', String(height), `env ${envs} ${cmd}; echo EXIT=$?; sleep 600`]);
  }

  /** Type text (literally), then Enter unless told not to. */
  type(text: string, enter = true): void {
    this.#tmux(['send-keys', '-t', 't', '-l', text]);
    if (enter) this.#tmux(['send-keys', '-t', 't', 'Enter']);
  }

  keys(...k: string[]): void {
    this.#tmux(['send-keys', '-t', 't', ...k]);
  }

  resize(width: number, height: number): void {
    this.#tmux(['resize-window', '-t', 't', '-x', String(width), '-y', String(height)]);
  }

  screen(): string {
    return this.#tmux(['capture-pane', '-p', '-t', 't']).split('\n').filter((l) => l.trim() !== '').join('\n');
  }

  /** Wait until the screen matches re (polls every 50 ms). */
  async waitFor(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s = this.screen();
      if (re.test(s)) return s;
      if (Date.now() > end) throw new Error(`timed out waiting for ${re} on the terminal; it shows:\n${s}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { stdio: 'ignore' });
  }
}

function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
