/**
 * berth's CLI: docker's commands, flags, output and exit codes, over the Engine API only.
 * The command table below drives the flag parser (flags.ts, pflag's rules); command modules and help load lazily
 * (`ps` never loads `run`'s code, `ps -q` not even the template engine).
 */
import { Client, ApiError, ConnectError } from '../client/index.ts';
import { CliError, ExitCode } from './errors.ts';
import { RUN_FLAGS } from './run-flags.ts';
import { compile, parse, FlagError, type OptSpec, type Opts } from './flags.ts';

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

export type { Opts };
type Act = (ctx: Ctx, args: string[], opts: Opts) => Promise<void>;
type Loader = () => Promise<Record<string, unknown>>;

const containers: Loader = () => import('./commands/containers.ts');
const ps: Loader = () => import('./commands/ps.ts');
const version: Loader = () => import('./commands/version.ts');
const images: Loader = () => import('./commands/images.ts');
const run: Loader = () => import('./commands/run.ts');
const system: Loader = () => import('./commands/system.ts');
const cpMod: Loader = () => import('./commands/cp.ts');
const statsMod: Loader = () => import('./commands/stats.ts');
const volume: Loader = () => import('./commands/volume.ts');
const execMod: Loader = () => import('./commands/exec.ts');
const commitMod: Loader = () => import('./commands/commit.ts');
const network: Loader = () => import('./commands/network.ts');
const buildMod: Loader = () => import('./commands/build.ts');

export interface Spec {
  name: string;
  usage: string;
  desc: string;
  min?: number;
  max?: number;
  /** options after the first positional belong to it (run IMAGE CMD -x) */
  pass?: boolean;
  opts: readonly OptSpec[];
  mod: Loader;
  fn: string;
  /** a function of mod that checks option values before the arguments are counted (docker's typed flags) */
  check?: string;
}

const F: OptSpec = ['-f, --force', 'b'];
const FORMAT: OptSpec = ['--format <string>', 's'];
const FILTER: OptSpec = ['-f, --filter <filter>', 'l'];

