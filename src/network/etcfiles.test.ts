import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hostsFile, resolvConf, filterResolvDNS, parseExtraHost, linkEnv } from './etcfiles.ts';

const REF = '/work/shared/reference/docker-20.10/host';
const HOST_RESOLV = 'nameserver 10.77.0.2\nsearch example.lan\n';

/** The output block printed after the line `marker` in a reference file (up to a blank line or the next section). */
function block(file: string, marker: string): string {
  const lines = readFileSync(`${REF}/${file}`, 'utf8').split('\n');
  const i = lines.indexOf(marker);
  assert.ok(i >= 0, `${marker} not in ${file}`);
  const out: string[] = [];
  for (const l of lines.slice(i + 1)) {
    if (l === '' || l.startsWith('$ ') || l.startsWith('== ') || l.startsWith('# ')) break;
    out.push(l);
  }
  return `${out.join('\n')}\n`;
}

test('golden: default bridge (web)', () => {
  const f = 'container-files-default-bridge.txt';
  assert.equal(hostsFile({ kind: 'bridge', hostname: '4c094566da26', ip: '172.17.0.2' }), block(f, '$ docker exec web cat /etc/hosts'));
  assert.equal(resolvConf({ kind: 'bridge' }, HOST_RESOLV).text, block(f, '$ docker exec web cat /etc/resolv.conf'));
});

test('golden: user network (app1): embedded DNS, ndots:0', () => {
  const f = 'container-files-user-network.txt';
  assert.equal(hostsFile({ kind: 'user', hostname: '4f2e37a200f8', ip: '172.18.0.2' }), block(f, '$ docker exec app1 cat /etc/hosts'));
  const r = resolvConf({ kind: 'user' }, HOST_RESOLV);
  assert.equal(r.text, block(f, '$ docker exec app1 cat /etc/resolv.conf'));
  assert.deepEqual(r.upstream, ['10.77.0.2']);
});

test('golden: --link, --add-host, --dns*, --hostname/--domainname on the default bridge', () => {
  const f = 'container-files-add-host-link-dns.txt';
  const hosts = hostsFile({
    kind: 'bridge', hostname: 'custom-host', domainname: 'example.org', ip: '172.17.0.5',
    extraHosts: ['myhost:10.1.2.3', 'other.example:10.1.2.4'],
    links: [{ alias: 'webalias', name: 'web', hostname: '4c094566da26', ip: '172.17.0.2' }],
  });
  assert.equal(hosts, block(f, '$ docker exec linked cat /etc/hosts'));
  const r = resolvConf({ kind: 'bridge', dns: ['9.9.9.9'], dnsSearch: ['corp.example'], dnsOptions: ['ndots:2'] }, HOST_RESOLV);
  assert.equal(r.text, block(f, '$ docker exec linked cat /etc/resolv.conf'));
});

test('golden: user network with --dns (upstream for the embedded server) and --add-host', () => {
  const f = 'container-files-add-host-link-dns.txt';
  assert.equal(hostsFile({ kind: 'user', hostname: 'd4673d78352f', ip: '172.18.0.4', extraHosts: ['myhost:10.1.2.3'] }),
    block(f, '$ docker exec appdns cat /etc/hosts'));
  const r = resolvConf({ kind: 'user', dns: ['9.9.9.9'], dnsSearch: ['corp.example'] }, HOST_RESOLV);
  assert.equal(r.text, block(f, '$ docker exec appdns cat /etc/resolv.conf'));
  assert.deepEqual(r.upstream, ['9.9.9.9']);
});

test('golden: host and none modes', () => {
  const f = 'container-files-add-host-link-dns.txt';
  const hostHosts = '127.0.0.1 localhost\n127.0.0.1 vm\n';
  assert.equal(hostsFile({ kind: 'host', hostname: 'vm' }, hostHosts), block(f, '== /etc/hosts'));
  assert.equal(resolvConf({ kind: 'host' }, HOST_RESOLV).text, HOST_RESOLV);
  const text = readFileSync(`${REF}/${f}`, 'utf8');
  const none = text.slice(text.indexOf('--network none'));
  const noneHosts = none.slice(none.indexOf('== /etc/hosts\n') + 14, none.indexOf('== /etc/resolv.conf'));
  assert.equal(hostsFile({ kind: 'none', hostname: 'd2e134546edf' }), noneHosts);
  const noneResolv = none.slice(none.indexOf('== /etc/resolv.conf\n') + 20, none.indexOf('== /etc/hostname'));
  assert.equal(resolvConf({ kind: 'none' }, HOST_RESOLV).text, noneResolv);
});

