/**
 * berth's iptables rules as data: the same tables, chains, rules and order as dockerd 20.10 writes,
 * with berth's names (BERTH, BERTH-USER, BERTH-ISOLATION-STAGE-1/2, berth0, br-<12 hex>), so that
 * berth can live beside a Docker. `generateRules` gives the desired state; `restoreScript` turns it
 * into an `iptables-restore --noflush` text that converges any current state (read with
 * `iptables-save -t filter -t nat`) to it, idempotently.
 */
export const CHAIN = 'BERTH';
export const USER_CHAIN = 'BERTH-USER';
export const ISOLATION1 = 'BERTH-ISOLATION-STAGE-1';
export const ISOLATION2 = 'BERTH-ISOLATION-STAGE-2';
export const DEFAULT_BRIDGE = 'berth0';

export interface BridgeNetwork {
  /** Linux bridge name: berth0, br-<12 hex>, or com.docker.network.bridge.name. */
  bridge: string;
  subnet: string;
  /** icc (com.docker.network.bridge.enable_icc); default true. */
  icc?: boolean;
  /** ip-masq (com.docker.network.bridge.enable_ip_masquerade); default true. */
  masquerade?: boolean;
  internal?: boolean;
}

export interface PublishedPort {
  bridge: string;
  containerIp: string;
  containerPort: number;
  proto: string;
  /** '' or 0.0.0.0: every address. */
  hostIp: string;
  hostPort: number;
}

export interface RulesInput {
  /** Networks in the order Docker lists them: the most recently set up first (Docker inserts at the top). */
  networks: BridgeNetwork[];
  /** Published ports in the order they were published (Docker appends). */
  ports: PublishedPort[];
  /** userland-proxy (default true); false = hairpin NAT mode. */
  userlandProxy?: boolean;
}

/** One built-in chain: rules berth keeps at its top (inserted from position 1) and at its end (appended). */
export interface BuiltinRules { top: string[]; tail: string[] }

export interface TableRules {
  /** berth's own chains → their full contents (flushed and refilled). BERTH-USER is not here. */
  chains: Record<string, string[]>;
  builtin: Record<string, BuiltinRules>;
}

export interface RuleSet { filter: TableRules; nat: TableRules }

function matchProto(proto: string): string { return `-p ${proto} -m ${proto}`; }

