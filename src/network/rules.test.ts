import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generateRules, formatSave, restoreScript, cleanupScript, parseSave, type RulesInput } from './rules.ts';

const REF = '/work/shared/reference/docker-20.10/host';

/** Docker's lines of one iptables-save in a dump file (the n-th one), mapped to berth's names. */
function dockerLines(file: string, n = 0): string[] {
  const text = readFileSync(`${REF}/${file}`, 'utf8').split(/^\$ iptables-save.*$/m)[n + 1]!;
  return text.split('\n')
    .filter((l) => l.startsWith('*') || l.startsWith(':DOCKER') || l.startsWith('-A ') || l === 'COMMIT')
    .map((l) => l.replace(/DOCKER/g, 'BERTH').replace(/docker0/g, 'berth0'));
}

function berthLines(input: RulesInput): string[] {
  return formatSave(generateRules(input)).trimEnd().split('\n');
}

const def = { bridge: 'berth0', subnet: '172.17.0.0/16' };
const app = { bridge: 'br-4807cd500eca', subnet: '172.18.0.0/16' };
const fixed = { bridge: 'br-fixed', subnet: '10.99.0.0/24' };
const web = { bridge: 'berth0', containerIp: '172.17.0.2', containerPort: 80, proto: 'tcp', hostIp: '', hostPort: 8080 };

test('golden: no containers', () => {
  assert.deepEqual(berthLines({ networks: [def], ports: [] }), dockerLines('iptables-save-0-no-containers.txt'));
});

test('golden: default bridge, -p 8080:80', () => {
  assert.deepEqual(berthLines({ networks: [def], ports: [web] }), dockerLines('iptables-save-1-published-8080.txt'));
});

test('golden: two user networks (newest first) beside the default bridge', () => {
  assert.deepEqual(berthLines({ networks: [fixed, app, def], ports: [web] }), dockerLines('iptables-save-2-user-networks.txt'));
});

test('golden: icc=false on the default bridge, without and with a published port', () => {
  const nets = [{ ...def, icc: false }, fixed, app];
  assert.deepEqual(berthLines({ networks: nets, ports: [] }), dockerLines('iptables-save-3-icc-false.txt', 0));
  assert.deepEqual(berthLines({ networks: nets, ports: [web] }), dockerLines('iptables-save-3-icc-false.txt', 1));
});

test('port rules: host IP, udp, hairpin mode (userland-proxy false)', () => {
  const rs = generateRules({ networks: [def], ports: [{ ...web, hostIp: '10.0.0.100', hostPort: 83, proto: 'udp' }], userlandProxy: false });
  assert.deepEqual(rs.nat.chains.BERTH, ['-d 10.0.0.100/32 -p udp -m udp --dport 83 -j DNAT --to-destination 172.17.0.2:80']);
  assert.deepEqual(rs.nat.builtin.OUTPUT!.tail, ['-m addrtype --dst-type LOCAL -j BERTH']);
  assert.deepEqual(rs.nat.builtin.POSTROUTING!.top, ['-s 172.17.0.0/16 ! -o berth0 -j MASQUERADE', '-o berth0 -m addrtype --src-type LOCAL -j MASQUERADE']);
  assert.deepEqual(rs.filter.chains.BERTH, ['-d 172.17.0.2/32 ! -i berth0 -o berth0 -p udp -m udp --dport 80 -j ACCEPT']);
});