test('host-gateway, hostname with dots, host mode with --add-host', () => {
  assert.deepEqual(parseExtraHost('gw:host-gateway', '172.17.0.1'), ['gw', '172.17.0.1']);
  assert.throws(() => parseExtraHost('gw:host-gateway'), { message: 'unable to derive the IP value for host-gateway' });
  assert.throws(() => parseExtraHost('nocolon'), { message: 'bad format for add-host: "nocolon"' });
  const h = hostsFile({ kind: 'bridge', hostname: 'a.b.c', ip: '172.17.0.3', extraHosts: ['gw:host-gateway'], hostGatewayIP: '172.17.0.1' });
  assert.match(h, /\n172\.17\.0\.1\tgw\n172\.17\.0\.3\ta\.b\.c a\n$/);
  // host mode with --add-host: Docker writes its own file (defaults + extras), no self line
  assert.equal(hostsFile({ kind: 'host', hostname: 'vm', ip: '10.0.0.1', extraHosts: ['x:1.2.3.4'] }, 'ignored\n').split('\n').slice(-2).join('|'), '1.2.3.4\tx|');
});

test('resolv.conf: loopback nameservers filtered, Docker\'s defaults when none is left, ndots kept', () => {
  assert.equal(filterResolvDNS('nameserver 127.0.0.53\nsearch lan\n', false), 'search lan\n\nnameserver 8.8.8.8\nnameserver 8.8.4.4');
  assert.equal(filterResolvDNS('nameserver 127.0.0.1\nnameserver 1.1.1.1\nnameserver ::1\n', false), 'nameserver 1.1.1.1\n');
  assert.equal(filterResolvDNS('nameserver 1.1.1.1\nnameserver 2001:db8::1\n', false), 'nameserver 1.1.1.1\n');
  assert.equal(filterResolvDNS('nameserver 1.1.1.1\nnameserver 2001:db8::1\n', true), 'nameserver 1.1.1.1\nnameserver 2001:db8::1\n');
  // sandbox setup (IPv6 on: v4+v6 defaults) then endpoint join (IPv6 off: v6 lines dropped)
  assert.equal(resolvConf({ kind: 'bridge' }, 'nameserver 127.0.0.53\nsearch lan\n').text, 'search lan\n\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(resolvConf({ kind: 'bridge' }, 'nameserver 127.0.0.1\n').text, '\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(resolvConf({ kind: 'user', dnsOptions: ['ndots:3'] }, HOST_RESOLV).text, 'search example.lan\nnameserver 127.0.0.11\noptions ndots:3\n');
  assert.equal(resolvConf({ kind: 'user' }, 'nameserver 127.0.0.53\n').text, 'nameserver 127.0.0.11\noptions ndots:0\n');
  assert.deepEqual(resolvConf({ kind: 'user' }, 'nameserver 127.0.0.53\n').upstream, []);
});

test('golden: --link environment (the recorded set; web exposes 80/tcp)', () => {
  const f = 'container-files-add-host-link-dns.txt';
  const recorded = block(f, '$ docker exec linked env    # --link also injects the linked container\'s env and port info')
    .trim().split('\n').filter((l) => l.startsWith('WEBALIAS_'));
  const env = linkEnv({ parent: 'linked', alias: 'webalias', childIp: '172.17.0.2', ports: ['80/tcp'],
    childEnv: ['A=1', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] }); // web's Config.Env (container-config.v2-web.json)
  assert.deepEqual(env.slice().sort(), recorded.sort());
  assert.equal(env[0], 'WEBALIAS_PORT=tcp://172.17.0.2:80');
  const r = linkEnv({ parent: 'p', alias: 'db-1', childIp: '10.0.0.2', ports: ['8002/tcp', '8000/tcp', '8001/tcp', '53/udp'], childEnv: [] });
  assert.ok(r.includes('DB_1_PORT=udp://10.0.0.2:53'));
  assert.ok(r.includes('DB_1_PORT_8000_TCP_START=tcp://10.0.0.2:8000') && r.includes('DB_1_PORT_8000_TCP_PORT_END=8002'));
});
