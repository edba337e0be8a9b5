import { RegistryError } from './errors.ts';

/** The distribution spec's repository name: components of [a-z0-9] joined by separators, `/` between them. */
const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isName(name: string): boolean {
  return name.length <= 255 && NAME_RE.test(name);
}

export function checkName(name: string): string {
  if (!isName(name)) throw new RegistryError('NAME_INVALID', { name });
  return name;
}

export const isTag = (tag: string): boolean => TAG_RE.test(tag);
export const isDigest = (d: string): boolean => DIGEST_RE.test(d);

/** A digest the registry can store (sha256 only); anything else is DIGEST_INVALID. */
export function checkDigest(d: string | null | undefined): string {
  if (!d || !DIGEST_RE.test(d)) throw new RegistryError('DIGEST_INVALID', d ?? undefined);
  return d;
}

/** The project is the first component of a repository name (`library/busybox` → `library`). */
export const projectOf = (name: string): string => name.split('/', 1)[0]!;
