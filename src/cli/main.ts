/**
 * berth's CLI: docker's commands, flags, output and exit codes, over the Engine API only.
 * Command modules load lazily (`ps` never loads `run`'s code).
 */
import { Command, CommanderError, Option } from 'commander';
import { Client, ApiError, ConnectError } from '../client/index.ts';
import { CliError, ExitCode } from './errors.ts';
import { RUN_FLAGS } from './run-opts.ts';

export const PROG = 'berth';
export const CLI_VERSION = '0.1.0';

/** What a command needs: the client (made on first use) and output. */
export interface Ctx {
  client(): Client;
  host: string;
  apiVersion: string | undefined;
  configDir: string;
  out(s: string | Uint8Array): void;
  err(s: string): void;
}

export type Opts = Record<string, unknown>;
type Act = (ctx: Ctx, args: string[], opts: Opts) => Promise<void>;
type Loader = () => Promise<Record<string, unknown>>;

const containers: Loader = () => import('./commands/containers.ts');
const images: Loader = () => import('./commands/images.ts');
const run: Loader = () => import('./commands/run.ts');
const system: Loader = () => import('./commands/system.ts');

/** [flags, kind, default]: kind b = boolean, s = string, l = repeatable list */
type OptSpec = [string, 'b' | 's' | 'l', unknown?];
interface Spec {
  name: string;
  aliases?: string[];
  usage: string;
  desc: string;
  min?: number;
  max?: number;
  /** options after the first positional belong to it (run IMAGE CMD -x) */
  pass?: boolean;
  opts: OptSpec[];
  mod: Loader;
  fn: string;
}

const F: OptSpec = ['-f, --force', 'b'];
const FORMAT: OptSpec = ['--format <string>', 's'];
const FILTER: OptSpec = ['-f, --filter <filter>', 'l'];