const S = {
  ps: { name: 'ps', usage: 'ps [OPTIONS]', desc: 'List containers', max: 0, mod: ps, fn: 'ps',
    opts: [['-a, --all', 'b'], ['-q, --quiet', 'b'], ['-l, --latest', 'b'], ['-n, --last <int>', 's'], ['-s, --size', 'b'], ['--no-trunc', 'b'], FILTER, FORMAT] },
  inspect: { name: 'inspect', usage: 'inspect [OPTIONS] NAME|ID [NAME|ID...]', desc: 'Return low-level information on Docker objects', min: 1, mod: containers, fn: 'inspect',
    opts: [['-f, --format <string>', 's'], ['--type <string>', 's'], ['-s, --size', 'b']] },
  create: { name: 'create', usage: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]', desc: 'Create a new container', min: 1, pass: true, mod: run, fn: 'create', opts: RUN_FLAGS },
  run: { name: 'run', usage: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]', desc: 'Run a command in a new container', min: 1, pass: true, mod: run, fn: 'run', opts: RUN_FLAGS },
  commit: { name: 'commit', usage: 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]', desc: "Create a new image from a container's changes", min: 1, max: 2, mod: commitMod, fn: 'commit',
    opts: [['-a, --author <string>', 's'], ['-c, --change <list>', 'l'], ['-m, --message <string>', 's'], ['-p, --pause', 'b', true]] },
  exec: { name: 'exec', usage: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]', desc: 'Run a command in a running container', min: 2, pass: true, mod: execMod, fn: 'exec',
    opts: [['-d, --detach', 'b'], ['--detach-keys <string>', 's'], ['-e, --env <list>', 'l'], ['--env-file <list>', 'l'], ['-i, --interactive', 'b'],
      ['--privileged', 'b'], ['-t, --tty', 'b'], ['-u, --user <string>', 's'], ['-w, --workdir <string>', 's']] },
  attach: { name: 'attach', usage: 'attach [OPTIONS] CONTAINER', desc: 'Attach local standard input, output, and error streams to a running container', min: 1, max: 1, mod: run, fn: 'attachCmd',
    opts: [['--detach-keys <string>', 's'], ['--no-stdin', 'b'], ['--sig-proxy', 'b', true]] },
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
  version: { name: 'version', usage: 'version [OPTIONS]', desc: 'Show the Docker version information', max: 0, mod: version, fn: 'version', opts: [['-f, --format <string>', 's']] },
  info: { name: 'info', usage: 'info [OPTIONS]', desc: 'Display system-wide information', max: 0, mod: system, fn: 'info', opts: [['-f, --format <string>', 's']] },
  df: { name: 'df', usage: 'system df [OPTIONS]', desc: 'Show berth disk usage', max: 0, mod: system, fn: 'df', opts: [['-v, --verbose', 'b'], FORMAT] },
  volumeCreate: { name: 'create', usage: 'volume create [OPTIONS] [VOLUME]', desc: 'Create a volume', max: 1, mod: volume, fn: 'create',
    opts: [['-d, --driver <string>', 's', 'local'], ['--label <list>', 'l'], ['-o, --opt <map>', 'l'], ['--name <string>', 's']] },
  volumeLs: { name: 'ls', usage: 'volume ls [OPTIONS]', desc: 'List volumes', max: 0, mod: volume, fn: 'ls', opts: [FILTER, FORMAT, ['-q, --quiet', 'b']] },
  volumeInspect: { name: 'inspect', usage: 'volume inspect [OPTIONS] VOLUME [VOLUME...]', desc: 'Display detailed information on one or more volumes', min: 1, mod: volume, fn: 'inspect',
    opts: [['-f, --format <string>', 's']] },
  volumeRm: { name: 'rm', usage: 'volume rm [OPTIONS] VOLUME [VOLUME...]', desc: 'Remove one or more volumes', min: 1, mod: volume, fn: 'rm', opts: [F] },
  volumePrune: { name: 'prune', usage: 'volume prune [OPTIONS]', desc: 'Remove all unused local volumes', max: 0, mod: volume, fn: 'prune', opts: [['--filter <filter>', 'l'], F] },
  networkCreate: { name: 'create', usage: 'network create [OPTIONS] NETWORK', desc: 'Create a network', min: 1, max: 1, mod: network, fn: 'create',
    opts: [['--attachable', 'b'], ['--aux-address <map>', 'l'], ['--config-from <string>', 's'], ['--config-only', 'b'], ['-d, --driver <string>', 's', 'bridge'],
      ['--gateway <strings>', 'l'], ['--ingress', 'b'], ['--internal', 'b'], ['--ip-range <strings>', 'l'], ['--ipam-driver <string>', 's', 'default'],
      ['--ipam-opt <map>', 'l'], ['--ipv6', 'b'], ['--label <list>', 'l'], ['-o, --opt <map>', 'l'], ['--scope <string>', 's'], ['--subnet <strings>', 'l']] },
  networkLs: { name: 'ls', usage: 'network ls [OPTIONS]', desc: 'List networks', max: 0, mod: network, fn: 'ls',
    opts: [FILTER, FORMAT, ['--no-trunc', 'b'], ['-q, --quiet', 'b']] },
  networkInspect: { name: 'inspect', usage: 'network inspect [OPTIONS] NETWORK [NETWORK...]', desc: 'Display detailed information on one or more networks', min: 1, mod: network, fn: 'inspect',
    opts: [['-f, --format <string>', 's'], ['-v, --verbose', 'b']] },
  networkRm: { name: 'rm', usage: 'network rm NETWORK [NETWORK...]', desc: 'Remove one or more networks', min: 1, mod: network, fn: 'rm', opts: [] },
  networkPrune: { name: 'prune', usage: 'network prune [OPTIONS]', desc: 'Remove all unused networks', max: 0, mod: network, fn: 'prune', opts: [['--filter <filter>', 'l'], F] },
  networkConnect: { name: 'connect', usage: 'network connect [OPTIONS] NETWORK CONTAINER', desc: 'Connect a container to a network', min: 2, max: 2, mod: network, fn: 'connect',
    opts: [['--alias <strings>', 'l'], ['--driver-opt <strings>', 'l'], ['--ip <string>', 's'], ['--ip6 <string>', 's'], ['--link <list>', 'l'], ['--link-local-ip <strings>', 'l']] },
  networkDisconnect: { name: 'disconnect', usage: 'network disconnect [OPTIONS] NETWORK CONTAINER', desc: 'Disconnect a container from a network', min: 2, max: 2, mod: network, fn: 'disconnect',
    opts: [['-f, --force', 'b']] },
  port: { name: 'port', usage: 'port CONTAINER [PRIVATE_PORT[/PROTO]]', desc: 'List port mappings or a specific mapping for the container', min: 1, max: 2, mod: network, fn: 'port', opts: [] },
  stats: { name: 'stats', usage: 'stats [OPTIONS] [CONTAINER...]', desc: 'Display a live stream of container(s) resource usage statistics', mod: statsMod, fn: 'stats',
    opts: [['-a, --all', 'b'], FORMAT, ['--no-stream', 'b'], ['--no-trunc', 'b']] },
  update: { name: 'update', usage: 'update [OPTIONS] CONTAINER [CONTAINER...]', desc: 'Update configuration of one or more containers', min: 1, mod: statsMod, fn: 'update',
    opts: [['--blkio-weight <uint16>', 's'], ['--cpu-period <int>', 's'], ['--cpu-quota <int>', 's'], ['--cpu-rt-period <int>', 's'], ['--cpu-rt-runtime <int>', 's'],
      ['-c, --cpu-shares <int>', 's'], ['--cpus <decimal>', 's'], ['--cpuset-cpus <string>', 's'], ['--cpuset-mems <string>', 's'], ['--kernel-memory <bytes>', 's'],
      ['-m, --memory <bytes>', 's'], ['--memory-reservation <bytes>', 's'], ['--memory-swap <bytes>', 's'], ['--pids-limit <int>', 's'], ['--restart <string>', 's']] },
  cp: { name: 'cp', usage: 'cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH', desc: 'Copy files/folders between a container and the local filesystem',
    min: 2, max: 2, mod: cpMod, fn: 'cp', opts: [['-a, --archive', 'b'], ['-L, --follow-link', 'b']] },
  build: { name: 'build', usage: 'build [OPTIONS] PATH | URL | -', desc: 'Build an image from a Dockerfile', min: 1, max: 1, mod: buildMod, fn: 'build', check: 'checkBuildFlags',
    opts: [['--add-host <list>', 'l'], ['--build-arg <list>', 'l'], ['--cache-from <strings>', 'l'], ['--cgroup-parent <string>', 's'], ['--compress', 'b'],
      ['--cpu-period <int>', 's'], ['--cpu-quota <int>', 's'], ['-c, --cpu-shares <int>', 's'], ['--cpuset-cpus <string>', 's'], ['--cpuset-mems <string>', 's'],
      ['--disable-content-trust', 'b', true], ['-f, --file <string>', 's'], ['--force-rm', 'b'], ['--iidfile <string>', 's'], ['--isolation <string>', 's'],
      ['--label <list>', 'l'], ['-m, --memory <bytes>', 's'], ['--memory-swap <bytes>', 's'], ['--network <string>', 's', 'default'], ['--no-cache', 'b'],
      ['--print-ast', 'b'], ['--pull', 'b'], ['-q, --quiet', 'b'], ['--rm', 'b', true], ['--security-opt <strings>', 'l'], ['--shm-size <bytes>', 's'],
      ['--squash', 'b'], ['-t, --tag <list>', 'l'], ['--target <string>', 's'], ['--ulimit <ulimit>', 'l'],
      // accepted but hidden, as the 20.10 CLI hides BuildKit's flags when BuildKit is off
      ['--platform <string>', 's'], ['--progress <string>', 's', 'auto'], ['--secret <stringArray>', 'l'], ['--ssh <stringArray>', 'l'],
      ['-o, --output <stringArray>', 'l'], ['--stream', 'b']] },
  diff: { name: 'diff', usage: 'diff CONTAINER', desc: "Inspect changes to files or directories on a container's filesystem", min: 1, max: 1, mod: cpMod, fn: 'diff', opts: [] },
} satisfies Record<string, Spec>;

