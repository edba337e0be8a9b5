/**
 * Docker's `-u` resolution (cf. runc libcontainer/user GetExecUser + moby getUser): `name`, `uid`, `uid:gid`,
 * `name:group`, looked up in the rootfs's /etc/passwd and /etc/group. The primary gid always leads additionalGids
 * (moby ≥ 20.10.18), then the groups that list the user, then --group-add.
 */
import { readFile, lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errno, InvalidArgumentError } from '../lib/index.ts';

interface PasswdEntry { name: string; uid: number; gid: number }
interface GroupEntry { name: string; gid: number; members: string[] }

const MAX_ID = 2 ** 31 - 1;

/** Resolve `p` (absolute, inside the container) to a host path under root, following symlinks inside root only. */
async function scopedPath(root: string, p: string): Promise<string> {
  let parts = p.split('/').filter((s) => s !== '' && s !== '.');
  const done: string[] = [];
  for (let hops = 0; parts.length > 0; ) {
    const part = parts.shift()!;
    if (part === '..') { done.pop(); continue; }
    const host = join(root, ...done, part);
    let isLink = false;
    try { isLink = (await lstat(host)).isSymbolicLink(); } catch { /* missing: keep lexical */ }
    if (!isLink) { done.push(part); continue; }
    if (++hops > 40) throw new InvalidArgumentError(`too many levels of symbolic links: ${p}`);
    const target = await readlink(host);
    if (target.startsWith('/')) done.length = 0;
    parts = [...target.split('/').filter((s) => s !== '' && s !== '.'), ...parts];
  }
  return join(root, ...done);
}

async function readLines(root: string, file: string): Promise<string[] | undefined> {
  try {
    return (await readFile(await scopedPath(root, file), 'utf8')).split('\n');
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR' || errno(e) === 'EISDIR') return undefined;
    throw e;
  }
}

function parsePasswd(lines: string[]): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const l of lines) {
    const line = l.trim();
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    out.push({ name: f[0] ?? '', uid: Number.parseInt(f[2] ?? '', 10) || 0, gid: Number.parseInt(f[3] ?? '', 10) || 0 });
  }
  return out;
}

function parseGroup(lines: string[]): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const l of lines) {
    const line = l.trim();
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    out.push({ name: f[0] ?? '', gid: Number.parseInt(f[2] ?? '', 10) || 0, members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

/** Go's strconv.Atoi-style strict integer parse. */
function atoi(s: string): number | undefined {
  return /^[+-]?\d+$/.test(s) ? Number.parseInt(s, 10) : undefined;
}

export interface ResolvedUser { uid: number; gid: number; additionalGids: number[] }

export async function resolveUser(rootfs: string, spec: string, groupAdd: readonly string[]): Promise<ResolvedUser> {
  const [passwdLines, groupLines] = await Promise.all([readLines(rootfs, '/etc/passwd'), readLines(rootfs, '/etc/group')]);
  const users = passwdLines ? parsePasswd(passwdLines) : [];
  const groups = groupLines ? parseGroup(groupLines) : [];

  const colon = spec.indexOf(':');
  const userArg = colon < 0 ? spec : spec.slice(0, colon);
  const groupArg = colon < 0 ? '' : spec.slice(colon + 1);
  const uidArg = atoi(userArg);
  const gidArg = atoi(groupArg);

  let uid = 0;
  let gid = 0;
  let sgids: number[] = [];
  const match = users.find((u) => (userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg));
  let matchedName = '';
  if (match) {
    matchedName = match.name;
    uid = match.uid;
    gid = match.gid;
  } else if (userArg !== '') {
    if (uidArg === undefined) throw new InvalidArgumentError(`unable to find user ${userArg}: no matching entries in passwd file`);
    if (uidArg < 0 || uidArg > MAX_ID) throw new InvalidArgumentError('uids and gids must be in range 0-2147483647');
    uid = uidArg;
  }

  if (groupArg !== '') {
    const g = groups.find((x) => (gidArg !== undefined ? x.gid === gidArg : x.name === groupArg));
    if (g) gid = g.gid;
    else {
      if (gidArg === undefined) throw new InvalidArgumentError(`unable to find group ${groupArg}: no matching entries in group file`);
      if (gidArg < 0 || gidArg > MAX_ID) throw new InvalidArgumentError('uids and gids must be in range 0-2147483647');
      gid = gidArg;
    }
  } else if (matchedName !== '') {
    sgids = groups.filter((g) => g.members.includes(matchedName)).map((g) => g.gid);
  }

  const added: number[] = [];
  for (const ag of groupAdd) {
    const g = groups.find((x) => x.name === ag || String(x.gid) === ag);
    let id: number;
    if (g) id = g.gid;
    else {
      const n = atoi(ag);
      if (n === undefined) throw new InvalidArgumentError(`Unable to find group ${ag}`);
      if (n < 0 || n > MAX_ID) throw new InvalidArgumentError('uids and gids must be in range 0-2147483647');
      id = n;
    }
    if (!added.includes(id)) added.push(id);
  }
  return { uid, gid, additionalGids: [gid, ...sgids, ...added] };
}
