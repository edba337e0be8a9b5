import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Networks } from './networks.ts';
import { emptyEndpoint } from './create.ts';

const none = { hostname: false, links: false, dns: false, extraHosts: false, ports: false, exposed: false, mac: false };

test('create-time checks of the network mode, in dockerd\'s words', () => {
  const check = (mode: string, o: Partial<typeof none>, eps = {}) => () => Networks.checkCreate(mode, { ...none, ...o }, eps);
  assert.throws(check('container:web', { ports: true }), /^InvalidArgumentError: conflicting options: port publishing and the container type network mode$/);
  assert.throws(check('container:web', { hostname: true }), /conflicting options: hostname and the network mode/);
  assert.throws(check('container:web', { dns: true }), /conflicting options: dns and the network mode/);
  assert.throws(check('container:web', { links: true }), /container type network can't be used with links/);
  assert.throws(check('host', { links: true }), /host type networking can't be used with links/);
  assert.throws(check('default', {}, { bridge: { ...emptyEndpoint(), IPAMConfig: { IPv4Address: '172.17.0.9' } } }), /user specified IP address is supported on user defined networks only/);
  assert.throws(check('bridge', {}, { bridge: { ...emptyEndpoint(), Aliases: ['x'] } }), /network-scoped alias is supported only for containers in user defined networks/);
  assert.doesNotThrow(check('app', { ports: true, links: true, dns: true }, { app: { ...emptyEndpoint(), Aliases: ['x'], IPAMConfig: { IPv4Address: '10.0.0.9' } } }));
  assert.doesNotThrow(check('host', { ports: true }));
});

test('the create request\'s EndpointsConfig lands in NetworkSettings.Networks (default → bridge)', () => {
  const base = { app: emptyEndpoint() };
  const got = Networks.endpointsAtCreate('app', { app: { Aliases: ['www'], IPAMConfig: { IPv4Address: '10.1.0.5' }, Links: null } }, base);
  assert.deepEqual(got.app!.Aliases, ['www']);
  assert.deepEqual(got.app!.IPAMConfig, { IPv4Address: '10.1.0.5' });
  assert.equal(got.app!.Links, null);
  const def = Networks.endpointsAtCreate('default', { default: { Aliases: null } }, { bridge: emptyEndpoint() });
  assert.deepEqual(Object.keys(def), ['bridge']);
  // an endpoint for a network the mode does not name is ignored, as the first network is the mode's
  assert.deepEqual(Object.keys(Networks.endpointsAtCreate('app', { other: {} }, base)), ['app']);
});