/** A tiny iptables-restore --noflush model: enough to check that applying twice converges. */
function apply(state: string, script: string): string {
  const tables = parseSave(state);
  let t: Map<string, string[]> | undefined;
  for (const line of script.split('\n')) {
    if (line.startsWith('*')) { t = tables[line.slice(1)] ??= new Map(); continue; }
    if (!t || line === 'COMMIT' || line === '') continue;
    if (line.startsWith(':')) { t.set(line.slice(1).split(' ')[0]!, []); continue; }
    const [, op, chain, rest] = /^(-[ADIFX]) (\S+) ?(.*)$/.exec(line)!;
    const rules = t.get(chain!);
    if (op !== '-X') assert.ok(rules, `no chain ${chain} for ${line}`);
    if (op === '-A') rules!.push(rest!);
    else if (op === '-D') { const i = rules!.indexOf(rest!); assert.ok(i >= 0, `no rule: ${line}`); rules!.splice(i, 1); }
    else if (op === '-I') { const m = /^(\d+) (.*)$/.exec(rest!)!; rules!.splice(Number(m[1]) - 1, 0, m[2]!); }
    else if (op === '-F') rules!.length = 0;
    else if (op === '-X') t.delete(chain!);
  }
  const out: string[] = [];
  for (const [name, chains] of Object.entries(tables)) {
    out.push(`*${name}`, ...[...chains.keys()].map((c) => `:${c} - [0:0]`));
    for (const [c, rules] of chains) out.push(...rules.map((r) => `-A ${c} ${r}`));
    out.push('COMMIT');
  }
  return out.join('\n');
}

const EMPTY = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -i eth9 -j ACCEPT\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n';
const own = { bridges: ['berth0', 'br-4807cd500eca', 'br-fixed'], subnets: ['172.17.0.0/16', '172.18.0.0/16', '10.99.0.0/24'] };

function rulesOf(state: string, table: string, chain: string): string[] {
  return parseSave(state)[table]!.get(chain) ?? [];
}

test('restoreScript: applied twice (crash and restart) gives the same rules, no duplicates, foreign rules kept', () => {
  const rs = generateRules({ networks: [fixed, app, def], ports: [web] });
  const once = apply(EMPTY, restoreScript(rs, EMPTY, own));
  const twice = apply(once, restoreScript(rs, once, own));
  assert.equal(twice, once);
  const fwd = rulesOf(once, 'filter', 'FORWARD');
  assert.deepEqual(fwd.slice(0, 2), ['-j BERTH-USER', '-j BERTH-ISOLATION-STAGE-1']);
  assert.equal(fwd.at(-1), '-i eth9 -j ACCEPT');
  assert.equal(fwd.length, 2 + 12 + 1);
  // the second run does not touch the built-in chains
  assert.doesNotMatch(restoreScript(rs, once, own), /^-[DI] /m);
  // a rule duplicated by hand and a stale bridge's rules are removed; the user's BERTH-USER rule stays
  const messy = once.replace('-A FORWARD -j BERTH-USER', '-A FORWARD -j BERTH-USER\n-A FORWARD -j BERTH-USER\n-A FORWARD -o br-gone -j BERTH')
    .replace('-A BERTH-USER -j RETURN', '-A BERTH-USER -s 10.0.0.0/8 -j ACCEPT\n-A BERTH-USER -j RETURN');
  const own2 = { ...own, bridges: [...own.bridges, 'br-gone'] };
  const fixedUp = apply(messy, restoreScript(rs, messy, own2));
  assert.deepEqual(rulesOf(fixedUp, 'filter', 'FORWARD'), fwd);
  assert.deepEqual(rulesOf(fixedUp, 'filter', 'BERTH-USER'), ['-s 10.0.0.0/8 -j ACCEPT', '-j RETURN']);
});

test('restoreScript: removing a network and a port converges to the smaller set', () => {
  const big = apply(EMPTY, restoreScript(generateRules({ networks: [fixed, app, def], ports: [web] }), EMPTY, own));
  const small = generateRules({ networks: [def], ports: [] });
  const after = apply(big, restoreScript(small, big, own));
  assert.equal(after, apply(EMPTY, restoreScript(small, EMPTY, own)));
});

test('cleanupScript leaves only the foreign rules', () => {
  const big = apply(EMPTY, restoreScript(generateRules({ networks: [fixed, app, def], ports: [web] }), EMPTY, own));
  const clean = apply(big, cleanupScript(big, own));
  assert.equal(clean, apply(EMPTY, ''));
  assert.equal(cleanupScript(clean, own), '');
});