type Key = keyof typeof S;
type Sub = readonly [Key, string, string[]?];

export const TOP: readonly Key[] = ['ps', 'inspect', 'create', 'run', 'exec', 'attach', 'commit', 'start', 'stop', 'restart', 'kill', 'rm', 'rename', 'wait', 'pause', 'unpause',
  'top', 'logs', 'export', 'port', 'cp', 'diff', 'stats', 'update', 'build', 'images', 'load', 'save', 'tag', 'rmi', 'history', 'import', 'version', 'info'];
/** Management commands: name → [description, [spec, subcommand, aliases]]. */
export const GROUPS: Record<string, readonly [string, readonly Sub[]]> = {
  container: ['Manage containers', [
    ['ps', 'ls', ['ps', 'list']], ['containerInspect', 'inspect'], ['create', 'create'], ['run', 'run'], ['exec', 'exec'], ['attach', 'attach'], ['commit', 'commit'], ['start', 'start'], ['stop', 'stop'],
    ['restart', 'restart'], ['kill', 'kill'], ['rm', 'rm', ['remove']], ['rename', 'rename'], ['wait', 'wait'], ['pause', 'pause'],
    ['unpause', 'unpause'], ['top', 'top'], ['logs', 'logs'], ['export', 'export'], ['port', 'port'], ['cp', 'cp'], ['diff', 'diff'], ['containerPrune', 'prune'], ['stats', 'stats'], ['update', 'update'],
  ]],
  image: ['Manage images', [
    ['build', 'build'], ['images', 'ls', ['list']], ['imageInspect', 'inspect'], ['load', 'load'], ['save', 'save'], ['tag', 'tag'], ['rmi', 'rm', ['rmi', 'remove']],
    ['history', 'history'], ['import', 'import'], ['imagePrune', 'prune'],
  ]],
  network: ['Manage networks', [
    ['networkConnect', 'connect'], ['networkCreate', 'create'], ['networkDisconnect', 'disconnect'], ['networkInspect', 'inspect'], ['networkLs', 'ls', ['list']],
    ['networkPrune', 'prune'], ['networkRm', 'rm', ['remove']],
  ]],
  system: ['Manage Docker', [['df', 'df'], ['info', 'info']]],
  volume: ['Manage volumes', [
    ['volumeCreate', 'create'], ['volumeInspect', 'inspect'], ['volumeLs', 'ls', ['list']], ['volumePrune', 'prune'], ['volumeRm', 'rm', ['remove']],
  ]],
};

