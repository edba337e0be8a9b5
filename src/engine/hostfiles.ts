/** The host's /etc/hosts and resolv.conf, which the containers' files are made from (network/etcfiles.ts). */
import { readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';

async function readText(path: string): Promise<string | undefined> {
  try { return await readFile(path, 'utf8'); } catch { return undefined; }
}

export interface HostSources { hosts?: string; resolv: string; hostname: string }

/** The host's files (systemd-resolved's real upstream list when /etc/resolv.conf points at 127.0.0.53). */
export async function readHostSources(): Promise<HostSources> {
  const [hosts, resolv] = await Promise.all([readText('/etc/hosts'), readText('/etc/resolv.conf')]);
  let r = resolv ?? '';
  if (/^\s*nameserver\s+127\.0\.0\.53\s*$/m.test(r)) r = (await readText('/run/systemd/resolve/resolv.conf')) ?? r;
  return { ...(hosts !== undefined ? { hosts } : {}), resolv: r, hostname: osHostname() };
}
