/**
 * `docker exec`: exec instances of running containers (cf. moby daemon/exec.go). An instance is created,
 * started once (attached through an Attach, or detached), and kept for inspection until its container stops
 * or is removed. Instances live in memory only, as in dockerd.
 */
import { ConflictError, InvalidArgumentError, NotFoundError, SystemError, log, newId } from '../lib/index.ts';
import { buildExecProcess, type RuntimeDriver } from '../runtime/index.ts';
import { Attach, parseDetachKeys } from './attach.ts';
import type { AttachStreams, ExecCreateRequest, ExecState } from './backend.ts';

/** What the exec manager needs of the engine. */
export interface ExecHost {
  runtime: RuntimeDriver;
  /** The container as exec sees it; throws NotFoundError for an unknown ref. */
  container(ref: string): { id: string; running: boolean; paused: boolean; user: string; groupAdd: string[] };
  event(containerId: string, action: string, extra: Record<string, string>): void;
  defaultDetachKeys(): string;
}

interface Instance extends ExecState {
  started: boolean;
  /** Settles once the process runs or could not start (resize waits for it, as dockerd does). */
  ready: Promise<void>;
  setReady: () => void;
}

/** How long a finished instance stays inspectable (dockerd: 5 minutes). */
const KEEP_MS = 5 * 60_000;

export class ExecManager {
  readonly #host: ExecHost;
  readonly #all = new Map<string, Instance>();
  readonly #ended = new Map<string, number>();

  constructor(host: ExecHost) {
    this.#host = host;
  }

  create(ref: string, req: ExecCreateRequest): string {
    const c = this.#host.container(ref);
    if (!c.running) throw new ConflictError(`Container ${c.id} is not running`);
    if (c.paused) throw new ConflictError(`Container ${ref} is paused, unpause the container before exec`);
    const cmd = req.Cmd ?? [];
    if (cmd.length === 0) throw new InvalidArgumentError('No exec command specified');
    if (req.DetachKeys) parseDetachKeys(req.DetachKeys);
    this.#gc();
    const id = newId();
    const inst: Instance = {
      id, containerId: c.id, running: false, exitCode: null, pid: 0,
      tty: req.Tty === true, entrypoint: cmd[0]!, arguments: cmd.slice(1), privileged: req.Privileged === true, user: req.User ?? '',
      openStdin: req.AttachStdin === true, openStdout: req.AttachStdout === true, openStderr: req.AttachStderr === true,
      detachKeys: req.DetachKeys ?? '', env: req.Env ?? [], workingDir: req.WorkingDir ?? '',
      consoleSize: req.ConsoleSize && req.ConsoleSize.length === 2 ? { height: req.ConsoleSize[0]!, width: req.ConsoleSize[1]! } : undefined,
      started: false, ready: Promise.resolve(), setReady: () => {},
    };
    inst.ready = new Promise<void>((r) => { inst.setReady = r; });
    this.#all.set(id, inst);
    this.#host.event(c.id, `exec_create: ${describe(inst)}`, { execID: id });
    return id;
  }

  inspect(id: string): ExecState {
    const inst = this.#get(id);
    const { started: _s, ready: _r, setReady: _sr, ...state } = inst;
    return state;
  }