/** Global options: they come before the command word. */
export const GLOBAL_OPTS: readonly OptSpec[] = [['--config <string>', 's'], ['-c, --context <string>', 's'], ['-D, --debug', 'b'],
  ['-H, --host <list>', 'l'], ['-l, --log-level <string>', 's', 'info'], ['--tls', 'b'], ['--tlscacert <string>', 's'], ['--tlscert <string>', 's'],
  ['--tlskey <string>', 's'], ['--tlsverify', 'b'], ['-v, --version', 'b']];

export function spec(key: Key): Spec { return S[key] as Spec; }

/** The command a path names: `ps`, `container ls` (the usage line carries the group's name). */
interface Found { spec: Spec; key: Key; path: string; aliases: string[] }

function argsError(s: Spec, path: string, n: number): CliError | undefined {
  const { min = 0, max } = s;
  let what: string | undefined;
  if (max === 0 && n > 0) what = 'accepts no arguments.';
  else if (min > 0 && max !== undefined && min !== max && (n < min || n > max)) what = `requires at least ${min} and at most ${max} argument${max === 1 ? '' : 's'}.`;
  else if (min === max && n !== min) what = `requires exactly ${min} argument${min === 1 ? '' : 's'}.`;
  else if (n < min) what = `requires at least ${min} argument${min === 1 ? '' : 's'}.`;
  else if (max !== undefined && n > max) what = `requires at most ${max} argument${max === 1 ? '' : 's'}.`;
  if (!what) return undefined;
  return new CliError(`"${PROG} ${path}" ${what}\nSee '${PROG} ${path} --help'.\n\nUsage:  ${PROG} ${s.usage}\n\n${s.desc}`, 1, 'raw');
}

