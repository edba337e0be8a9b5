/** The docker CLI's client-side pieces of `network`: IPAM consolidation, natural name order, times, CSV flags. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consolidateIpam, csvList, goTime, naturalLess, networkContext, networkHeaders } from './commands/network.ts';
import { formatRows } from './formatter.ts';
import type { NetworkResource } from '../api/types/index.ts';

test('consolidateIpam: one config per subnet, in order; docker\'s messages', () => {
  assert.deepEqual(consolidateIpam(['10.2.0.0/16', '10.3.0.0/16'], ['10.3.1.0/24'], ['10.3.0.1', '10.2.0.1'], { a: '10.2.0.5' }), [
    { Subnet: '10.2.0.0/16', Gateway: '10.2.0.1', AuxiliaryAddresses: { a: '10.2.0.5' } },
    { Subnet: '10.3.0.0/16', IPRange: '10.3.1.0/24', Gateway: '10.3.0.1' },
  ]);
  assert.deepEqual(consolidateIpam([], [], [], {}), []);
  assert.deepEqual(consolidateIpam(['fd00::/64'], ['fd00::/80'], ['fd00::1'], {}), [{ Subnet: 'fd00::/64', IPRange: 'fd00::/80', Gateway: 'fd00::1' }]);
  const err = (f: () => unknown): string => { try { f(); return ''; } catch (e) { return (e as Error).message; } };
  assert.equal(err(() => consolidateIpam([], [], ['10.1.0.1'], {})), 'every ip-range or gateway must have a corresponding subnet');
  assert.equal(err(() => consolidateIpam(['10.5.0.0/16'], [], ['10.6.0.1'], {})), 'no matching subnet for gateway 10.6.0.1');
  assert.equal(err(() => consolidateIpam(['10.5.0.0/16'], ['bad'], [], {})), 'no matching subnet for range bad');
  assert.equal(err(() => consolidateIpam(['10.5.0.0/16'], ['x/y'], [], {})), 'invalid CIDR address: x/y');
  assert.equal(err(() => consolidateIpam(['10.5.0.0/16'], [], [], { n: '' })), 'no matching subnet for aux-address ');
  assert.equal(err(() => consolidateIpam(['10.13.0.0/16', '10.13.1.0/24'], [], [], {})), 'multiple overlapping subnet configuration is not supported');
  assert.equal(err(() => consolidateIpam(['10.13.0.0/16', 'bad'], [], [], {})), 'invalid subnet: invalid CIDR address: bad');
  assert.equal(err(() => consolidateIpam(['10.13.0.0/16', '10.14.0.0/16'], [], ['10.13.0.1', '10.13.0.2'], {})),
    'cannot configure multiple gateways (10.13.0.2, 10.13.0.1) for the same subnet (10.13.0.0/16)');
  assert.equal(err(() => consolidateIpam(['10.13.0.0/16', '10.14.0.0/16'], ['10.13.1.0/24', '10.13.2.0/24'], [], {})),
    'cannot configure multiple ranges (10.13.2.0/24, 10.13.1.0/24) on the same subnet (10.13.0.0/16)');
});

test('network ls order: sortorder.NaturalLess', () => {
  const names = ['net10', 'bridge', 'net9', 'net09', 'Net1', 'host', 'net', 'n1a', 'none'];
  assert.deepEqual(names.sort((a, b) => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0)), ['Net1', 'bridge', 'host', 'n1a', 'net', 'net9', 'net09', 'net10', 'none']);
});

test('time.Time.String of the Created time, and the ls table', () => {
  assert.equal(goTime('2026-11-23T14:17:34.09313084Z'), '2026-11-23 14:17:34.09313084 +0000 UTC');
  assert.equal(goTime('2026-11-23T14:17:34Z'), '2026-11-23 14:17:34 +0000 UTC');
  assert.equal(goTime('2026-11-23T14:17:34.500Z'), '2026-11-23 14:17:34.5 +0000 UTC');
  const n = { Name: 'appnet', Id: '4807cd500eca36f0741bfbfe85f1d51928d9262a896295f4096fbbae476bc206', Created: '2026-11-23T14:17:33.788640528Z', Scope: 'local', Driver: 'bridge', EnableIPv6: false,
    Internal: false, Labels: { b: '', team: 'x' } } as unknown as NetworkResource;
  assert.equal(formatRows('table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}', [networkContext(n, true)], networkHeaders), 'NETWORK ID     NAME      DRIVER    SCOPE\n4807cd500eca   appnet    bridge    local\n');
  assert.equal(formatRows('{{json .}}', [networkContext(n, true)], {}),
    '{"CreatedAt":"2026-11-23 14:17:33.788640528 +0000 UTC","Driver":"bridge","ID":"4807cd500eca","IPv6":"false","Internal":"false","Labels":"b=,team=x","Name":"appnet","Scope":"local"}\n');
});

test('StringSlice flags split on commas (CSV quoting)', () => {
  assert.deepEqual(csvList({ alias: ['a1', 'a2,a3', '"x,y",z'] }, 'alias'), ['a1', 'a2', 'a3', 'x,y', 'z']);
});
