/** The /etc/hosts, /etc/resolv.conf and /etc/hostname a container gets (texts as Docker 20.10 writes them). */
import { readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';

export const DEFAULT_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

export interface HostFilesInput {
  hostname: string;
  domainname: string;
  /** 'host' copies the host's files; anything else builds Docker's own. */
  networkMode: string;
  extraHosts: string[];
  /** The container's address on its network, if it has one (none until networking lands). */
  ip?: string;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
}

async function readText(path: string): Promise<string | undefined> {
  try { return await readFile(path, 'utf8'); } catch { return undefined; }
}

export function hostsText(i: HostFilesInput, hostHosts?: string): string {
  const extra = i.extraHosts.map((h) => {
    const k = h.indexOf(':');
    return `${h.slice(k + 1)}\t${h.slice(0, k)}`;
  });
  if (i.networkMode === 'host') {
    const base = hostHosts ?? `${DEFAULT_HOSTS.join('\n')}\n`;
    return extra.length ? `${base}${base.endsWith('\n') ? '' : '\n'}${extra.join('\n')}\n` : base;
  }
  const lines = [...DEFAULT_HOSTS, ...extra];
  if (i.ip) {
    const names = i.domainname ? `${i.hostname}.${i.domainname} ${i.hostname}` : i.hostname;
    lines.push(`${i.ip}\t${names}`);
  }
  return `${lines.join('\n')}\n`;
}

const localNs = /^\s*nameserver\s+(127\.\S*|::1)\s*$/;

/** Docker's resolv.conf: the host's minus loopback nameservers (8.8.8.8/8.8.4.4 when none are left), with --dns* overrides. */
export function resolvConfText(i: HostFilesInput, hostResolv: string): string {
  if (i.networkMode === 'host' && !i.dns.length && !i.dnsSearch.length && !i.dnsOptions.length) return hostResolv;
  if (i.dns.length || i.dnsSearch.length || i.dnsOptions.length) {
    const lines = hostResolv.split('\n');
    const pick = (k: string) => lines.filter((l) => l.trim().startsWith(`${k} `) || l.trim().startsWith(`${k}\t`));
    const out: string[] = [];
    const search = i.dnsSearch.length ? [`search ${i.dnsSearch.join(' ')}`] : pick('search').concat(pick('domain')).slice(0, 1);
    const ns = i.dns.length ? i.dns.map((d) => `nameserver ${d}`) : pick('nameserver').filter((l) => !localNs.test(l));
    const opts = i.dnsOptions.length ? [`options ${i.dnsOptions.join(' ')}`] : pick('options');
    out.push(...search, ...(ns.length ? ns : ['nameserver 8.8.8.8', 'nameserver 8.8.4.4']), ...opts);
    return `${out.join('\n')}\n`;
  }
  const kept = hostResolv.split('\n').filter((l) => !localNs.test(l));
  let text = kept.join('\n');
  if (!kept.some((l) => /^\s*nameserver\s/.test(l))) {
    text = `${text.replace(/\n*$/, '')}${text.trim() ? '\n' : ''}\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n`.replace(/^\n/, '');
  }
  return text;
}

export interface HostSources { hosts?: string; resolv: string; hostname: string }

/** The host's files (systemd-resolved's real upstream list when /etc/resolv.conf points at 127.0.0.53). */
export async function readHostSources(): Promise<HostSources> {
  const [hosts, resolv] = await Promise.all([readText('/etc/hosts'), readText('/etc/resolv.conf')]);
  let r = resolv ?? '';
  if (/^\s*nameserver\s+127\.0\.0\.53\s*$/m.test(r)) r = (await readText('/run/systemd/resolve/resolv.conf')) ?? r;
  return { ...(hosts !== undefined ? { hosts } : {}), resolv: r, hostname: osHostname() };
}
