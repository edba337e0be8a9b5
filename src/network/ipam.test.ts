import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseCidr, formatCidr, netmask, pickPool, poolSubnets, macFromIP, newSubnetState, allocateAddress, releaseAddress, checkStaticIP,
} from './ipam.ts';

test('CIDR parse/format', () => {
  assert.equal(formatCidr(parseCidr('172.17.0.5/16')), '172.17.0.0/16');
  assert.equal(formatCidr(parseCidr('10.99.0.0/24')), '10.99.0.0/24');
  assert.equal(netmask(parseCidr('172.17.0.0/16')), '255.255.0.0');
  for (const bad of ['172.17.0.0', '256.1.1.1/8', '1.2.3.4/33', 'x/8', '1.2.3/8']) assert.throws(() => parseCidr(bad), { message: `invalid CIDR address: ${bad}` });
});

test('default pools: 172.17-31/16 then 192.168/16 in /20s', () => {
  const all = [...poolSubnets()].map(formatCidr);
  assert.equal(all.length, 15 + 16);
  assert.deepEqual(all.slice(0, 2), ['172.17.0.0/16', '172.18.0.0/16']);
  assert.deepEqual(all.slice(14, 17), ['172.31.0.0/16', '192.168.0.0/20', '192.168.16.0/20']);
  assert.equal(all.at(-1), '192.168.240.0/20');
});

test('pickPool skips subnets in use (host routes, other bridges)', () => {
  assert.equal(pickPool([]), '172.17.0.0/16');
  assert.equal(pickPool(['10.77.0.0/24', '172.17.0.0/16']), '172.18.0.0/16');
  assert.equal(pickPool(['172.16.0.0/12']), '192.168.0.0/20');
  assert.equal(pickPool(['172.17.5.0/24', '172.18.0.0/16', '0.0.0.0/32']), '172.19.0.0/16');
  assert.throws(() => pickPool(['172.16.0.0/12', '192.168.0.0/16']), /could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network/);
});

test('MAC from IP (NET-04)', () => {
  assert.equal(macFromIP('172.17.0.2'), '02:42:ac:11:00:02');
  assert.equal(macFromIP('192.168.100.2'), '02:42:c0:a8:64:02');
  assert.equal(macFromIP('172.16.10.1'), '02:42:ac:10:0a:01');
  assert.equal(macFromIP('172.31.0.2'), '02:42:ac:1f:00:02');
});

test('sequential allocation from .2, released addresses reused (NET-03), JSON state', () => {
  let st = newSubnetState({ subnet: '172.17.0.0/16' });
  assert.deepEqual(st, { subnet: '172.17.0.0/16', gateway: '172.17.0.1', allocated: [] });
  const got: string[] = [];
  for (let i = 0; i < 3; i++) { const r = allocateAddress(st); st = r.state; got.push(r.ip); }
  assert.deepEqual(got, ['172.17.0.2', '172.17.0.3', '172.17.0.4']);
  st = releaseAddress(st, '172.17.0.3');
  const again = allocateAddress(JSON.parse(JSON.stringify(st)));
  assert.equal(again.ip, '172.17.0.3');
  assert.equal(allocateAddress(again.state).ip, '172.17.0.5');
});

test('--gateway and --ip-range', () => {
  let st = newSubnetState({ subnet: '10.1.0.0/24', gateway: '10.1.0.2' });
  assert.equal(allocateAddress(st).ip, '10.1.0.1');
  st = newSubnetState({ subnet: '10.1.0.0/16', ipRange: '10.1.5.0/24' });
  assert.equal(st.gateway, '10.1.0.1');
  assert.equal(allocateAddress(st).ip, '10.1.5.0');
  st = newSubnetState({ subnet: '10.1.0.0/16', ipRange: '10.1.0.0/24' });
  assert.equal(allocateAddress(st).ip, '10.1.0.2');
  assert.throws(() => newSubnetState({ subnet: '10.1.0.0/16', gateway: '10.2.0.1' }), { message: 'no matching subnet for gateway 10.2.0.1' });
  assert.throws(() => newSubnetState({ subnet: '10.1.0.0/16', ipRange: '10.2.0.0/24' }), { message: 'no matching subnet for range 10.2.0.0/24' });
});

test('pool exhaustion', () => {
  let st = newSubnetState({ subnet: '10.1.0.0/30' });
  st = allocateAddress(st).state;
  assert.deepEqual(st.allocated, ['10.1.0.2']);
  assert.throws(() => allocateAddress(st), /no available IPv4 addresses/);
});

test('--ip requests with dockerd errors', () => {
  let st = newSubnetState({ subnet: '172.18.0.0/16' });
  const r = allocateAddress(st, '172.18.0.10');
  assert.equal(r.ip, '172.18.0.10');
  st = r.state;
  assert.throws(() => allocateAddress(st, '172.18.0.10'), { name: 'ConflictError', message: 'Address already in use' });
  assert.throws(() => allocateAddress(st, '172.18.0.1'), { message: 'Address already in use' });
  assert.throws(() => allocateAddress(st, '10.0.0.1'), { name: 'InvalidArgumentError', message: 'requested address is out of range' });
  assert.equal(allocateAddress(st).ip, '172.18.0.2');
  assert.throws(() => checkStaticIP('bridge', true), { message: 'user specified IP address is supported on user defined networks only' });
  assert.throws(() => checkStaticIP('appnet', false), { message: 'user specified IP address is supported only when connecting to networks with user configured subnets' });
  assert.doesNotThrow(() => checkStaticIP('appnet', true));
});
