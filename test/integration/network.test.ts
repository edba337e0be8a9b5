/**
 * Issue 5, networking, through the real docker CLI: the default bridge with a published nginx reached from
 * the daemon's netns and from a "second host" (another netns joined by a veth); user networks with names
 * and aliases resolved, isolation between networks, --internal; the /etc files of each mode; rules after
 * kill -9; nothing left after everything is removed; two berth hosts routing to each other's containers.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, integrationSkip, type Daemon } from '../helpers/daemon.ts';

const IMG = 'busybox:1.35';

function sh(cmd: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** A second "host": a netns joined to the daemon's by a veth, `a` on the daemon side, `b` on the peer side. */
function peerHost(d: Daemon, tag: string, a: string, b: string): { ns: string; run(cmd: string, args: string[]): ReturnType<typeof sh>; remove(): void } {
  const ns = `berth-t-peer${tag}`;
  sh('ip', ['netns', 'del', ns]);
  const must = (args: string[]) => { const r = sh('ip', args); assert.equal(r.code, 0, `ip ${args.join(' ')}: ${r.stderr}`); };
  must(['netns', 'add', ns]);
  must(['-n', d.netns, 'link', 'add', `vp${tag}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  must(['-n', d.netns, 'addr', 'add', `${a}/24`, 'dev', `vp${tag}`]);
  must(['-n', d.netns, 'link', 'set', `vp${tag}`, 'up']);
  must(['-n', ns, 'addr', 'add', `${b}/24`, 'dev', 'eth0']);
  must(['-n', ns, 'link', 'set', 'eth0', 'up']);
  must(['-n', ns, 'link', 'set', 'lo', 'up']);
  return {
    ns,
    run: (cmd, args) => sh('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args]),
    remove: () => { sh('ip', ['netns', 'del', ns]); },
  };
}

describe('networking', { skip: integrationSkip() }, () => {
  let d: Daemon;
  let peer: ReturnType<typeof peerHost> | undefined;
  /** berth's rules in a fresh daemon: the base chains and the default bridge's rules. */
  let base: string[] = [];
  const berthRules = (save: string) => save.split('\n').filter((l) => /^[-:]/.test(l) && /BERTH|berth0|br-/.test(l)).map((l) => l.replace(/\[\d+:\d+\]$/, ''));
  before(async () => {
    d = await startDaemon();
    await d.load('busybox', 'nginx');
    peer = peerHost(d, d.netns.slice(-4), '10.99.0.1', '10.99.0.2');
    base = berthRules((await d.inNetns('iptables-save', [])).stdout);
  });
  after(async () => { peer?.remove(); await d?.cleanup(); });

  const ok = async (args: string[]) => {
    const r = await d.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const iptables = async () => (await d.inNetns('iptables-save', [])).stdout;
  const curl = (args: string[]) => d.inNetns('curl', ['-s', '-m', '5', ...args]);

  it('run -d -p 8080:80 nginx serves on 127.0.0.1:8080 and from a second host; rules, port, ps and inspect as Docker', async () => {
    const id = (await ok(['run', '-d', '--name', 'web', '-p', '8080:80', 'nginx:bookworm'])).stdout.trim();
    let page = '';
    for (let i = 0; i < 50 && !page.includes('Welcome to nginx'); i++) {
      page = (await curl(['http://127.0.0.1:8080/'])).stdout;
      if (!page) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(page, /Welcome to nginx!/);
    const remote = peer!.run('curl', ['-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', 'http://10.99.0.1:8080/']);
    assert.equal(remote.stdout, '200', `from the second host: ${remote.stderr}`);
    // the host's own address, from the host (nat OUTPUT → BERTH)
    assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', 'http://10.99.0.1:8080/'])).stdout, '200');
    const rules = await iptables();
    for (const r of [
      '-A PREROUTING -m addrtype --dst-type LOCAL -j BERTH',
      '-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j BERTH',
      '-A POSTROUTING -s 172.17.0.0/16 ! -o berth0 -j MASQUERADE',
      '-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE',
      '-A BERTH ! -i berth0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80',
      '-A BERTH -d 172.17.0.2/32 ! -i berth0 -o berth0 -p tcp -m tcp --dport 80 -j ACCEPT',
      '-A FORWARD -j BERTH-USER',
      '-A FORWARD -j BERTH-ISOLATION-STAGE-1',
      '-A BERTH-USER -j RETURN',
    ]) assert.ok(rules.split('\n').includes(r), `iptables-save lacks ${r}\n${rules}`);
    // as dockerd 20.10 on a host with IPv6: 0.0.0.0 and :: (the IPv6 side through the proxy)
    assert.equal((await d.docker20(['port', 'web'])).stdout, '80/tcp -> 0.0.0.0:8080\n80/tcp -> :::8080\n');
    assert.equal((await d.docker20(['ps', '--format', '{{.Names}} {{.Ports}}'])).stdout, 'web 0.0.0.0:8080->80/tcp, :::8080->80/tcp\n');
    assert.equal((await ok(['port', 'web'])).stdout, '80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n', 'the 28.2 CLI brackets IPv6');
    assert.equal((await d.berth(['ps', '--format', '{{.Names}} {{.Ports}}'])).stdout, 'web 0.0.0.0:8080->80/tcp, :::8080->80/tcp\n');
    assert.equal((await curl(['-o', '/dev/null', '-w', '%{http_code}', 'http://[::1]:8080/'])).stdout, '200');
    const [ins] = JSON.parse((await ok(['inspect', 'web'])).stdout) as { NetworkSettings: { IPAddress: string; MacAddress: string; Gateway: string; SandboxKey: string; Ports: unknown } }[];
    assert.deepEqual([ins!.NetworkSettings.IPAddress, ins!.NetworkSettings.MacAddress, ins!.NetworkSettings.Gateway], ['172.17.0.2', '02:42:ac:11:00:02', '172.17.0.1']);
    assert.deepEqual(ins!.NetworkSettings.Ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }] });
    assert.equal((await ok(['exec', 'web', 'cat', '/etc/hosts'])).stdout.split('\n').at(-2), `172.17.0.2\t${id.slice(0, 12)}`);
    // the same port again: Docker's words, the second container stays Created
    const again = await d.docker(['run', '-d', '--name', 'web2', '-p', '8080:80', 'nginx:bookworm']);
    assert.equal(again.code, 125);
    assert.match(again.stderr, /Bind for 0\.0\.0\.0:8080 failed: port is already allocated/);
    assert.equal((await ok(['inspect', '-f', '{{.State.Status}}', 'web2'])).stdout, 'created\n');
    await ok(['rm', 'web2']);
    // -P: the exposed port gets an ephemeral one
    await ok(['run', '-d', '--name', 'webp', '-P', 'nginx:bookworm']);
    assert.match((await d.docker20(['port', 'webp', '80'])).stdout, /^0\.0\.0\.0:(3[2-9]\d{3}|[4-5]\d{4}|60\d{3})\n:::\1\n$/);
    await ok(['rm', '-f', 'webp']);
  });

  it('a user network: names, aliases and short ids resolve; another network cannot reach; --internal has no way out', async () => {
    assert.match((await ok(['network', 'create', 'app'])).stdout, /^[0-9a-f]{64}\n$/);
    await ok(['network', 'create', 'other']);
    await ok(['network', 'create', '--internal', 'closed']);
    await ok(['run', '-d', '--name', 'api', '--network', 'app', '--network-alias', 'www', IMG, 'sh', '-c',
      'mkdir /www && echo hello from api > /www/index.html && httpd -f -p 80 -h /www']);
    const get = (net: string, url: string) => d.docker(['run', '--rm', '--network', net, '--init', IMG, 'timeout', '3', 'wget', '-q', '-O', '-', url]);
    // api's httpd may still be starting: the first GET is retried a few times
    let first = await get('app', 'http://api/');
    for (let i = 0; i < 10 && first.code !== 0; i++) first = await get('app', 'http://api/');
    assert.equal(first.stdout, 'hello from api\n');
    assert.equal((await get('app', 'http://www/')).stdout, 'hello from api\n');
    const resolv = (await ok(['run', '--rm', '--network', 'app', IMG, 'cat', '/etc/resolv.conf'])).stdout;
    assert.match(resolv, /^nameserver 172\.18\.0\.1\noptions ndots:0\n$/m);
    const apiIp = (await ok(['inspect', '-f', '{{.NetworkSettings.Networks.app.IPAddress}}', 'api'])).stdout.trim();
    assert.equal(apiIp, '172.18.0.2');
    const blocked = await get('other', `http://${apiIp}/`);
    assert.notEqual(blocked.code, 0, 'a container on another user network reached api');
    // egress: the second host answers pings from a normal network, not from an internal one
    assert.equal((await d.docker(['run', '--rm', '--network', 'app', IMG, 'ping', '-c', '1', '-W', '2', '10.99.0.2'])).code, 0);
    const internal = await d.docker(['run', '--rm', '--network', 'closed', IMG, 'ping', '-c', '1', '-W', '2', '10.99.0.2']);
    assert.notEqual(internal.code, 0);
    const ls = (await ok(['network', 'ls', '--format', '{{.Name}} {{.Driver}}'])).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(ls, ['app bridge', 'bridge bridge', 'closed bridge', 'host host', 'none null', 'other bridge']);
    const inUse = await d.docker(['network', 'rm', 'app']);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /has active endpoints/);
    await ok(['rm', '-f', 'api']);
    await ok(['network', 'rm', 'app', 'other', 'closed']);
  });

  it('connect and disconnect a running container', async () => {
    await ok(['network', 'create', 'side']);
    await ok(['run', '-d', '--name', 'c1', IMG, 'sleep', '300']);
    await ok(['network', 'connect', '--alias', 'sidekick', 'side', 'c1']);
    const addrs = (await ok(['exec', 'c1', 'ip', '-o', '-4', 'addr'])).stdout;
    assert.match(addrs, /eth1\s+inet 172\.\d+\.0\.2\//);
    assert.equal((await d.docker(['run', '--rm', '--network', 'side', IMG, 'ping', '-c', '1', '-W', '2', 'sidekick'])).code, 0);
    // now on a user network, c1 resolves through its DNS, as with dockerd
    assert.match((await ok(['exec', 'c1', 'cat', '/etc/resolv.conf'])).stdout, /^nameserver 172\.\d+\.0\.1$/m);
    assert.match((await ok(['exec', 'c1', 'nslookup', 'sidekick'])).stdout, /Address: 172\.\d+\.0\.2/);
    await ok(['network', 'disconnect', 'side', 'c1']);
    assert.doesNotMatch((await ok(['exec', 'c1', 'ip', '-o', '-4', 'addr'])).stdout, /eth1/);
    await ok(['rm', '-f', 'c1']);
    await ok(['network', 'rm', 'side']);
  });

  it('/etc/hosts and resolv.conf: --add-host, --link, --dns*, host and none modes', async () => {
    await ok(['run', '-d', '--name', 'target', '-h', 'tgt', '-e', 'SECRET=1', '--expose', '6379', IMG, 'sleep', '300']);
    const tip = (await ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'target'])).stdout.trim();
    const r = await ok(['run', '--rm', '--link', 'target:db', '--add-host', 'myhost:10.1.2.3', '--dns', '9.9.9.9', '--dns-search', 'corp.example',
      '--dns-option', 'ndots:2', '-h', 'me', IMG, 'sh', '-c', 'cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; env | grep ^DB_ | sort']);
    const [hosts, resolv, env] = r.stdout.split('---\n');
    const lines = hosts!.split('\n');
    assert.deepEqual(lines.slice(6, 8), ['10.1.2.3\tmyhost', `${tip}\tdb tgt target`]);
    assert.match(lines[8]!, /^172\.17\.0\.\d+\tme$/);
    assert.equal(resolv, 'search corp.example\nnameserver 9.9.9.9\noptions ndots:2\n');
    assert.match(env!, new RegExp(`^DB_ENV_SECRET=1\nDB_NAME=/[a-z_]+/db\nDB_PORT=tcp://${tip.replaceAll('.', '\\.')}:6379\n`));
    const none = (await ok(['run', '--rm', '--network', 'none', IMG, 'cat', '/etc/hosts'])).stdout;
    assert.equal(none.split('\n').length, 7, 'none: only the default entries');
    const host = await ok(['run', '--rm', '--network', 'host', '-p', '82:80', IMG, 'cat', '/etc/hosts']);
    assert.equal(host.stdout, sh('cat', ['/etc/hosts']).stdout);
    assert.match(host.stderr, /WARNING: Published ports are discarded when using host network mode/);
    const shared = await ok(['run', '--rm', '--network', 'container:target', IMG, 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
    assert.ok(shared.stdout.includes(`inet ${tip}/`), shared.stdout);
    const refused = await d.docker(['run', '--rm', '--network', 'container:target', '-p', '81:81', IMG, 'true']);
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, /conflicting options: port publishing and the container type network mode/);
    await ok(['rm', '-f', 'target']);
  });

  it('docker-compose 1.29: the project network, service names resolved, a published port, down removes them', async () => {
    const dir = join(d.dir, 'compose');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'docker-compose.yml'), [
      "version: '3.8'",
      'services:',
      '  web:',
      '    image: busybox:1.35',
      "    command: sh -c 'mkdir /w && echo hi from web > /w/index.html && httpd -f -p 80 -h /w'",
      '    ports: ["8090:80"]',
      '  client:',
      '    image: busybox:1.35',
      "    command: sh -c 'until wget -q -O - http://web/; do sleep 0.2; done'",
      '    depends_on: [web]',
      '',
    ].join('\n'));
    const compose = (args: string[]) => d.exec('docker-compose', ['-f', join(dir, 'docker-compose.yml'), '-p', 'demo', ...args], { env: { DOCKER_HOST: d.host } });
    const up = await compose(['up', '-d']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /Creating network "demo_default" with the default driver/);
    assert.equal((await ok(['wait', 'demo_client_1'])).stdout, '0\n');
    assert.equal((await ok(['logs', 'demo_client_1'])).stdout, 'hi from web\n');
    assert.equal((await curl(['http://127.0.0.1:8090/'])).stdout, 'hi from web\n');
    const down = await compose(['down']);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stderr, /Removing network demo_default/);
    assert.doesNotMatch((await ok(['network', 'ls', '--format', '{{.Name}}'])).stdout, /demo_default/);
  });

  it('after kill -9 and a restart, the published port still works and no rule is doubled; once everything is removed only the base chains stay', async () => {
    await d.kill9();
    await d.restart();
    await ok(['ps']); // answers once the engine has restored (the socket listens earlier)
    const page = await curl(['-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:8080/']);
    assert.equal(page.stdout, '200', `after the restart:\n${(await d.inNetns('ss', ['-lnt'])).stdout}\n${d.stderr().slice(-4000)}`);
    const remote = peer!.run('curl', ['-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', 'http://10.99.0.1:8080/']);
    assert.equal(remote.stdout, '200');
    const rules = (await iptables()).split('\n').filter((l) => l.startsWith('-A'));
    assert.deepEqual(rules.filter((l, i) => rules.indexOf(l) !== i), [], 'duplicated rules');
    await ok(['rm', '-f', 'web']);
    assert.ok(base.includes('-A BERTH-ISOLATION-STAGE-1 -i berth0 ! -o berth0 -j BERTH-ISOLATION-STAGE-2'), base.join('\n'));
    assert.deepEqual(berthRules(await iptables()), base, 'after removing every container and network: the rules of a fresh daemon');
    const links = (await d.inNetns('ip', ['-o', 'link'])).stdout;
    assert.doesNotMatch(links, /veth|br-/);
  });
});