  /** Running exec IDs of a container (inspect's ExecIDs). */
  running(containerId: string): string[] {
    return [...this.#all.values()].filter((i) => i.containerId === containerId && i.running).map((i) => i.id);
  }

  /**
   * Start an instance. Detached: resolves once the process runs. Attached: resolves with its streams, which end
   * when the process has exited and its output is out. Errors carry Docker's texts; a failed start leaves exit code 126.
   */
  async start(id: string, opts: { detach: boolean; consoleSize?: { height: number; width: number } | undefined }): Promise<AttachStreams | undefined> {
    const inst = this.#get(id);
    if (inst.running) throw new ConflictError(`Error: Exec command ${id} is already running`);
    if (inst.started) throw new ConflictError(`Error: Exec command ${id} has already run`);
    inst.started = true;
    const c = this.#host.container(inst.containerId);
    const fail = (e: unknown): never => {
      inst.setReady();
      inst.exitCode = 126;
      this.#ended.set(id, Date.now());
      throw e;
    };
    if (!c.running) fail(new ConflictError(`Container ${c.id} is not running`));
    if (c.paused) fail(new ConflictError(`Container ${c.id} is paused, unpause the container before exec`));
    const rt = this.#host.runtime;
    const t0 = performance.now();
    const phases: Record<string, number> = {};
    const mark = (k: string) => { phases[k] = Math.round((performance.now() - t0) * 10) / 10; };
    const spec = await rt.readSpec(c.id).catch(() => undefined);
    mark('spec');
    if (!spec?.process) fail(new ConflictError(`Container ${c.id} is not running`));
    const consoleSize = opts.consoleSize ?? inst.consoleSize;
    let attach: Attach | undefined;
    if (!opts.detach) {
      const keys = parseDetachKeys(inst.detachKeys || this.#host.defaultDetachKeys() || 'ctrl-p,ctrl-q');
      attach = new Attach(inst.tty, keys, { stdin: inst.openStdin, stdout: inst.openStdout, stderr: inst.openStderr }, !inst.tty);
    }
    let session;
    try {
      const proc = await buildExecProcess(spec!, {
        args: [inst.entrypoint, ...inst.arguments], env: inst.env, cwd: inst.workingDir, user: inst.user, containerUser: c.user,
        groupAdd: c.groupAdd, tty: inst.tty, consoleSize, privileged: inst.privileged,
      });
      mark('process');
      session = await rt.exec(c.id, { execId: id, process: proc, attach: attach !== undefined, openStdin: inst.openStdin });
      mark('running');
    } catch (e) {
      return fail(e instanceof SystemError ? new SystemError(execErrorText((e as Error).message)) : e);
    }
    inst.running = true;
    inst.pid = session.pid;
    inst.setReady();
    this.#host.event(c.id, `exec_start: ${describe(inst)}`, { execID: id });
    if (attach && session.io) attach.connect(session.io);
    attach?.release();
    const exited = session.exited.then((code) => {
      mark('exited');
      log().debug({ exec: id, phases }, 'exec ended');
      inst.running = false;
      inst.exitCode = code;
      this.#ended.set(id, Date.now());
      this.#host.event(c.id, 'exec_die', { execID: id, exitCode: String(code) });
    }, (e: unknown) => {
      log().warn({ err: e, exec: id }, 'exec: lost its exit status');
      inst.running = false;
      inst.exitCode = 126;
      this.#ended.set(id, Date.now());
    });
    if (!attach) return undefined;
    // The streams end once the output has ended and the exit code is known (the CLI inspects right after).
    const a = attach;
    return {
      tty: a.tty,
      onOutput: (cb) => a.onOutput(cb),
      done: a.done.then(async (r) => {
        if (!r.detached) await exited;
        return r;
      }),
      writeStdin: (d) => a.writeStdin(d),
      closeStdin: () => a.closeStdin(),
      close: () => a.close(),
    };
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    const inst = this.#get(id);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), 10_000); });
    const r = await Promise.race([inst.ready, timeout]);
    clearTimeout(timer);
    if (r === 'timeout') throw new SystemError('timeout waiting for exec session ready');
    if (!inst.running) throw new ConflictError(`Exec ${id} is not running`);
    await this.#host.runtime.resizeExec(inst.containerId, id, height, width);
  }

  /** The container was removed: its instances go with it (dockerd forgets them too). */
  containerGone(containerId: string): void {
    for (const [id, i] of this.#all) if (i.containerId === containerId && !i.running) { this.#all.delete(id); this.#ended.delete(id); }
  }

  #get(id: string): Instance {
    const inst = this.#all.get(id);
    if (!inst) throw new NotFoundError(`No such exec instance: ${id}`);
    return inst;
  }

  #gc(): void {
    const now = Date.now();
    for (const [id, t] of this.#ended) {
      if (now - t < KEEP_MS) continue;
      this.#ended.delete(id);
      this.#all.delete(id);
    }
  }
}

function describe(i: { entrypoint: string; arguments: string[] }): string {
  return `${i.entrypoint} ${i.arguments.join(' ')}`;
}

/** runc's words as Docker (containerd) puts them: `OCI runtime exec failed: exec failed: unable to start container process: …: unknown`. */
export function execErrorText(msg: string): string {
  let text = msg.trim().replace(/: unknown$/, '');
  const j = text.indexOf('unable to start container process:');
  if (j >= 0) text = `exec failed: ${text.slice(j)}`;
  return `OCI runtime exec failed: ${text}: unknown`;
}