export function generateRules(input: RulesInput): RuleSet {
  const hairpin = input.userlandProxy === false;
  const fwdTop = [`-j ${USER_CHAIN}`, `-j ${ISOLATION1}`];
  const fwdTail: string[] = [];
  const iso1: string[] = [];
  const iso2: string[] = [];
  const natChain: string[] = [];
  const postTop: string[] = [];
  const filterChain: string[] = [];
  for (const n of input.networks) {
    const br = n.bridge;
    if (n.internal) {
      iso1.push(`! -s ${n.subnet} -o ${br} -j DROP`, `! -d ${n.subnet} -i ${br} -j DROP`);
      fwdTop.push(`-i ${br} -o ${br} -j ${n.icc === false ? 'DROP' : 'ACCEPT'}`);
      continue;
    }
    fwdTop.push(
      `-o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
      `-o ${br} -j ${CHAIN}`,
      `-i ${br} ! -o ${br} -j ACCEPT`,
    );
    if (n.icc === false) fwdTail.push(`-i ${br} -o ${br} -j DROP`);
    else fwdTop.push(`-i ${br} -o ${br} -j ACCEPT`);
    iso1.push(`-i ${br} ! -o ${br} -j ${ISOLATION2}`);
    iso2.push(`-o ${br} -j DROP`);
    if (n.masquerade !== false) {
      postTop.push(`-s ${n.subnet} ! -o ${br} -j MASQUERADE`);
      if (hairpin) postTop.push(`-o ${br} -m addrtype --src-type LOCAL -j MASQUERADE`);
      else natChain.push(`-i ${br} -j RETURN`);
    }
  }
  iso1.push('-j RETURN');
  iso2.push('-j RETURN');
  const postTail: string[] = [];
  for (const p of input.ports) {
    const m = matchProto(p.proto);
    const dst = p.hostIp && p.hostIp !== '0.0.0.0' ? `-d ${p.hostIp}/32 ` : '';
    const notIn = hairpin ? '' : `! -i ${p.bridge} `;
    natChain.push(`${dst}${notIn}${m} --dport ${p.hostPort} -j DNAT --to-destination ${p.containerIp}:${p.containerPort}`);
    filterChain.push(`-d ${p.containerIp}/32 ! -i ${p.bridge} -o ${p.bridge} ${m} --dport ${p.containerPort} -j ACCEPT`);
    postTail.push(`-s ${p.containerIp}/32 -d ${p.containerIp}/32 ${m} --dport ${p.containerPort} -j MASQUERADE`);
  }
  return {
    filter: {
      chains: { [CHAIN]: filterChain, [ISOLATION1]: iso1, [ISOLATION2]: iso2 },
      builtin: { FORWARD: { top: fwdTop, tail: fwdTail } },
    },
    nat: {
      chains: { [CHAIN]: natChain },
      builtin: {
        PREROUTING: { top: [], tail: [`-m addrtype --dst-type LOCAL -j ${CHAIN}`] },
        OUTPUT: { top: [], tail: [`${hairpin ? '' : '! -d 127.0.0.0/8 '}-m addrtype --dst-type LOCAL -j ${CHAIN}`] },
        POSTROUTING: { top: postTop, tail: postTail },
      },
    },
  };
}

const BUILTIN_ORDER: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
};

/**
 * berth's part of `iptables-save` after applying the rule set to an empty table: the `:CHAIN` lines of its
 * own chains and the `-A` lines, built-in chains first, then its chains by name (as iptables-save orders them).
 */
export function formatSave(rs: RuleSet): string {
  const out: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    const t = rs[table];
    const chains = Object.keys(t.chains);
    if (table === 'filter') chains.push(USER_CHAIN);
    chains.sort();
    out.push(`*${table}`, ...chains.map((c) => `:${c} - [0:0]`));
    for (const b of BUILTIN_ORDER[table]!) {
      const r = t.builtin[b];
      if (r) out.push(...[...r.top, ...r.tail].map((x) => `-A ${b} ${x}`));
    }
    for (const c of chains) {
      const rules = c === USER_CHAIN ? ['-j RETURN'] : t.chains[c]!;
      out.push(...rules.map((x) => `-A ${c} ${x}`));
    }
    out.push('COMMIT');
  }
  return `${out.join('\n')}\n`;
}

/** `iptables-save` output → table → chain → rule specs (the text after `-A <chain> `), chains in order. */
export function parseSave(text: string): Record<string, Map<string, string[]>> {
  const tables: Record<string, Map<string, string[]>> = {};
  let cur: Map<string, string[]> | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) { cur = new Map(); tables[line.slice(1).trim()] = cur; continue; }
    if (!cur) continue;
    if (line.startsWith(':')) { const name = line.slice(1).split(' ')[0]!; if (!cur.has(name)) cur.set(name, []); continue; }
    const m = /^-A (\S+) (.*)$/.exec(line);
    if (m) {
      if (!cur.has(m[1]!)) cur.set(m[1]!, []);
      cur.get(m[1]!)!.push(m[2]!);
    }
  }
  return tables;
}

/** What berth owns in the built-in chains: jumps to its chains, rules on its bridges, MASQUERADE of its subnets. */
export interface Ownership { bridges: string[]; subnets: string[] }

function ipInSubnet(ip: string, subnet: string): boolean {
  const toN = (s: string) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const [base, bitsS] = subnet.split('/');
  const bits = Number(bitsS);
  const size = 2 ** (32 - bits);
  const b = Math.floor(toN(base!) / size) * size;
  const n = toN(ip);
  return n >= b && n < b + size;
}

export function ownedRule(spec: string, own: Ownership): boolean {
  const words = spec.split(' ');
  const arg = (flag: string) => { const i = words.indexOf(flag); return i >= 0 ? words[i + 1] : undefined; };
  const j = arg('-j');
  if (j && (j === CHAIN || j.startsWith(`${CHAIN}-`))) return true;
  const bridges = new Set([DEFAULT_BRIDGE, ...own.bridges]);
  if (bridges.has(arg('-i') ?? '') || bridges.has(arg('-o') ?? '')) return true;
  if (j === 'MASQUERADE') {
    const s = arg('-s');
    if (s && own.subnets.some((sub) => ipInSubnet(s.split('/')[0]!, sub))) return true;
  }
  return false;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * `iptables-restore --noflush` input that makes the current state (`iptables-save` text) equal to `rs`:
 * - berth's own chains: `:CHAIN - [0:0]` creates each one or, when it exists, flushes it; then refilled.
 * - BERTH-USER: created with its `-j RETURN` only when absent (the user's rules in it are kept).
 * - built-in chains: when berth's rules there (per `own`) are not exactly the wanted ones with the top block
 *   at the top, every berth rule is deleted (duplicates too) and the wanted ones inserted at 1..n / appended.
 * Each table is one COMMIT, so packets never see a half-applied state. berth's own chains are always
 * refilled (cheap, and hand edits in them cannot survive); the built-in chains are left alone when right.
 */
export function restoreScript(rs: RuleSet, current: string, own: Ownership): string {
  const cur = parseSave(current);
  const out: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    const t = rs[table];
    const have = cur[table] ?? new Map<string, string[]>();
    out.push(`*${table}`);
    for (const c of Object.keys(t.chains)) out.push(`:${c} - [0:0]`);
    if (table === 'filter') {
      const user = have.get(USER_CHAIN);
      if (!user) out.push(`:${USER_CHAIN} - [0:0]`);
      if (!user?.includes('-j RETURN')) out.push(`-A ${USER_CHAIN} -j RETURN`);
    }
    for (const [chain, want] of Object.entries(t.builtin)) {
      const rules = have.get(chain) ?? [];
      const mine = rules.filter((r) => ownedRule(r, own));
      const all = [...want.top, ...want.tail];
      if (sameList(mine, all) && sameList(rules.slice(0, want.top.length), want.top)) continue;
      for (const r of mine) out.push(`-D ${chain} ${r}`);
      want.top.forEach((r, i) => out.push(`-I ${chain} ${i + 1} ${r}`));
      for (const r of want.tail) out.push(`-A ${chain} ${r}`);
    }
    for (const [c, rules] of Object.entries(t.chains)) out.push(...rules.map((r) => `-A ${c} ${r}`));
    out.push('COMMIT');
  }
  return `${out.join('\n')}\n`;
}

/**
 * Removes everything berth put in (daemon cleanup when no network is left, or `iptables: false`):
 * its rules in built-in chains, then its chains flushed and deleted. BERTH-USER is kept when the user
 * put rules in it beyond the RETURN.
 */
export function cleanupScript(current: string, own: Ownership): string {
  const cur = parseSave(current);
  const out: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    const have = cur[table];
    if (!have) continue;
    const body: string[] = [];
    for (const [chain, rules] of have) {
      if (chain.startsWith(CHAIN)) continue;
      for (const r of rules) if (ownedRule(r, own)) body.push(`-D ${chain} ${r}`);
    }
    for (const [chain, rules] of have) {
      if (!(chain === CHAIN || chain.startsWith(`${CHAIN}-`))) continue;
      if (chain === USER_CHAIN && rules.some((r) => r !== '-j RETURN')) continue;
      body.push(`-F ${chain}`);
    }
    for (const [chain, rules] of have) {
      if (!(chain === CHAIN || chain.startsWith(`${CHAIN}-`))) continue;
      if (chain === USER_CHAIN && rules.some((r) => r !== '-j RETURN')) continue;
      body.push(`-X ${chain}`);
    }
    if (body.length) out.push(`*${table}`, ...body, 'COMMIT');
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