const S = {
  ps: { name: 'ps', usage: 'ps [OPTIONS]', desc: 'List containers', max: 0, mod: containers, fn: 'ps',
    opts: [['-a, --all', 'b'], ['-q, --quiet', 'b'], ['-l, --latest', 'b'], ['-n, --last <int>', 's'], ['-s, --size', 'b'], ['--no-trunc', 'b'], FILTER, FORMAT] },
  inspect: { name: 'inspect', usage: 'inspect [OPTIONS] NAME|ID [NAME|ID...]', desc: 'Return low-level information on Docker objects', min: 1, mod: containers, fn: 'inspect',
    opts: [['-f, --format <string>', 's'], ['--type <string>', 's'], ['-s, --size', 'b']] },
  create: { name: 'create', usage: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]', desc: 'Create a new container', min: 1, pass: true, mod: run, fn: 'create', opts: RUN_FLAGS },
  run: { name: 'run', usage: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]', desc: 'Run a command in a new container', min: 1, pass: true, mod: run, fn: 'run', opts: RUN_FLAGS },
  start: { name: 'start', usage: 'start [OPTIONS] CONTAINER [CONTAINER...]', desc: 'Start one or more stopped containers', min: 1, mod: run, fn: 'start',
    opts: [['-a, --attach', 'b'], ['-i, --interactive', 'b'], ['--detach-keys <string>', 's']] },
  stop: { name: 'stop', usage: 'stop [OPTIONS] CONTAINER [CONTAINER...]', desc: 'Stop one or more running containers', min: 1, mod: containers, fn: 'stop',
    opts: [['-t, --time <int>', 's'], ['-s, --signal <string>', 's']] },
  restart: { name: 'restart', usage: 'restart [OPTIONS] CONTAINER [CONTAINER...]', desc: 'Restart one or more containers', min: 1, mod: containers, fn: 'restart',
    opts: [['-t, --time <int>', 's'], ['-s, --signal <string>', 's']] },
  kill: { name: 'kill', usage: 'kill [OPTIONS] CONTAINER [CONTAINER...]', desc: 'Kill one or more running containers', min: 1, mod: containers, fn: 'kill', opts: [['-s, --signal <string>', 's']] },
  rm: { name: 'rm', usage: 'rm [OPTIONS] CONTAINER [CONTAINER...]', desc: 'Remove one or more containers', min: 1, mod: containers, fn: 'rm',
    opts: [F, ['-v, --volumes', 'b'], ['-l, --link', 'b']] },
  rename: { name: 'rename', usage: 'rename CONTAINER NEW_NAME', desc: 'Rename a container', min: 2, max: 2, mod: containers, fn: 'rename', opts: [] },
  wait: { name: 'wait', usage: 'wait CONTAINER [CONTAINER...]', desc: 'Block until one or more containers stop, then print their exit codes', min: 1, mod: containers, fn: 'wait', opts: [] },
  pause: { name: 'pause', usage: 'pause CONTAINER [CONTAINER...]', desc: 'Pause all processes within one or more containers', min: 1, mod: containers, fn: 'pause', opts: [] },
  unpause: { name: 'unpause', usage: 'unpause CONTAINER [CONTAINER...]', desc: 'Unpause all processes within one or more containers', min: 1, mod: containers, fn: 'unpause', opts: [] },
  top: { name: 'top', usage: 'top CONTAINER [ps OPTIONS]', desc: 'Display the running processes of a container', min: 1, pass: true, mod: containers, fn: 'top', opts: [] },
  logs: { name: 'logs', usage: 'logs [OPTIONS] CONTAINER', desc: 'Fetch the logs of a container', min: 1, max: 1, mod: containers, fn: 'logs',
    opts: [['-f, --follow', 'b'], ['-n, --tail <string>', 's', 'all'], ['--since <string>', 's'], ['--until <string>', 's'], ['-t, --timestamps', 'b'], ['--details', 'b']] },
  export: { name: 'export', usage: 'export [OPTIONS] CONTAINER', desc: "Export a container's filesystem as a tar archive", min: 1, max: 1, mod: containers, fn: 'exportCmd',
    opts: [['-o, --output <string>', 's']] },
  containerPrune: { name: 'prune', usage: 'container prune [OPTIONS]', desc: 'Remove all stopped containers', max: 0, mod: containers, fn: 'prune', opts: [F, ['--filter <filter>', 'l']] },
  containerInspect: { name: 'inspect', usage: 'container inspect [OPTIONS] CONTAINER [CONTAINER...]', desc: 'Display detailed information on one or more containers', min: 1, mod: containers, fn: 'containerInspect',
    opts: [['-f, --format <string>', 's'], ['-s, --size', 'b']] },
  images: { name: 'images', usage: 'images [OPTIONS] [REPOSITORY[:TAG]]', desc: 'List images', max: 1, mod: images, fn: 'images',
    opts: [['-a, --all', 'b'], ['-q, --quiet', 'b'], ['--digests', 'b'], ['--no-trunc', 'b'], FILTER, FORMAT] },
  load: { name: 'load', usage: 'load [OPTIONS]', desc: 'Load an image from a tar archive or STDIN', max: 0, mod: images, fn: 'load', opts: [['-i, --input <string>', 's'], ['-q, --quiet', 'b']] },
  save: { name: 'save', usage: 'save [OPTIONS] IMAGE [IMAGE...]', desc: 'Save one or more images to a tar archive (streamed to STDOUT by default)', min: 1, mod: images, fn: 'save', opts: [['-o, --output <string>', 's']] },
  tag: { name: 'tag', usage: 'tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]', desc: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', min: 2, max: 2, mod: images, fn: 'tag', opts: [] },
  rmi: { name: 'rmi', usage: 'rmi [OPTIONS] IMAGE [IMAGE...]', desc: 'Remove one or more images', min: 1, mod: images, fn: 'rmi', opts: [F, ['--no-prune', 'b']] },
  history: { name: 'history', usage: 'history [OPTIONS] IMAGE', desc: 'Show the history of an image', min: 1, max: 1, mod: images, fn: 'history',
    opts: [['-H, --human', 'b', true], ['--no-human', 'b'], ['--no-trunc', 'b'], ['-q, --quiet', 'b'], FORMAT] },
  import: { name: 'import', usage: 'import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]', desc: 'Import the contents from a tarball to create a filesystem image', min: 1, max: 2, mod: images, fn: 'importCmd',
    opts: [['-c, --change <list>', 'l'], ['-m, --message <string>', 's'], ['--platform <string>', 's']] },
  imagePrune: { name: 'prune', usage: 'image prune [OPTIONS]', desc: 'Remove unused images', max: 0, mod: images, fn: 'prune', opts: [['-a, --all', 'b'], F, ['--filter <filter>', 'l']] },
  imageInspect: { name: 'inspect', usage: 'image inspect [OPTIONS] IMAGE [IMAGE...]', desc: 'Display detailed information on one or more images', min: 1, mod: images, fn: 'imageInspect',
    opts: [['-f, --format <string>', 's']] },
  version: { name: 'version', usage: 'version [OPTIONS]', desc: 'Show the Docker version information', max: 0, mod: system, fn: 'version', opts: [['-f, --format <string>', 's']] },
  info: { name: 'info', usage: 'info [OPTIONS]', desc: 'Display system-wide information', max: 0, mod: system, fn: 'info', opts: [['-f, --format <string>', 's']] },
  df: { name: 'df', usage: 'system df [OPTIONS]', desc: 'Show docker disk usage', max: 0, mod: system, fn: 'df', opts: [['-v, --verbose', 'b'], FORMAT] },
} satisfies Record<string, Spec>;

function withName(s: Spec, name: string, aliases: string[] = [], usagePrefix = ''): Spec {
  return { ...s, name, aliases, usage: usagePrefix + s.usage.replace(/^\S+/, name) };
}

function argsError(spec: Spec, path: string, n: number): CliError | undefined {
  const { min = 0, max } = spec;
  let what: string | undefined;
  if (max === 0 && n > 0) what = 'accepts no arguments.';
  else if (min === max && n !== min) what = `requires exactly ${min} argument${min === 1 ? '' : 's'}.`;
  else if (n < min) what = `requires at least ${min} argument${min === 1 ? '' : 's'}.`;
  else if (max === 0 && n > 0) what = 'accepts no arguments.';
  else if (max !== undefined && n > max) what = `requires at most ${max} argument${max === 1 ? '' : 's'}.`;
  if (!what) return undefined;
  return new CliError(`"${PROG} ${path}" ${what}\nSee '${PROG} ${path} --help'.\n\nUsage:  ${PROG} ${spec.usage}\n\n${spec.desc}`, 1, 'raw');
}

function addOptions(cmd: Command, opts: OptSpec[]): void {
  for (const [flags, kind, def] of opts) {
    const o = new Option(flags);
    if (kind === 'l') o.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]).default([]);
    else if (def !== undefined) o.default(def);
    cmd.addOption(o);
  }
}

