import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePortSpec, parsePublish, publishAll, validatePortBindings, PortAllocator, displayablePorts, portLines } from './ports.ts';

const b = (HostIp: string, HostPort: string) => ({ HostIp, HostPort });

test('-p forms (NET-11)', () => {
  assert.deepEqual(parsePortSpec('80'), [{ port: '80/tcp', binding: b('', '') }]);
  assert.deepEqual(parsePortSpec('81:80'), [{ port: '80/tcp', binding: b('', '81') }]);
  assert.deepEqual(parsePortSpec('10.0.0.100:82:80'), [{ port: '80/tcp', binding: b('10.0.0.100', '82') }]);
  assert.deepEqual(parsePortSpec('10.0.0.100::80'), [{ port: '80/tcp', binding: b('10.0.0.100', '') }]);
  assert.deepEqual(parsePortSpec('10.0.0.100:83:80/udp'), [{ port: '80/udp', binding: b('10.0.0.100', '83') }]);
  assert.deepEqual(parsePortSpec('[::1]:8080:80/TCP'), [{ port: '80/tcp', binding: b('::1', '8080') }]);
  assert.deepEqual(parsePortSpec('8000-8001:80-81'), [{ port: '80/tcp', binding: b('', '8000') }, { port: '81/tcp', binding: b('', '8001') }]);
  assert.deepEqual(parsePortSpec('8000-8010:80'), [{ port: '80/tcp', binding: b('', '8000-8010') }]);
  assert.deepEqual(parsePublish(['8080:80/tcp', '8443:443/tcp', '53:53/udp', '8081:80']), {
    exposed: { '80/tcp': {}, '443/tcp': {}, '53/udp': {} },
    bindings: { '80/tcp': [b('', '8080'), b('', '8081')], '443/tcp': [b('', '8443')], '53/udp': [b('', '53')] },
  });
});

test('-p errors (go-connections texts)', () => {
  assert.throws(() => parsePortSpec('1.2.3:80:80'), { message: 'Invalid ip address: 1.2.3' });
  assert.throws(() => parsePortSpec('a:b:c:80:80'), { message: 'Invalid ip address: a:b:c' });
  assert.deepEqual(parsePortSpec('::1:80:80/udp'), [{ port: '80/udp', binding: b('::1', '80') }]);
  assert.throws(() => parsePortSpec('8080:'), { message: 'No port specified: 8080:<empty>' });
  assert.throws(() => parsePortSpec('8080:abc'), { message: 'Invalid containerPort: abc' });
  assert.throws(() => parsePortSpec('70000:80'), { message: 'Invalid hostPort: 70000' });
  assert.throws(() => parsePortSpec('80-81:90-92'), { message: 'Invalid ranges specified for container and host Ports: 90-92 and 80-81' });
  assert.throws(() => parsePortSpec('80/icmp'), { message: 'Invalid proto: icmp' });
});

test('PortBindings checked as dockerd does (api/errors-400.txt)', () => {
  assert.throws(() => validatePortBindings({ 'eighty/tcp': [b('', '8081')] }), { name: 'InvalidArgumentError', message: 'invalid port specification: "eighty"' });
  assert.throws(() => validatePortBindings({ '80/tcp': [b('', '70000')] }), { message: 'invalid port specification: "70000"' });
  assert.doesNotThrow(() => validatePortBindings({ '80/tcp': [b('', ''), b('127.0.0.1', '8000-8010')], '53/udp': [b('', '53')] }));
});

test('-P publishes exposed ports without a binding', () => {
  assert.deepEqual(publishAll(['80/tcp', '443/tcp'], { '443/tcp': [b('', '8443')] }), { '443/tcp': [b('', '8443')], '80/tcp': [b('', '')] });
});

test('allocator: ephemeral ports in order, conflicts with Docker\'s message, release, JSON state', () => {
  const a = new PortAllocator();
  assert.equal(a.allocate('', 'tcp'), 32768);
  assert.equal(a.allocate('', 'tcp'), 32769);
  assert.equal(a.allocate('', 'udp'), 32768);
  assert.equal(a.allocate('', 'tcp', 8080), 8080);
  assert.throws(() => a.allocate('', 'tcp', 8080), { name: 'ConflictError', message: 'Bind for 0.0.0.0:8080 failed: port is already allocated' });
  assert.throws(() => a.allocate('10.0.0.1', 'tcp', 8080), { message: 'Bind for 10.0.0.1:8080 failed: port is already allocated' });
  assert.equal(a.allocate('', 'udp', 8080), 8080);
  assert.equal(a.allocate('::', 'tcp', 8080), 8080);
  assert.equal(a.allocate('10.0.0.1', 'tcp', 9090), 9090);
  assert.equal(a.allocate('10.0.0.2', 'tcp', 9090), 9090);
  assert.throws(() => a.allocate('0.0.0.0', 'tcp', 9090), { message: 'Bind for 0.0.0.0:9090 failed: port is already allocated' });
  a.release('', 'tcp', 8080);
  assert.equal(a.allocate('', 'tcp', 8080), 8080);
  const b2 = new PortAllocator(JSON.parse(JSON.stringify(a.state)));
  assert.equal(b2.allocate('', 'tcp'), 32770);
  assert.equal(b2.allocate('', 'tcp', 8000, 8001), 8000);
  assert.equal(b2.allocate('', 'tcp', 8000, 8001), 8001);
  assert.throws(() => b2.allocate('', 'tcp', 8000, 8001), /all ports are allocated/);
  assert.equal(new PortAllocator({ used: {}, last: { tcp: 60999 } }).allocate('', 'tcp'), 32768);
});

test('ps PORTS column (NET-15) and docker port lines (NET-14)', () => {
  assert.equal(displayablePorts([
    { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 80, Type: 'tcp' }, { IP: '::', PrivatePort: 80, PublicPort: 80, Type: 'tcp' },
  ]), '0.0.0.0:80->80/tcp, :::80->80/tcp');
  assert.equal(displayablePorts([{ PrivatePort: 80, Type: 'tcp' }]), '80/tcp');
  assert.equal(displayablePorts([]), '');
  assert.equal(displayablePorts([{ IP: '127.0.0.1', PrivatePort: 10514, PublicPort: 1514, Type: 'tcp' }]), '127.0.0.1:1514->10514/tcp');
  assert.equal(displayablePorts([
    { IP: '0.0.0.0', PrivatePort: 8080, PublicPort: 80, Type: 'tcp' }, { IP: '::', PrivatePort: 8080, PublicPort: 80, Type: 'tcp' },
  ]), '0.0.0.0:80->8080/tcp, [::]:80->8080/tcp');
  assert.equal(displayablePorts([
    { IP: '0.0.0.0', PrivatePort: 8001, PublicPort: 8001, Type: 'tcp' }, { IP: '0.0.0.0', PrivatePort: 8000, PublicPort: 8000, Type: 'tcp' },
    { PrivatePort: 443, Type: 'tcp' }, { PrivatePort: 53, Type: 'udp' },
  ]), '53/udp, 443/tcp, 0.0.0.0:8000-8001->8000-8001/tcp');
  assert.deepEqual(portLines({ '80/tcp': [b('0.0.0.0', '32769'), b('::', '32769')], '53/udp': [b('', '53')] }), [
    '53/udp -> 0.0.0.0:53', '80/tcp -> 0.0.0.0:32769', '80/tcp -> [::]:32769',
  ]);
  assert.deepEqual(portLines({ '80/tcp': [b('0.0.0.0', '8080')], '53/udp': [b('', '53')] }, '80'), ['80/tcp -> 0.0.0.0:8080']);
});