describe('networking: daemon options and two hosts', { skip: integrationSkip() }, () => {
  const daemons: Daemon[] = [];
  after(async () => { for (const d of daemons) await d.cleanup(); });

  it('bip sets the default subnet; icc: false drops traffic between containers; iptables: false writes no rule; bridge: none', async () => {
    const d = await startDaemon({ config: { bip: '10.55.0.1/24', icc: false } });
    daemons.push(d);
    await d.load('busybox');
    const ok = async (args: string[]) => { const r = await d.docker(args); assert.equal(r.code, 0, r.stderr); return r; };
    await ok(['run', '-d', '--name', 'srv', IMG, 'sh', '-c', 'mkdir /w && echo x > /w/i && httpd -f -p 80 -h /w']);
    assert.equal((await ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'srv'])).stdout, '10.55.0.2\n');
    const rules = (await d.inNetns('iptables-save', [])).stdout;
    assert.ok(rules.includes('-A FORWARD -i berth0 -o berth0 -j DROP'), rules);
    // the server answers the host (OUTPUT, not FORWARD) once it is up; then a container must not reach it
    let up = '';
    for (let i = 0; i < 50 && up !== 'x\n'; i++) {
      up = (await d.inNetns('curl', ['-s', '-m', '2', 'http://10.55.0.2/i'])).stdout;
      if (up !== 'x\n') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(up, 'x\n');
    const get = await d.docker(['run', '--rm', '--init', IMG, 'timeout', '3', 'wget', '-q', '-O', '-', 'http://10.55.0.2/i']);
    assert.notEqual(get.code, 0, 'icc false: a container reached another');
    const d2 = await startDaemon({ config: { iptables: false } });
    daemons.push(d2);
    await d2.load('busybox');
    assert.equal((await d2.docker(['run', '--rm', '-p', '8081:80', IMG, 'true'])).code, 0);
    assert.doesNotMatch((await d2.inNetns('iptables-save', [])).stdout, /BERTH/);
    // bridge: none: no default bridge; a default container has loopback only
    const d3 = await startDaemon({ config: { bridge: 'none' } });
    daemons.push(d3);
    await d3.load('busybox');
    const links = await d3.docker(['run', '--rm', IMG, 'ip', '-o', 'link']);
    assert.equal(links.code, 0, links.stderr);
    assert.deepEqual(links.stdout.trim().split('\n').map((l) => l.split(':')[1]!.trim()), ['lo']);
    assert.doesNotMatch((await d3.inNetns('ip', ['-o', 'link'])).stdout, /berth0/);
  });

  it('NET-45: two berth hosts with their own bip and static routes reach each other\'s containers', async () => {
    const a = await startDaemon({ config: { bip: '172.16.10.254/24' } });
    const b = await startDaemon({ config: { bip: '172.16.20.254/24' } });
    daemons.push(a, b);
    const tag = a.netns.slice(-4);
    const ip = (ns: string, args: string[]) => { const r = sh('ip', ['-n', ns, ...args]); assert.equal(r.code, 0, `ip ${args.join(' ')}: ${r.stderr}`); };
    ip(a.netns, ['link', 'add', `h${tag}`, 'type', 'veth', 'peer', 'name', `h${tag}`, 'netns', b.netns]);
    ip(a.netns, ['addr', 'add', '192.168.0.11/24', 'dev', `h${tag}`]);
    ip(b.netns, ['addr', 'add', '192.168.0.12/24', 'dev', `h${tag}`]);
    ip(a.netns, ['link', 'set', `h${tag}`, 'up']);
    ip(b.netns, ['link', 'set', `h${tag}`, 'up']);
    ip(a.netns, ['route', 'add', '172.16.20.0/24', 'via', '192.168.0.12']);
    ip(b.netns, ['route', 'add', '172.16.10.0/24', 'via', '192.168.0.11']);
    // as the seed: accept the peer's subnet in BERTH-USER, and no SNAT between the container subnets
    for (const [d, local, remote] of [[a, '172.16.10.0/24', '172.16.20.0/24'], [b, '172.16.20.0/24', '172.16.10.0/24']] as const) {
      await d.inNetns('iptables', ['-I', 'BERTH-USER', '-s', remote, '-d', local, '-j', 'ACCEPT']);
      await d.inNetns('iptables', ['-t', 'nat', '-I', 'POSTROUTING', '-s', local, '-d', remote, '-j', 'ACCEPT']);
    }
    await Promise.all([a.load('busybox'), b.load('busybox')]);
    const rb = await b.docker(['run', '-d', '--name', 'srv', IMG, 'sh', '-c', 'mkdir /w && echo from host b > /w/i && httpd -f -p 80 -h /w']);
    assert.equal(rb.code, 0, rb.stderr);
    const bIp = (await b.docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'srv'])).stdout.trim();
    assert.equal(bIp, '172.16.20.1');
    const ping = await a.docker(['run', '--rm', IMG, 'ping', '-c', '1', '-W', '2', bIp]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.match(ping.stdout, /ttl=62/);
    let get = await a.docker(['run', '--rm', '--init', IMG, 'timeout', '3', 'wget', '-q', '-O', '-', `http://${bIp}/i`]);
    for (let i = 0; i < 5 && get.code !== 0; i++) get = await a.docker(['run', '--rm', '--init', IMG, 'timeout', '3', 'wget', '-q', '-O', '-', `http://${bIp}/i`]);
    assert.equal(get.stdout, 'from host b\n');
  });
});