/** commander reads `--no-trunc` as trunc=false; commands read noTrunc. */
function fixNegations(specs: OptSpec[], opts: Opts): void {
  for (const [flags] of specs) {
    const m = /--no-([a-z-]+)/.exec(flags);
    if (m) { const k = m[1]!.replace(/-([a-z])/g, (_x, c: string) => c.toUpperCase()); opts[`no${k[0]!.toUpperCase()}${k.slice(1)}`] = opts[k] === false; }
  }
}

/** Parses `run`/`create` arguments (after the command word) as the CLI does: for tests and tools. */
export function parseRunArgs(argv: string[]): { args: string[]; opts: Opts } {
  const cmd = new Command('run').exitOverride().configureOutput({ writeErr: () => {} }).argument('[args...]').passThroughOptions()
    .allowExcessArguments(true).helpOption('--help');
  addOptions(cmd, RUN_FLAGS);
  let out: { args: string[]; opts: Opts } = { args: [], opts: {} };
  cmd.action((args: string[], opts: Opts) => { fixNegations(RUN_FLAGS, opts); out = { args, opts }; });
  cmd.parse(normalizeArgs(['run', ...argv]).slice(1), { from: 'user' });
  return out;
}

function addCommand(parent: Command, spec: Spec, path: string, ctx: () => Ctx): Command {
  const cmd = parent.command(spec.name).description(spec.desc).argument('[args...]').allowExcessArguments(true)
    .helpOption('--help', 'Print usage');
  cmd.usage(spec.usage.replace(/^\S+( \S+)?\s*/, ''));
  if (spec.aliases?.length) cmd.aliases(spec.aliases);
  if (spec.pass) cmd.passThroughOptions();
  addOptions(cmd, spec.opts);
  cmd.action(async (args: string[], opts: Opts) => {
    fixNegations(spec.opts, opts);
    const bad = argsError(spec, path, args.length);
    if (bad) throw bad;
    const mod = await spec.mod();
    await (mod[spec.fn] as Act)(ctx(), args, opts);
  });
  (cmd as Command & { berthPath?: string }).berthPath = path;
  return cmd;
}

