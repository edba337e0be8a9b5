/**
 * Parsed lines → stages of typed commands (BuildKit's instructions.Parse, as the classic builder uses it):
 * builder flags checked, ENV/LABEL/ARG pairs split, stage names checked. Every error here comes before the
 * build starts, as `dockerfile parse error line N: …` (HTTP 400, as dockerd).
 */
import { DockerfileParseError, type Node } from './dockerfile/index.ts';

export type Kind = 'ENV' | 'LABEL' | 'ARG' | 'MAINTAINER' | 'EXPOSE' | 'USER' | 'STOPSIGNAL' | 'VOLUME' | 'CMD' | 'ENTRYPOINT'
  | 'SHELL' | 'ONBUILD' | 'HEALTHCHECK' | 'WORKDIR' | 'COPY' | 'ADD' | 'RUN';

export interface Command {
  kind: Kind;
  node: Node;
  /** Builder flags by name (`--from=x` → from: 'x'; a bare boolean flag → 'true'). */
  flags: Record<string, string>;
  /** ENV / LABEL / ARG: [key, value] (ARG: value undefined when it has no default). */
  pairs: [string, string | undefined][];
  /** Values are final (labels from the API), not to be expanded. */
  raw?: boolean;
}

export interface Stage {
  node: Node;
  /** The image (or earlier stage) named by FROM, before expansion. */
  base: string;
  /** `AS name`, lower-cased. */
  name?: string;
  platform?: string;
  commands: Command[];
}

const FLAGS: Record<string, Record<string, 'string' | 'bool'>> = {
  from: { platform: 'string' },
  copy: { from: 'string', chown: 'string', chmod: 'string', link: 'bool' },
  add: { chown: 'string', chmod: 'string', link: 'bool', checksum: 'string', 'keep-git-dir': 'bool' },
  run: { mount: 'string', network: 'string', security: 'string' },
  healthcheck: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
};

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function fail(n: Node, msg: string): DockerfileParseError {
  return new DockerfileParseError(`dockerfile parse error line ${n.startLine}: ${msg}`, n.startLine);
}

function parseFlags(n: Node): Record<string, string> {
  const known = FLAGS[n.value.toLowerCase()] ?? {};
  const out: Record<string, string> = {};
  for (const f of n.flags) {
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(f);
    if (!m) throw fail(n, `Invalid flag format: ${f}`);
    const name = m[1]!;
    const type = known[name];
    if (!type) throw fail(n, `Unknown flag: ${name}`);
    if (name in out) throw fail(n, `Duplicate flag specified: ${name}`);
    if (type === 'bool') {
      const v = (m[2] ?? 'true').toLowerCase();
      if (v !== 'true' && v !== 'false') throw fail(n, `expecting boolean value for flag ${name}, not: ${m[2]}`);
      out[name] = v;
    } else {
      if (m[2] === undefined) throw fail(n, `Missing a value on flag: ${name}`);
      out[name] = m[2];
    }
  }
  return out;
}

function pairs(n: Node): [string, string | undefined][] {
  const k = n.value.toLowerCase();
  if (k === 'arg') {
    return n.args.map((a) => {
      const i = a.indexOf('=');
      return i < 0 ? [a, undefined] : [a.slice(0, i), a.slice(i + 1)];
    });
  }
  if (k === 'env' || k === 'label') {
    const out: [string, string | undefined][] = [];
    for (let i = 0; i + 1 < n.args.length; i += 3) out.push([n.args[i]!, n.args[i + 1]!]);
    return out;
  }
  return [];
}

function command(n: Node): Command {
  const kind = n.value.toUpperCase() as Kind;
  if (kind === 'SHELL' && !n.json) throw fail(n, 'SHELL requires the arguments to be in JSON form');
  if (kind === 'SHELL' && n.args.length === 0) throw fail(n, 'SHELL requires at least one argument');
  if (kind === 'ONBUILD' && n.sub) parseFlags(n.sub);
  return { kind, node: n, flags: parseFlags(n), pairs: pairs(n) };
}

export function compileDockerfile(children: Node[]): { metaArgs: Command[]; stages: Stage[] } {
  const metaArgs: Command[] = [];
  const stages: Stage[] = [];
  for (const n of children) {
    const k = n.value.toLowerCase();
    if (k === 'from') {
      const flags = parseFlags(n);
      const s: Stage = { node: n, base: n.args[0]!, commands: [] };
      if (flags.platform !== undefined) s.platform = flags.platform;
      if (n.args.length === 3) {
        const name = n.args[2]!.toLowerCase();
        if (!STAGE_NAME.test(name)) throw fail(n, `invalid name for build stage: "${n.args[2]}", name can't start with a number or contain symbols`);
        s.name = name;
      }
      stages.push(s);
      continue;
    }
    const c = command(n);
    if (stages.length === 0) {
      if (k !== 'arg') throw new DockerfileParseError('no build stage in current context', n.startLine); // dockerd: no line prefix
      metaArgs.push(c);
      continue;
    }
    stages.at(-1)!.commands.push(c);
  }
  return { metaArgs, stages };
}
