/**
 * Docker image references (the distribution/reference grammar): parse, normalise
 * (`busybox` → docker.io/library/busybox:latest) and print in the familiar form (`busybox:latest`).
 */
import { InvalidArgumentError } from '../lib/index.ts';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
export const NAME_MAX = 255;

export interface Reference {
  /** Full normalised repository name: `docker.io/library/busybox`, `myreg:5000/a/b`. */
  name: string;
  tag?: string;
  digest?: string;
}

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `(?:${domainComponent}(?:\\.${domainComponent})*|${ipv6})`;
const domain = `${domainName}(?::[0-9]+)?`;
const tagRe = '[\\w][\\w.-]{0,127}';
const digestRe = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const nameRe = `(?:${domain}/)?${pathComponent}(?:/${pathComponent})*`;
const REFERENCE = new RegExp(`^(${nameRe})(?::(${tagRe}))?(?:@(${digestRe}))?$`);
const ANCHORED_NAME = new RegExp(`^(?:(${domain})/)?(${pathComponent}(?:/${pathComponent})*)$`);
const HEX64 = /^[a-f0-9]{64}$/;
const TAG = new RegExp(`^${tagRe}$`);

const ERR_FORMAT = 'invalid reference format';
const ERR_UPPER = 'invalid reference format: repository name must be lowercase';

/** Parse without normalising (distribution's reference.Parse). */
function parseRaw(s: string): { name: string; tag?: string; digest?: string } {
  const m = REFERENCE.exec(s);
  if (!m) {
    if (s === '') throw new InvalidArgumentError('invalid reference format: repository name must have at least one component');
    if (REFERENCE.test(s.toLowerCase())) throw new InvalidArgumentError(ERR_UPPER);
    throw new InvalidArgumentError(ERR_FORMAT);
  }
  const name = m[1]!;
  if (name.length > NAME_MAX) throw new InvalidArgumentError(`repository name must not be more than ${NAME_MAX} characters`);
  const r: { name: string; tag?: string; digest?: string } = { name };
  if (m[2] !== undefined) r.tag = m[2];
  if (m[3] !== undefined) {
    if (!m[3].startsWith('sha256:') || !HEX64.test(m[3].slice(7))) throw new InvalidArgumentError(ERR_FORMAT);
    r.digest = m[3];
  }
  return r;
}

function splitDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let dom: string;
  let rest: string;
  if (i === -1 || !(name.slice(0, i).includes('.') || name.slice(0, i).includes(':') || name.slice(0, i) === 'localhost' || name.slice(0, i) !== name.slice(0, i).toLowerCase())) {
    dom = DEFAULT_DOMAIN;
    rest = name;
  } else {
    dom = name.slice(0, i);
    rest = name.slice(i + 1);
  }
  if (dom === LEGACY_DOMAIN) dom = DEFAULT_DOMAIN;
  if (dom === DEFAULT_DOMAIN && !rest.includes('/')) rest = OFFICIAL_PREFIX + rest;
  return [dom, rest];
}

/** distribution's ParseNormalizedNamed: `busybox` → docker.io/library/busybox (no default tag). */
export function parseNormalizedNamed(s: string): Reference {
  if (HEX64.test(s)) throw new InvalidArgumentError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  const [dom, rest] = splitDomain(s);
  const colon = rest.indexOf(':');
  const remote = colon === -1 ? rest : rest.slice(0, colon);
  if (remote !== remote.toLowerCase()) throw new InvalidArgumentError(ERR_UPPER);
  const r = parseRaw(`${dom}/${rest}`);
  if (!ANCHORED_NAME.test(r.name)) throw new InvalidArgumentError(ERR_FORMAT);
  return r;
}

/** Parse and add `:latest` when neither tag nor digest is given. */
export function parseTagged(s: string): Reference {
  const r = parseNormalizedNamed(s);
  if (r.tag === undefined && r.digest === undefined) r.tag = 'latest';
  return r;
}

/** `docker.io/library/busybox` → `busybox`; `docker.io/foo/bar` → `foo/bar`. */
export function familiarName(name: string): string {
  if (name.startsWith(DEFAULT_DOMAIN + '/')) {
    const rest = name.slice(DEFAULT_DOMAIN.length + 1);
    return rest.startsWith(OFFICIAL_PREFIX) && !rest.slice(OFFICIAL_PREFIX.length).includes('/') ? rest.slice(OFFICIAL_PREFIX.length) : rest;
  }
  return name;
}

export function familiarString(r: Reference): string {
  let s = familiarName(r.name);
  if (r.tag !== undefined) s += ':' + r.tag;
  if (r.digest !== undefined) s += '@' + r.digest;
  return s;
}

export function fullString(r: Reference): string {
  let s = r.name;
  if (r.tag !== undefined) s += ':' + r.tag;
  if (r.digest !== undefined) s += '@' + r.digest;
  return s;
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/**
 * What a lookup string means (distribution's ParseAnyReference): a 64-hex ID or `sha256:<hex>` is an ID,
 * anything else a name (which may still turn out to be a short ID prefix).
 */
export type AnyReference = { kind: 'id'; id: string } | { kind: 'named'; ref: Reference };

export function parseAnyReference(s: string): AnyReference {
  if (HEX64.test(s)) return { kind: 'id', id: 'sha256:' + s };
  if (s.startsWith('sha256:') && HEX64.test(s.slice(7))) return { kind: 'id', id: s };
  return { kind: 'named', ref: parseNormalizedNamed(s) };
}