/** berthd's socket; dockerd (or any other engine) is reached with DOCKER_HOST or -H, as the README says. */
const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

/** Boolean flags of every command, for docker's `--flag=true|false` form. */
const BOOL_FLAGS = new Set<string>();
const NEGATABLE = new Set(['human']);
for (const s of [...Object.values(S)] as Spec[]) for (const [f, k] of s.opts) if (k === 'b') for (const m of f.matchAll(/(--?[a-zA-Z0-9-]+)/g)) BOOL_FLAGS.add(m[1]!);
const VALUE_FLAGS = new Set<string>();
for (const [f, k] of RUN_FLAGS) if (k !== 'b') for (const m of f.matchAll(/(--?[a-zA-Z0-9-]+)/g)) VALUE_FLAGS.add(m[1]!);
const PASS_CMDS = new Set(['run', 'create', 'top', 'exec']);

/** Rewrites `--rm=true` → `--rm`, `--rm=false` → (dropped), `-H=false` → `--no-human`; stops at a run's image. */
export function normalizeArgs(argv: string[]): string[] {
  const out: string[] = [];
  let pass = false;
  let positional = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { out.push(...argv.slice(i)); break; }
    const m = /^(--?[a-zA-Z0-9-]+)=(true|false|1|0|t|f|TRUE|FALSE|True|False)$/.exec(a);
    if (m && BOOL_FLAGS.has(m[1]!)) {
      const on = /^(true|1|t)$/i.test(m[2]!);
      const name = m[1] === '-H' ? 'human' : m[1]!.replace(/^-+/, '');
      if (on) out.push(m[1]!);
      else if (NEGATABLE.has(name)) out.push(`--no-${name}`);
      continue;
    }
    out.push(a);
    if (!a.startsWith('-')) {
      positional++;
      if (PASS_CMDS.has(a) && !pass) { pass = true; positional = 0; continue; }
      if (pass && positional >= 1) { out.push(...argv.slice(i + 1)); break; }
    } else if (pass && VALUE_FLAGS.has(a)) {
      out.push(...argv.slice(i + 1, i + 2));
      i++;
    }
  }
  return out;
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let current: Ctx | undefined;
  let cmdPath = '';
  const program = new Command(PROG);
  program.enablePositionalOptions().exitOverride().showSuggestionAfterError(false)
    .configureOutput({ writeErr: () => {}, writeOut: (s) => process.stdout.write(s) })
    .helpOption('--help', 'Print usage')
    .usage('[OPTIONS] COMMAND')
    .description('A self-sufficient runtime for containers')
    .option('--config <string>', 'Location of client config files')
    .option('-c, --context <string>', 'Name of the context to use')
    .option('-D, --debug', 'Enable debug mode')
    .option('-H, --host <list>', 'Daemon socket(s) to connect to', (v: string, p: string[]) => [...p, v], [] as string[])
    .option('-l, --log-level <string>', 'Set the logging level', 'info')
    .option('--tls', 'Use TLS').option('--tlsverify', 'Use TLS and verify the remote')
    .option('-v, --version', 'Print version information and quit');
  const ctx = (): Ctx => {
    if (current) return current;
    const g = program.opts<{ host: string[]; config?: string }>();
    const host = g.host.at(-1) ?? (process.env.DOCKER_HOST || DEFAULT_HOST);
    const apiVersion = process.env.DOCKER_API_VERSION || undefined;
    let client: Client | undefined;
    current = {
      host,
      apiVersion,
      configDir: g.config ?? process.env.DOCKER_CONFIG ?? `${process.env.HOME ?? ''}/.docker`,
      client: () => (client ??= new Client({ host, version: apiVersion })),
      out: (s) => { process.stdout.write(s); },
      err: (s) => { process.stderr.write(s); },
    };
    return current;
  };
  const top = (key: keyof typeof S, name?: string, aliases: string[] = []): Command => {
    const s = S[key] as Spec;
    return addCommand(program, withName(s, name ?? s.name, aliases), name ?? s.name, ctx);
  };
  const group = (name: string, desc: string, subs: Array<[keyof typeof S, string, string[]?]>): void => {
    const g = program.command(name).description(desc).helpOption('--help', 'Print usage');
    for (const [key, sub, aliases] of subs) {
      const s = S[key] as Spec;
      addCommand(g, withName(s, sub, aliases ?? [], `${name} `), `${name} ${sub}`, ctx);
    }
  };
  // Build only the command asked for (hundreds of run options cost start-up time); all of them for help and errors.
  const args = normalizeArgs(argv);
  const [w0, w1] = commandWords(args);
  const TOP = ['ps', 'inspect', 'create', 'run', 'start', 'stop', 'restart', 'kill', 'rm', 'rename', 'wait', 'pause', 'unpause', 'top', 'logs', 'export',
    'images', 'load', 'save', 'tag', 'rmi', 'history', 'import', 'version', 'info'] as const;
  const GROUPS: Record<string, [string, Array<[keyof typeof S, string, string[]?]>]> = {
    container: ['Manage containers', [
      ['ps', 'ls', ['list', 'ps']], ['containerInspect', 'inspect'], ['create', 'create'], ['run', 'run'], ['start', 'start'], ['stop', 'stop'],
      ['restart', 'restart'], ['kill', 'kill'], ['rm', 'rm', ['remove']], ['rename', 'rename'], ['wait', 'wait'], ['pause', 'pause'],
      ['unpause', 'unpause'], ['top', 'top'], ['logs', 'logs'], ['export', 'export'], ['containerPrune', 'prune'],
    ]],
    image: ['Manage images', [
      ['images', 'ls', ['list']], ['imageInspect', 'inspect'], ['load', 'load'], ['save', 'save'], ['tag', 'tag'], ['rmi', 'rm', ['remove']],
      ['history', 'history'], ['import', 'import'], ['imagePrune', 'prune'],
    ]],
    system: ['Manage Docker', [['df', 'df'], ['info', 'info']]],
  };
  const subMatch = ([, sub, aliases]: [keyof typeof S, string, string[]?]): boolean => sub === w1 || !!aliases?.includes(w1 ?? '');
  const all = !(TOP.some((k) => k === w0) || (w0 !== undefined && Object.hasOwn(GROUPS, w0) && GROUPS[w0]![1].some(subMatch)));
  for (const k of TOP) if (all || k === w0) top(k);
  for (const [name, [desc, subs]] of Object.entries(GROUPS)) if (all || name === w0) group(name, desc, all ? subs : subs.filter(subMatch));
  program.hook('preAction', (_p, action) => { cmdPath = (action as Command & { berthPath?: string }).berthPath ?? action.name(); });

  try {
    program.parseOptions(args);
    if (program.opts().version && !args.some((a) => !a.startsWith('-'))) {
      process.stdout.write(`${PROG} version ${CLI_VERSION}\n`);
      return 0;
    }
    if (!args.some((a) => !a.startsWith('-'))) { program.outputHelp(); return 0; }
    await program.parseAsync(args, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    return report(e, cmdPath || guessPath(args));
  }
}

