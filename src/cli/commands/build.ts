/**
 * `build` as the docker 20.10 CLI runs it with DOCKER_BUILDKIT=0 (cli/command/image/build.go): the context
 * (a directory, a tar or a Dockerfile on stdin, a URL) is sent as a tar to POST /build with the same query
 * string and headers, and the JSON stream is shown as jsonmessage does. `--print-ast` (berth's own) prints
 * the parsed Dockerfile in BuildKit's AST dump format instead.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import type { Ctx, Opts } from '../main.ts';
import { CliError, ExitCode } from '../errors.ts';
import { memBytes, parseInt64 } from '../run-opts.ts';
import { csvRecord, list, str } from './common.ts';
import {
  contextFromDir, contextFromLocalDir, contextTar, gitClone, goPathError, isArchive, outsideContext, readDockerignoreFile, singleDockerfileTar, statOk, validateContext, walkContext,
} from '../build-context.ts';

const dockerfileModule = (): Promise<typeof import('../../builder/dockerfile/index.ts')> => import('../../builder/dockerfile/index.ts');

const flagErr = (flag: string, v: string, msg: string): CliError => new CliError(`invalid argument "${v}" for "${flag}" flag: ${msg}`, 125, 'flag');

// ───────────────────────── flag values ─────────────────────────

const alnum = '[a-z0-9]+';
const pathComponent = `${alnum}(?:(?:[._]|__|[-]+)${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domain = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[(?:[a-fA-F0-9:]+)\\])(?::[0-9]+)?`;
const REFERENCE = new RegExp(`^((?:${domain}/)?${pathComponent}(?:/${pathComponent})*)(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}))?$`);
const DIGEST_LEN: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** distribution's reference.ParseNormalizedNamed, for its errors only (docker's validateTag). */
export function tagError(s: string): string | undefined {
  if (/^[a-f0-9]{64}$/.test(s)) return `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`;
  const i = s.indexOf('/');
  const first = i < 0 ? '' : s.slice(0, i);
  const hasDomain = i >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase());
  let remainder = hasDomain ? s.slice(i + 1) : s;
  const dom = hasDomain ? first : 'docker.io';
  if (dom === 'docker.io' && !remainder.includes('/')) remainder = `library/${remainder}`;
  const remote = remainder.includes(':') ? remainder.slice(0, remainder.indexOf(':')) : remainder;
  if (remote !== remote.toLowerCase()) return 'invalid reference format: repository name must be lowercase';
  const full = `${dom}/${remainder}`;
  const m = REFERENCE.exec(full);
  if (!m) return REFERENCE.test(full.toLowerCase()) ? 'invalid reference format: repository name must be lowercase' : 'invalid reference format';
  if (m[1]!.length > 255) return 'repository name must not be more than 255 characters';
  if (m[3]) {
    const [alg, hex] = m[3].split(':') as [string, string];
    const want = DIGEST_LEN[alg];
    if (want === undefined) return 'unsupported digest algorithm';
    if (hex.length !== want) return 'invalid checksum digest length';
    if (!/^[a-f0-9]+$/.test(hex)) return 'invalid checksum digest format';
  }
  return undefined;
}