/** Parses `run`/`create` arguments (after the command word) as the CLI does: for tests and tools. */
export function parseRunArgs(argv: string[]): { args: string[]; opts: Opts } {
  const { args, opts } = parse(argv, compile(RUN_FLAGS), false);
  return { args, opts };
}

/** berthd's socket; dockerd (or any other engine) is reached with DOCKER_HOST or -H, as the README says. */
const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

const out = (s: string): void => { process.stdout.write(s); };
const errOut = (s: string): void => { process.stderr.write(s); };

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let path = '';
  try {
    const g = parse(argv, compile(GLOBAL_OPTS), false);
    const words = g.args;
    if (g.help) { out((await import('./help.ts')).rootHelp(g.help)); return 0; }
    if (!words.length) {
      if (g.opts.version) out(`${PROG} version ${CLI_VERSION}\n`);
      else errOut((await import('./help.ts')).rootHelp(''));
      return 0;
    }
    const w0 = words[0]!;
    let found: Found;
    let rest: string[];
    if (Object.hasOwn(GROUPS, w0)) {
      path = w0;
      const subs = GROUPS[w0]![1];
      // flags between the group and its subcommand: only --help
      const gp = parse(words.slice(1), [], false);
      if (gp.help) { out((await import('./help.ts')).groupHelp(w0, gp.help)); return 0; }
      const w1 = gp.args[0];
      if (w1 === undefined) { errOut((await import('./help.ts')).groupHelp(w0, '')); return 0; }
      const sub = subs.find(([, n, al]) => n === w1 || !!al?.includes(w1));
      if (!sub) { errOut(`${(await import('./help.ts')).groupHelp(w0, '').trimEnd()}\n`); return 1; }
      const s = spec(sub[0]);
      path = `${w0} ${sub[1]}`;
      found = { spec: s.usage.startsWith(`${w0} `) ? s : { ...s, usage: `${w0} ${s.usage.replace(/^\S+/, sub[1])}` }, key: sub[0], path, aliases: sub[2] ?? [] };
      rest = gp.args.slice(1);
    } else if (TOP.includes(w0 as Key)) {
      path = w0;
      found = { spec: spec(w0 as Key), key: w0 as Key, path, aliases: [] };
      rest = words.slice(1);
    } else {
      errOut(`${PROG}: '${w0}' is not a ${PROG} command.\nSee '${PROG} --help'\n`);
      return 1;
    }
    const s = found.spec;
    const p = parse(rest, compile(s.opts), !s.pass);
    if (p.help) { out((await import('./help.ts')).commandHelp(found, p.help)); return 0; }
    if (s.check) ((await s.mod())[s.check] as (o: Opts) => void)(p.opts);
    const bad = argsError(s, path, p.args.length);
    if (bad) throw bad;
    const mod = await s.mod();
    await (mod[s.fn] as Act)(makeCtx(g.opts), p.args, p.opts);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof FlagError) {
      const usage = path === '' || Object.hasOwn(GROUPS, path) ? `\n\n${(await import('./help.ts')).usageOf(path)}` : '\n';
      errOut(`${e.message}\nSee '${PROG}${path ? ` ${path}` : ''} --help'.${usage}`);
      return 125;
    }
    return report(e, path);
  }
}

function makeCtx(g: Opts): Ctx {
  const host = (g.host as string[]).at(-1) ?? (process.env.DOCKER_HOST || DEFAULT_HOST);
  const apiVersion = process.env.DOCKER_API_VERSION || undefined;
  let client: Client | undefined;
  return {
    host,
    apiVersion,
    configDir: (g.config as string | undefined) ?? process.env.DOCKER_CONFIG ?? `${process.env.HOME ?? ''}/.docker`,
    client: () => (client ??= new Client({ host, version: apiVersion })),
    out: (s) => { process.stdout.write(s); },
    err: (s) => { process.stderr.write(s); },
  };
}

/** Prints an error the way docker does; returns the exit code. */
export function report(e: unknown, path: string): number {
  const isRun = /(^| )(run|create)$/.test(path);
  const err = (s: string): void => { process.stderr.write(s.endsWith('\n') ? s : `${s}\n`); };
  if (e instanceof ExitCode) return e.code;
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