/** The command words after the global options: `-H x container ls -a` → container, ls. */
function commandWords(args: string[]): string[] {
  const withValue = new Set(['-H', '--host', '-l', '--log-level', '--config', '-c', '--context', '--tlscacert', '--tlscert', '--tlskey']);
  const words: string[] = [];
  for (let i = 0; i < args.length && words.length < 2; i++) {
    const a = args[i]!;
    if (words.length === 0 && withValue.has(a)) { i++; continue; }
    if (a.startsWith('-')) { if (words.length) break; continue; }
    words.push(a);
  }
  return words;
}

function guessPath(args: string[]): string {
  const words = args.filter((a) => !a.startsWith('-'));
  return ['container', 'image', 'system'].includes(words[0] ?? '') ? words.slice(0, 2).join(' ') : (words[0] ?? '');
}

/** Prints an error the way docker does; returns the exit code. */
export function report(e: unknown, path: string): number {
  const isRun = /(^| )(run|create)$/.test(path);
  const err = (s: string): void => { process.stderr.write(s.endsWith('\n') ? s : `${s}\n`); };
  if (e instanceof ExitCode) return e.code;
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    if (e.code === 'commander.unknownOption') {
      const m = /'([^']+)'/.exec(e.message);
      const flag = m?.[1] ?? '';
      err(`${flag.startsWith('--') ? `unknown flag: ${flag}` : `unknown shorthand flag: '${flag.slice(1, 2)}' in ${flag}`}\nSee '${PROG}${path ? ` ${path}` : ''} --help'.`);
      return 125;
    }
    if (e.code === 'commander.optionMissingArgument') {
      const m = /'([^']+)'/.exec(e.message);
      const flags = (m?.[1] ?? '').split(/,?\s+/).filter((f) => f.startsWith('-'));
      const long = flags.find((f) => f.startsWith('--')) ?? flags[0] ?? '';
      err(`flag needs an argument: ${flags.length > 1 ? `'${flags[0]!.slice(1)}' in ${flags[0]}` : long}\nSee '${PROG}${path ? ` ${path}` : ''} --help'.`);
      return 125;
    }
    if (e.code === 'commander.unknownCommand') {
      const m = /'([^']+)'/.exec(e.message);
      err(`${PROG}: '${m?.[1] ?? ''}' is not a ${PROG} command.\nSee '${PROG} --help'`);
      return 1;
    }
    err(e.message.replace(/^error: /, ''));
    return e.exitCode || 1;
  }
  if (e instanceof CliError) {
    if (e.kind === 'flag') err(`${e.message}\nSee '${PROG} ${path} --help'.`);
    else if (e.kind === 'plain' && isRun && e.code === 125) err(`${PROG}: ${e.message.replace(/\.?$/, '.')}\nSee '${PROG} ${path} --help'.`);
    else err(e.message);
    return e.code;
  }
  if (e instanceof ApiError) {
    // run prints daemon errors as its own (exit 125); create as every other command does
    if (/(^| )run$/.test(path)) { err(`${PROG}: Error response from daemon: ${e.message.replace(/\.?$/, '.')}\nSee '${PROG} ${path} --help'.`); return 125; }
    err(`Error response from daemon: ${e.message}`);
    return 1;
  }
  if (e instanceof ConnectError) { err(e.message); return 1; }
  err(e instanceof Error ? e.message : String(e));
  return 1;
}