const ULIMIT_NAMES = new Set(['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

function goParseInt(v: string): number | string {
  if (!/^[-+]?\d+$/.test(v)) return `strconv.ParseInt: parsing "${v}": invalid syntax`;
  return Number(v);
}

/** go-units ParseUlimit. */
function parseUlimit(v: string): { Name: string; Hard: number; Soft: number } {
  const eq = v.indexOf('=');
  if (eq < 0) throw flagErr('--ulimit', v, `invalid ulimit argument: ${v}`);
  const name = v.slice(0, eq);
  if (!ULIMIT_NAMES.has(name)) throw flagErr('--ulimit', v, `invalid ulimit type: ${name}`);
  const vals = v.slice(eq + 1).split(':');
  if (vals.length > 2) throw flagErr('--ulimit', v, `too many limit value arguments - ${v.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  let hard: number | undefined;
  if (vals.length === 2) { const x = goParseInt(vals[1]!); if (typeof x === 'string') throw flagErr('--ulimit', v, x); hard = x; }
  const soft = goParseInt(vals[0]!);
  if (typeof soft === 'string') throw flagErr('--ulimit', v, soft);
  const h = hard ?? soft;
  if (h !== -1 && soft > h) throw flagErr('--ulimit', v, `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${h}`);
  return { Name: name, Hard: h, Soft: soft };
}

/** The option values docker's flag types would have refused at parse time: checked before anything else (exit 125). */
export function checkBuildFlags(o: Opts): void {
  for (const t of list(o, 'tag')) { const e = tagError(t); if (e) throw flagErr('-t, --tag', t, e); }
  for (const a of list(o, 'buildArg')) if (a.split('=')[0] === '') throw flagErr('--build-arg', a, `invalid environment variable: ${a}`);
  for (const h of list(o, 'addHost')) {
    const i = h.indexOf(':');
    if (i <= 0) throw flagErr('--add-host', h, `bad format for add-host: ${JSON.stringify(h)}`);
    const ip = h.slice(i + 1);
    if (ip !== 'host-gateway' && !isIP(ip.trim())) throw flagErr('--add-host', h, `invalid IP address in add-host: ${JSON.stringify(ip)}`);
  }
  for (const u of list(o, 'ulimit')) parseUlimit(u);
  const m = str(o, 'memory'); if (m !== undefined) memBytes('-m, --memory', m);
  const sw = str(o, 'memorySwap'); if (sw !== undefined && sw !== '-1') memBytes('--memory-swap', sw);
  const shm = str(o, 'shmSize'); if (shm !== undefined) memBytes('--shm-size', shm);
  for (const [k, f] of [['cpuShares', '-c, --cpu-shares'], ['cpuPeriod', '--cpu-period'], ['cpuQuota', '--cpu-quota']] as const) {
    const v = str(o, k); if (v !== undefined) parseInt64(f, v);
  }
}

// ───────────────────────── the request ─────────────────────────

/** Go's url.QueryEscape. */
function queryEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
}

/** Go's json.Marshal of plain values: <, >, & and U+2028/9 escaped. */
function goJson(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A Go map as json.Marshal writes it: keys sorted. */
function sortedMap<T>(m: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(m).sort().map((k) => [k, m[k]!]));
}

/** What the docker CLI reads from its config file for a build: proxies (as build args) and registry credentials. */
export interface CliConfig {
  proxies?: Record<string, { httpProxy?: string; httpsProxy?: string; noProxy?: string; ftpProxy?: string }>;
  auths?: Record<string, { auth?: string; email?: string; identitytoken?: string; username?: string; password?: string }>;
}

export function readCliConfig(dir: string): CliConfig {
  try { return JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')) as CliConfig; } catch { return {}; }
}

/** ConvertKVStringsToMapWithNil of the --build-arg values (K alone takes $K, or null), then ParseProxyConfig. */
export function buildArgs(values: readonly string[], env: NodeJS.ProcessEnv, cfg: CliConfig, host: string): Record<string, string | null> {
  const m: Record<string, string | null> = {};
  for (let v of values) {
    if (!v.includes('=') && env[v] !== undefined) v = `${v}=${env[v]}`;
    const i = v.indexOf('=');
    if (i < 0) m[v] = null; else m[v.slice(0, i)] = v.slice(i + 1);
  }
  const p = cfg.proxies?.[host] ?? cfg.proxies?.default;
  if (p) {
    for (const [k, val] of [['HTTP_PROXY', p.httpProxy], ['HTTPS_PROXY', p.httpsProxy], ['NO_PROXY', p.noProxy], ['FTP_PROXY', p.ftpProxy]] as const) {
      if (!val) continue;
      if (!(k in m)) m[k] = val;
      if (!(k.toLowerCase() in m)) m[k.toLowerCase()] = val;
    }
  }
  return m;
}

/** X-Registry-Config: the config file's credentials (base64url of their JSON; `{}` without any). */
export function registryConfig(cfg: CliConfig): string {
  const out: Record<string, Record<string, string>> = {};
  for (const [reg, a] of Object.entries(cfg.auths ?? {})) {
    let username = a.username ?? '';
    let password = a.password ?? '';
    if (a.auth) {
      const d = Buffer.from(a.auth, 'base64').toString();
      const i = d.indexOf(':');
      if (i > 0) { username = d.slice(0, i); password = d.slice(i + 1).replace(/\0+$/, ''); }
    }
    const e: Record<string, string> = {};
    if (username) e.username = username;
    if (password) e.password = password;
    if (a.email) e.email = a.email;
    e.serveraddress = reg;
    if (a.identitytoken) e.identitytoken = a.identitytoken;
    out[reg] = e;
  }
  return Buffer.from(goJson(sortedMap(out))).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * The /build query string exactly as the 20.10 client encodes it (url.Values: keys sorted, values in order).
 * `dockerfile` is the Dockerfile's path in the context tar.
 */
export function buildQuery(o: Opts, dockerfile: string, args: Record<string, string | null>): string {
  const q = new Map<string, string[]>();
  const set = (k: string, v: string): void => { q.set(k, [v]); };
  const tags = list(o, 'tag');
  if (tags.length) q.set('t', tags);
  const sec = list(o, 'securityOpt').flatMap(csvRecord);
  if (sec.length) q.set('securityopt', sec);
  const hosts = list(o, 'addHost');
  if (hosts.length) q.set('extrahosts', hosts);
  if (o.quiet === true) set('q', '1');
  if (o.noCache === true) set('nocache', '1');
  set('rm', o.rm === false ? '0' : '1');
  if (o.forceRm === true) set('forcerm', '1');
  if (o.pull === true) set('pull', '1');
  if (o.squash === true) set('squash', '1');
  const iso = str(o, 'isolation') ?? '';
  if (iso !== '' && iso.toLowerCase() !== 'default') set('isolation', iso);
  set('cpusetcpus', str(o, 'cpusetCpus') ?? '');
  set('networkmode', str(o, 'network') ?? 'default');
  set('cpusetmems', str(o, 'cpusetMems') ?? '');
  const int = (k: string): string => String(str(o, k) !== undefined ? Number(str(o, k)) : 0);
  set('cpushares', int('cpuShares'));
  set('cpuquota', int('cpuQuota'));
  set('cpuperiod', int('cpuPeriod'));
  const mem = (k: string, flag: string): string => { const v = str(o, k); return String(v === undefined ? 0 : v === '-1' && k === 'memorySwap' ? -1 : memBytes(flag, v)); };
  set('memory', mem('memory', '-m, --memory'));
  set('memswap', mem('memorySwap', '--memory-swap'));
  set('cgroupparent', str(o, 'cgroupParent') ?? '');
  set('shmsize', mem('shmSize', '--shm-size'));
  set('dockerfile', dockerfile);
  set('target', str(o, 'target') ?? '');
  const ul = new Map<string, ReturnType<typeof parseUlimit>>();
  for (const u of list(o, 'ulimit')) { const x = parseUlimit(u); ul.set(x.Name, x); }
  set('ulimits', ul.size ? goJson([...ul.values()]) : 'null');
  set('buildargs', goJson(sortedMap(args)));
  const labels: Record<string, string> = {};
  for (const l of list(o, 'label')) { const i = l.indexOf('='); if (i < 0) labels[l] = ''; else labels[l.slice(0, i)] = l.slice(i + 1); }
  set('labels', goJson(sortedMap(labels)));
  set('cachefrom', goJson(list(o, 'cacheFrom').flatMap(csvRecord)));
  const platform = str(o, 'platform') ?? process.env.DOCKER_DEFAULT_PLATFORM ?? '';
  if (platform) set('platform', platform.toLowerCase());
  set('version', '1');
  return [...q.keys()].sort().flatMap((k) => q.get(k)!.map((v) => `${queryEscape(k)}=${queryEscape(v)}`)).join('&');
}

// ───────────────────────── the JSON stream ─────────────────────────

interface JsonMessage {
  stream?: string; status?: string; id?: string; from?: string; progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string; errorDetail?: { code?: number; message?: string }; aux?: { ID?: string };
}

/** The error a message stream ended with (jsonmessage.JSONError). */
export class StreamError extends Error {
  readonly code: number;
  constructor(message: string, code: number) { super(message); this.code = code; }
}

/**
 * jsonmessage.DisplayJSONMessagesStream for a build: `stream` text as is, status lines, progress bars only on a
 * terminal; `aux` goes to onAux; an error message ends the stream (thrown as StreamError).
 */
export async function displayJsonStream(body: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, out: (s: string) => void, tty: boolean, onAux: (aux: JsonMessage['aux']) => void): Promise<void> {
  let buf = '';
  const handle = (line: string): void => {
    if (!line.trim()) return;
    let m: JsonMessage;
    try { m = JSON.parse(line) as JsonMessage; } catch { throw new StreamError(`invalid character in stream: ${line.slice(0, 40)}`, 1); }
    if (m.aux !== undefined) { onAux(m.aux); return; }
    if (m.errorDetail || m.error !== undefined) {
      const code = m.errorDetail?.code ?? 0;
      if (code === 401) throw new StreamError('authentication is required', 1);
      throw new StreamError(m.errorDetail?.message ?? m.error ?? '', code || 1);
    }
    const p = m.progressDetail;
    let endl = '';
    if (tty && !m.stream && p) { out('\x1b[2K\r'); endl = '\r'; } else if (p && ((p.current ?? 0) > 0 || (p.total ?? 0) > 0)) return;
    let s = '';
    if (m.id) s += `${m.id}: `;
    if (m.from) s += `(from ${m.from}) `;
    if (p && tty) s += `${m.status ?? ''} ${m.progress ?? ''}${endl}`;
    else if (m.progress) s += `${m.status ?? ''} ${m.progress}${endl}`;
    else if (m.stream) s += `${m.stream}${endl}`;
    else s += `${m.status ?? ''}${endl}\n`;
    out(s);
  };
  for await (const c of body) {
    buf += typeof c === 'string' ? c : c.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) { handle(buf.slice(0, i)); buf = buf.slice(i + 1); }
  }
  handle(buf);
}

// ───────────────────────── the command ─────────────────────────

/** The upload progress line (progress.NewProgressReader: the action, then go-units HumanSize as `%8v`). */
export function sentLine(bytes: number, humanSize: (n: number) => string): string {
  return `Sending build context to Docker daemon ${humanSize(bytes).padStart(8)}`;
}

async function readAllStdin(): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Reads up to n bytes from a stream, then hands back those bytes and the rest of the stream as one iterable. */
async function peek(src: AsyncIterable<Buffer>, n: number): Promise<{ head: Buffer; all: AsyncIterable<Buffer> }> {
  const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const got: Buffer[] = [];
  let len = 0;
  let done = false;
  while (len < n) {
    const r = await it.next();
    if (r.done) { done = true; break; }
    got.push(r.value);
    len += r.value.length;
  }
  const head = Buffer.concat(got);
  return {
    head,
    all: (async function* () {
      yield head;
      if (done) return;
      for (;;) { const r = await it.next(); if (r.done) return; yield r.value; }
    })(),
  };
}

/** A context from a directory: .dockerignore applied, a Dockerfile from stdin or outside added. */
async function dirContext(contextDir: string, rel: string, dockerfileName: string): Promise<{ body: Iterable<Buffer>; relDockerfile: string }> {
  const df = await dockerfileModule();
  let extra: Buffer | undefined;
  if (dockerfileName === '-') extra = await readAllStdin();
  else if (outsideContext(rel)) {
    try { extra = readFileSync(dockerfileName); } catch (e) { throw new CliError(`unable to open Dockerfile: ${goPathError('open', dockerfileName, e)}`); }
  }
  const excludes = readDockerignoreFile(contextDir, df);
  let entries;
  try {
    entries = walkContext(contextDir, new df.PatternMatcher(df.trimBuildFilesFromExcludes(excludes, rel, dockerfileName === '-')));
  } catch (e) {
    throw new CliError(`error checking context: ${(e as Error).message}`);
  }
  validateContext(entries);
  const tar = contextTar(entries, extra ? { content: extra } : undefined);
  return { body: tar.chunks, relDockerfile: tar.dockerfileName ?? rel };
}

/** GetContextFromReader: a tar (maybe compressed) is the context as it is; anything else is a Dockerfile. */
async function readerContext(src: Readable | AsyncIterable<Buffer>, dockerfileName: string): Promise<{ body: AsyncIterable<Buffer> | Iterable<Buffer>; relDockerfile: string; archive: boolean }> {
  const { head, all } = await peek(src, 1024);
  if (isArchive(head)) return { body: all, relDockerfile: dockerfileName, archive: true };
  if (dockerfileName === '-') throw new CliError('unable to prepare context: build context is not an archive');
  const chunks: Buffer[] = [];
  for await (const c of all) chunks.push(c);
  return { body: [singleDockerfileTar(Buffer.concat(chunks))], relDockerfile: 'Dockerfile', archive: false };
}

const DIAL: Record<string, string> = { ECONNREFUSED: 'connect: connection refused', ETIMEDOUT: 'i/o timeout', EHOSTUNREACH: 'connect: no route to host', ENETUNREACH: 'connect: network is unreachable' };

/**
 * GetContextFromURL: the download, with its progress lines (`Downloading build context from remote url: URL`
 * and a bar) where progress.Reader prints them: after the first read (Go's bufio reads 4096 bytes to peek),
 * then every 1% (at most 512 KiB) at most every 100 ms, and at the end. Go's HTTP body returns its last bytes
 * with EOF, so no update is the "last" one (no newline after the bar, and no `Sending build context` line for
 * a downloaded archive, see build()), unless the whole body came in the first read (`whole`).
 */
async function download(url: string, out: (s: string) => void, humanSize: (n: number) => string, whole: { value: boolean }): Promise<AsyncIterable<Buffer>> {
  let res: Response;
  const fail = (msg: string): CliError => new CliError(`unable to prepare context: unable to download remote context ${url}: ${msg}`);
  try { res = await fetch(url); } catch (e) {
    const c = (e as { cause?: { code?: string; address?: string; port?: number; hostname?: string; message?: string } }).cause;
    const msg = c?.code === 'ENOTFOUND' ? `dial tcp: lookup ${c.hostname}: no such host`
      : c?.code && DIAL[c.code] && c.address ? `dial tcp ${c.address}:${c.port}: ${DIAL[c.code]}` : c?.message ?? (e as Error).message;
    throw fail(`Get ${JSON.stringify(url)}: ${msg}`);
  }
  if (res.status >= 400) throw fail(`failed to GET ${url} with status ${res.status} ${res.statusText}: ${(await res.text()).trim()}`);
  const size = Number(res.headers.get('content-length') ?? -1);
  const action = `Downloading build context from remote url: ${url}`;
  const show = (cur: number): void => {
    let p: string;
    if (cur <= 0 && size <= 0) p = '';
    else if (size <= 0) p = humanSize(cur).padStart(8);
    else {
      const pct = Math.min(50, Math.trunc(Math.trunc((cur / size) * 100) / 2));
      p = `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] ${cur > size ? humanSize(cur).padStart(8) : `${humanSize(cur).padStart(8)}/${humanSize(size)}`}`;
    }
    out(`${action} ${p}${p === '' ? '\r\n' : '\r'}`);
  };
  const every = size > 0 ? Math.min(512 * 1024, Math.trunc(0.01 * size)) : 512 * 1024;
  const body = res.body as unknown as AsyncIterable<Uint8Array> | null;
  return (async function* () {
    let cur = 0;
    let lastUpdate = 0;
    let lastTime = 0;
    let peeked = false;
    const step = (n: number): void => {
      cur += n;
      if (cur - lastUpdate > every) {
        // rate.Limiter(every 100 ms, burst 1); reaching the size always shows
        if (lastTime === 0 || cur === size || Date.now() - lastTime >= 100) { show(cur); lastTime = Date.now(); }
        lastUpdate = cur;
      }
    };
    let pending = Buffer.alloc(0);
    for await (const c of body ?? []) {
      pending = pending.length ? Buffer.concat([pending, c]) : Buffer.from(c);
      if (!peeked) {
        // the reads Go makes: 4096 bytes into bufio for the peek, then the rest as it comes
        if (pending.length < 4096 && cur + pending.length !== size) continue;
        peeked = true;
        const n = Math.min(4096, pending.length);
        step(n);
        if (cur === size && n < 4096) {
          // the whole body in the first read: its EOF comes in a read of its own, the last update
          whole.value = true;
          show(cur);
          out('\r\n');
        }
        yield pending.subarray(0, n);
        pending = pending.subarray(n);
      }
      if (pending.length) { step(pending.length); yield pending; pending = Buffer.alloc(0); }
    }
    if (pending.length) { step(pending.length); yield pending; }
  })();
}

export async function build(ctx: Ctx, args: string[], o: Opts): Promise<void> {
  const specified = args[0]!;
  if (o.printAst === true) return printAst(ctx, specified);
  if (o.stream === true) {
    ctx.err('DEPRECATED: The experimental --stream flag has been removed and the build context\n            will be sent non-streaming. Enable BuildKit instead with DOCKER_BUILDKIT=1\n            to stream build context, see https://docs.docker.com/go/buildkit/\n\n');
  }
  if (o.squash === true) {
    // a flag annotated `experimental`: the CLI asks the daemon (its _ping header) before anything else
    const ping = await ctx.client().ping();
    ping.body.resume();
    if (ping.headers['docker-experimental'] !== 'true') throw new CliError('"--squash" is only supported on a Docker daemon with experimental features enabled');
  }
  const dockerfileName = str(o, 'file') ?? '';
  if (dockerfileName === '-' && specified === '-') throw new CliError("invalid argument: can't use stdin for both build context and dockerfile");
  const quiet = o.quiet === true;
  const iidfile = str(o, 'iidfile');
  if (iidfile) {
    try { rmSync(iidfile); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(`Removing image ID file: ${goPathError('remove', iidfile, e)}`);
    }
  }

  let body: AsyncIterable<Buffer> | Iterable<Buffer>;
  let relDockerfile: string;
  let tempDir: string | undefined;
  let downloadedArchive = false;
  let progBuff = '';
  const progOut = (s: string): void => { if (quiet) progBuff += s; else ctx.out(s); };
  const isUrl = /^https?:\/\//.test(specified);
  try {
    if (specified === '-') {
      ({ body, relDockerfile } = await readerContext(process.stdin, dockerfileName));
    } else if (statOk(specified)) {
      const { contextDir, relDockerfile: rel } = contextFromLocalDir(specified, dockerfileName);
      ({ body, relDockerfile } = await dirContext(contextDir, rel, dockerfileName));
    } else if ((isUrl && /\.git(?:#.+)?$/.test(specified)) || /^(git:\/\/|github\.com\/|git@)/.test(specified)) {
      const clone = await gitClone(specified);
      tempDir = clone.root;
      const { contextDir, relDockerfile: rel } = contextFromDir(clone.dir, dockerfileName);
      if (outsideContext(rel)) throw new CliError(`unable to prepare context: the Dockerfile (${dockerfileName}) must be within the build context`);
      ({ body, relDockerfile } = await dirContext(contextDir, rel, dockerfileName));
    } else if (isUrl) {
      if (dockerfileName === '-') throw new CliError('unable to prepare context: a Dockerfile on stdin with a remote context is not supported by berth');
      const { humanSize } = await import('../../lib/index.ts');
      const whole = { value: false };
      const r = await readerContext(await download(specified, progOut, humanSize, whole), dockerfileName);
      ({ body, relDockerfile } = r);
      downloadedArchive = r.archive && !whole.value;
    } else {
      throw new CliError(`unable to prepare context: path ${JSON.stringify(specified)} not found`);
    }
  } catch (e) {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    if (quiet && isUrl) ctx.err(`${progBuff}\n`);
    throw e;
  }

  const { humanSize } = await import('../../lib/index.ts');
  let buildBuff = '';
  const buildOut = (s: string): void => { if (quiet) buildBuff += s; else ctx.out(s); };
  const tty = process.stdout.isTTY === true;
  let sent = 0;
  let lastShown = 0;
  let lastTime = 0;
  if (o.compress === true) {
    const { createGzip } = await import('node:zlib');
    const { Readable } = await import('node:stream');
    body = Readable.from(body).pipe(createGzip());
  }
  const counted = (async function* () {
    for await (const c of coalesce(body)) {
      sent += c.length;
      yield c;
      if (tty && sent - lastShown > 512 * 1024 && Date.now() - lastTime > 100) {
        lastShown = sent; lastTime = Date.now();
        progOut(`${sentLine(sent, humanSize)}\r`);
      }
    }
    // progress.Reader's last update needs a read of 0 bytes with EOF; a downloaded body never gives one
    if (!downloadedArchive) progOut(`${sentLine(sent, humanSize)}\r\r\n`);
  })();
  try {
    await send(ctx, o, counted, relDockerfile, quiet, iidfile, () => progBuff, buildOut, () => buildBuff, tty);
  } finally {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
}

/** Small pieces (tar headers, small files) joined into writes of at least 256 KiB: one chunk per write on the wire. */
async function* coalesce(src: AsyncIterable<Buffer> | Iterable<Buffer>, min = 256 * 1024): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let n = 0;
  for await (const c of src) {
    parts.push(c);
    n += c.length;
    if (n >= min) { yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, n); parts = []; n = 0; }
  }
  if (n) yield Buffer.concat(parts, n);
}

async function send(ctx: Ctx, o: Opts, counted: AsyncIterable<Buffer>, relDockerfile: string, quiet: boolean, iidfile: string | undefined,
  progBuff: () => string, buildOut: (s: string) => void, buildBuff: () => string, tty: boolean): Promise<void> {
  const { Readable } = await import('node:stream');
  const cfg = readCliConfig(ctx.configDir);
  const query = buildQuery(o, relDockerfile, buildArgs(list(o, 'buildArg'), process.env, cfg, ctx.host));
  let res;
  try {
    res = await ctx.client().request('POST', `/build?${query}`, {
      stream: Readable.from(counted, { objectMode: false }),
      headers: { 'Content-Type': 'application/x-tar', 'X-Registry-Config': registryConfig(cfg) },
    });
  } catch (e) {
    if (quiet) ctx.err(progBuff());
    throw e;
  }
  let imageID = '';
  try {
    await displayJsonStream(res.body, buildOut, tty, (aux) => { if (aux?.ID) imageID = aux.ID; });
  } catch (e) {
    if (e instanceof StreamError) {
      if (quiet) ctx.err(progBuff() + buildBuff());
      ctx.err(`${e.message}\n`);
      throw new ExitCode(e.code);
    }
    throw e;
  }
  if (quiet) { imageID = buildBuff(); ctx.out(imageID); }
  if (iidfile) {
    if (!imageID) throw new CliError(`Server did not provide an image ID. Cannot write ${iidfile}`);
    writeFileSync(iidfile, imageID, { mode: 0o666 });
  }
}

/** `--print-ast FILE`: the Dockerfile's syntax tree in BuildKit's dump format; a parse error exits 1. */
async function printAst(ctx: Ctx, file: string): Promise<void> {
  let text: string;
  try { text = file === '-' ? (await readAllStdin()).toString() : readFileSync(file, 'utf8'); } catch (e) {
    throw new CliError(goPathError('open', file, e));
  }
  const { parseDockerfile, dumpAst, DockerfileParseError } = await dockerfileModule();
  try {
    ctx.out(dumpAst(parseDockerfile(text, { name: file })));
  } catch (e) {
    // instruction errors carry their line (`dockerfile parse error line N: …`, as dockerd 20.10 says); the
    // line-level ones get it as BuildKit words it
    if (e instanceof DockerfileParseError && e.line > 0 && !/\bline \d+\b/.test(e.message)) {
      throw new CliError(`dockerfile parse error on line ${e.line}: ${e.message.replace(/^failed to parse .*?: /, '')}`);
    }
    throw new CliError((e as Error).message);
  }
}
