import { test } from 'node:test';
import assert from 'node:assert/strict';
import { publishAll, PortAllocator } from './ports.ts';

const b = (HostIp: string, HostPort: string) => ({ HostIp, HostPort });

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
