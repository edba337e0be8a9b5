/** The /networks routes over a unix socket against the in-memory backend: Docker 20.10's shapes, statuses and errors. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiServer, type ApiServer } from '../index.ts';
import { FakeBackend } from '../fake-backend.test.ts';

let dir = '';
let sock = '';
let server: ApiServer;
let backend: FakeBackend;

interface Res { status: number; headers: Record<string, string | string[] | undefined>; body: string }
function call(method: string, path: string, body?: string, contentType = 'application/json'): Promise<Res> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = body !== undefined ? { 'Content-Type': contentType } : {};
    const req = request({ socketPath: sock, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const err = (message: string): string => `${JSON.stringify({ message })}\n`;
const filters = (f: Record<string, string[]>): string => encodeURIComponent(JSON.stringify(f));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-net-api-'));
  sock = join(dir, 'api.sock');
  backend = new FakeBackend();
  server = createApiServer(backend, { version: '0.1.0' });
  await server.listen(`unix://${sock}`);
  await backend.createContainer({ name: 'web', config: { Image: 'busybox:1.35', Cmd: ['sleep', '100'] }, hostConfig: {} });
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('GET /networks: Docker key order, {} for Containers, Options/Labels sorted, IPAM.Options null kept', async () => {
  const r = await call('GET', '/v1.41/networks?filters=' + filters({ name: ['bridge'] }));
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.body, `[{"Name":"bridge","Id":"${'3'.repeat(64)}","Created":"2026-11-23T14:12:27.23680528Z","Scope":"local","Driver":"bridge","EnableIPv6":false,`
    + '"IPAM":{"Driver":"default","Options":null,"Config":[{"Subnet":"172.17.0.0/16"}]},"Internal":false,"Attachable":false,"Ingress":false,'
    + '"ConfigFrom":{"Network":""},"ConfigOnly":false,"Containers":{},'
    + '"Options":{"com.docker.network.bridge.default_bridge":"true","com.docker.network.bridge.name":"berth0"},"Labels":{}}]\n');
  const all = JSON.parse((await call('GET', '/networks')).body) as { Name: string }[];
  assert.deepEqual(all.map((n) => n.Name), ['none', 'host', 'bridge']);
});

test('GET /networks filters: unknown key, bad type and dangling values, bad JSON', async () => {
  assert.deepEqual(await call('GET', `/networks?filters=${filters({ bogus: ['x'] })}`).then((r) => [r.status, r.body]), [400, err("Invalid filter 'bogus'")]);
  assert.deepEqual(await call('GET', `/networks?filters=${filters({ type: ['x'] })}`).then((r) => [r.status, r.body]), [400, err("invalid filter: 'type'='x'")]);
  assert.deepEqual(await call('GET', `/networks?filters=${filters({ dangling: ['yes'] })}`).then((r) => [r.status, r.body]),
    [400, err('invalid value for filter \'dangling\', must be "true" (or "1"), or "false" (or "0")')]);
  assert.deepEqual(await call('GET', '/networks?filters=%7Bbad').then((r) => [r.status, r.body]), [400, err("invalid character 'b' looking for beginning of object key string")]);
  assert.equal((await call('GET', `/networks?filters=${filters({ type: ['custom'], dangling: ['1'] })}`)).status, 200);
});

test('POST /networks/create: 201 {Id, Warning}; the request reaches the engine decoded', async () => {
  const body = '{"CheckDuplicate":true,"Driver":"bridge","Scope":"","EnableIPv6":false,"IPAM":{"Driver":"default","Options":{},"Config":[]},"Internal":false,'
    + '"Attachable":false,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,"Options":{},"Labels":{"b":"2","a":"1"},"Name":"appnet"}';
  const r = await call('POST', '/v1.41/networks/create', body);
  assert.equal(r.status, 201);
  assert.match(r.body, /^\{"Id":"[0-9a-f]{64}","Warning":""\}\n$/);
  assert.equal(backend.calls.at(-1), 'createNetwork {"Name":"appnet","CheckDuplicate":true,"Driver":"bridge","Internal":false,"Attachable":false,"EnableIPv6":false,'
    + '"IPAM":{"Driver":"default","Options":{},"Config":[]},"Options":{},"Labels":{"b":"2","a":"1"}}');
  // field names match case-insensitively, as encoding/json does
  const lower = await call('POST', '/networks/create', '{"name":"lower","driver":"bridge","labels":{"x":"y"}}');
  assert.equal(lower.status, 201);
  const dup = await call('POST', '/networks/create', '{"Name":"appnet","CheckDuplicate":true}');
  assert.deepEqual([dup.status, dup.body], [409, err('network with name appnet already exists')]);

  const inspect = JSON.parse((await call('GET', '/networks/appnet')).body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(inspect), ['Name', 'Id', 'Created', 'Scope', 'Driver', 'EnableIPv6', 'IPAM', 'Internal', 'Attachable', 'Ingress', 'ConfigFrom', 'ConfigOnly', 'Containers', 'Options', 'Labels']);
  assert.deepEqual(inspect.Labels, { a: '1', b: '2' });
  assert.deepEqual(Object.keys(inspect.Labels as object), ['a', 'b']);
  assert.deepEqual(inspect.IPAM, { Driver: 'default', Options: {}, Config: [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }] });
});

test('POST /networks/create: body errors in dockerd\'s words', async () => {
  const cases: [string | undefined, number, string][] = [
    [undefined, 400, 'got EOF while reading request body'],
    ['{bad', 400, "invalid character 'b' looking for beginning of object key string"],
    ['{"Name":"x"', 400, 'unexpected EOF'],
    ['[]', 400, 'json: cannot unmarshal array into Go value of type types.NetworkCreateRequest'],
    ['"s"', 400, 'json: cannot unmarshal string into Go value of type types.NetworkCreateRequest'],
    ['{"Name":5}', 400, 'json: cannot unmarshal number into Go struct field NetworkCreateRequest.Name of type string'],
    ['{"Name":"y","Internal":"yes"}', 400, 'json: cannot unmarshal string into Go struct field NetworkCreateRequest.Internal of type bool'],
    ['{"Name":"y","IPAM":5}', 400, 'json: cannot unmarshal number into Go struct field NetworkCreateRequest.IPAM of type network.IPAM'],
    ['{"Name":"y","Labels":{"a":1}}', 400, 'json: cannot unmarshal number into Go struct field NetworkCreateRequest.Labels of type string'],
    ['{"Name":"y","Labels":[]}', 400, 'json: cannot unmarshal array into Go struct field NetworkCreateRequest.Labels of type map[string]string'],
    ['{"Name":"y","IPAM":{"Config":[{"Subnet":5}]}}', 400, 'json: cannot unmarshal number into Go struct field IPAMConfig.IPAM.Config.Subnet of type string'],
    ['{"Name":"y","IPAM":{"Config":[5]}}', 400, 'json: cannot unmarshal number into Go struct field IPAM.IPAM.Config of type network.IPAMConfig'],
    ['{"Name":"y","IPAM":{"Config":{}}}', 400, 'json: cannot unmarshal object into Go struct field IPAM.IPAM.Config of type []network.IPAMConfig'],
    ['{"Name":"y","IPAM":{"Config":[{"AuxiliaryAddresses":{"a":true}}]}}', 400, 'json: cannot unmarshal bool into Go struct field IPAMConfig.IPAM.Config.AuxiliaryAddresses of type string'],
    ['{"Name":"y","ConfigFrom":"x"}', 400, 'json: cannot unmarshal string into Go struct field NetworkCreateRequest.ConfigFrom of type network.ConfigReference'],
    // dockerd: 500 for these two (client mistakes: berth answers 400)
    ['{"Driver":"bridge"}', 400, 'invalid name: '],
    ['null', 400, 'invalid name: '],
    ['{"Name":"host"}', 403, 'operation is not permitted on predefined host network '],
    ['{"Name":"s","Scope":"swarm"}', 403, 'cannot create a swarm scoped network when swarm is not active'],
    ['{"Name":"s","Ingress":true}', 403, 'Ingress network can only be global scope network'],
  ];
  for (const [body, status, message] of cases) {
    const r = await call('POST', '/v1.41/networks/create', body);
    assert.deepEqual([r.status, r.body], [status, err(message)], `body ${body}`);
  }
  const ct = await call('POST', '/networks/create', '{"Name":"x"}', 'text/plain');
  assert.deepEqual([ct.status, ct.body], [400, err("Content-Type specified (text/plain) must be 'application/json'")]);
});

test('GET /networks/{id}: by name, id, prefix; verbose and scope; 404', async () => {
  const byName = await call('GET', '/networks/host?verbose=true&scope=local');
  assert.equal(byName.status, 200);
  assert.equal((JSON.parse(byName.body) as { Id: string }).Id, '2'.repeat(64));
  assert.equal((await call('GET', `/networks/${'2'.repeat(64)}`)).status, 200);
  assert.equal((await call('GET', '/networks/22222')).status, 200);
  assert.deepEqual(await call('GET', '/networks/host?scope=global').then((r) => [r.status, r.body]), [404, err('network host not found')]);
  assert.deepEqual(await call('GET', '/networks/nosuchnet').then((r) => [r.status, r.body]), [404, err('network nosuchnet not found')]);
  assert.deepEqual(await call('GET', '/networks/host?verbose=bogus').then((r) => [r.status, r.body]),
    [400, err('invalid value for verbose: bogus: strconv.ParseBool: parsing "bogus": invalid syntax')]);
});

test('connect / disconnect: 200 without a body; Containers in inspect, not in the list (API ≥ 1.28)', async () => {
  await call('POST', '/networks/create', '{"Name":"connnet"}');
  const c = await call('POST', '/v1.41/networks/connnet/connect', '{"Container":"web","EndpointConfig":{"Aliases":["frontend"],"IPAMConfig":{"IPv4Address":"172.18.0.9"}}}');
  assert.deepEqual([c.status, c.body, c.headers['content-length'], c.headers['content-type']], [200, '', '0', undefined]);
  assert.match(backend.calls.at(-1)!, /^connectNetwork connnet web \{"IPAMConfig":\{"IPv4Address":"172\.18\.0\.9"\},"Aliases":\["frontend"\]\}$/);
  const id = [...backend.containers.keys()][0]!;
  const inspect = JSON.parse((await call('GET', '/networks/connnet')).body) as { Containers: Record<string, unknown> };
  assert.deepEqual(inspect.Containers, { [id]: { Name: 'web', EndpointID: 'e'.repeat(64), MacAddress: '02:42:ac:12:00:02', IPv4Address: '172.18.0.2/16', IPv6Address: '' } });
  const listed = JSON.parse((await call('GET', `/v1.41/networks?filters=${filters({ name: ['connnet'] })}`)).body) as { Containers: object }[];
  assert.deepEqual(listed[0]!.Containers, {});
  const old = JSON.parse((await call('GET', `/v1.24/networks?filters=${filters({ name: ['connnet'] })}`)).body) as { Containers: object }[];
  assert.deepEqual(Object.keys(old[0]!.Containers), [id]);

  const again = await call('POST', '/networks/connnet/connect', '{"Container":"web"}');
  assert.deepEqual([again.status, again.body], [403, err('endpoint with name web already exists in network connnet')]);
  const rm = await call('DELETE', '/networks/connnet');
  assert.equal(rm.status, 403);

  const d = await call('POST', '/networks/connnet/disconnect', '{"Container":"web","Force":false}');
  assert.deepEqual([d.status, d.body, d.headers['content-length']], [200, '', '0']);
  assert.equal(backend.calls.at(-1), 'disconnectNetwork connnet web false');

  const bad: [string, string, string | undefined, string][] = [
    ['connect', 'connnet', undefined, 'got EOF while reading request body'],
    ['connect', 'connnet', '{}', 'invalid name or ID supplied: ""'],
    ['connect', 'nosuchnet', '{}', 'invalid name or ID supplied: ""'],
    ['connect', 'connnet', '{"Container":5}', 'json: cannot unmarshal number into Go struct field NetworkConnect.Container of type string'],
    ['connect', 'connnet', '{"Container":"a","EndpointConfig":5}', 'json: cannot unmarshal number into Go struct field NetworkConnect.EndpointConfig of type network.EndpointSettings'],
    ['connect', 'connnet', '{"Container":"a","EndpointConfig":{"Aliases":"x"}}', 'json: cannot unmarshal string into Go struct field EndpointSettings.EndpointConfig.Aliases of type []string'],
    ['connect', 'connnet', '{"Container":"a","EndpointConfig":{"Aliases":[1]}}', 'json: cannot unmarshal number into Go struct field EndpointSettings.EndpointConfig.Aliases of type string'],
    ['connect', 'connnet', '{"Container":"a","EndpointConfig":{"IPPrefixLen":1.5}}', 'json: cannot unmarshal number 1.5 into Go struct field EndpointSettings.EndpointConfig.IPPrefixLen of type int'],
    ['connect', 'connnet', '{"Container":"a","EndpointConfig":{"IPAMConfig":{"IPv4Address":1}}}',
      'json: cannot unmarshal number into Go struct field EndpointIPAMConfig.EndpointConfig.IPAMConfig.IPv4Address of type string'],
    ['disconnect', 'connnet', undefined, 'got EOF while reading request body'],
    ['disconnect', 'connnet', '{}', 'invalid name or ID supplied: ""'],
    ['disconnect', 'connnet', '{"Container":"a","Force":"x"}', 'json: cannot unmarshal string into Go struct field NetworkDisconnect.Force of type bool'],
  ];
  for (const [what, net, body, message] of bad) {
    const r = await call('POST', `/networks/${net}/${what}`, body);
    assert.deepEqual([r.status, r.body], [400, err(message)], `${what} ${body}`);
  }
});

test('DELETE /networks/{id} → 204; prune → names, or null when none; prune filters', async () => {
  await call('POST', '/networks/create', '{"Name":"gone"}');
  const r = await call('DELETE', '/networks/gone');
  assert.deepEqual([r.status, r.body], [204, '']);
  assert.deepEqual(await call('DELETE', '/networks/gone').then((x) => [x.status, x.body]), [404, err('network gone not found')]);
  assert.deepEqual(await call('DELETE', '/networks/bridge').then((x) => [x.status, x.body]), [403, err('bridge is a pre-defined network and cannot be removed')]);
  assert.deepEqual(await call('POST', `/networks/prune?filters=${filters({ bogus: ['1'] })}`).then((x) => [x.status, x.body]), [400, err("Invalid filter 'bogus'")]);
  await call('POST', '/networks/create', '{"Name":"p1"}');
  const p = await call('POST', '/networks/prune');
  assert.equal(p.status, 200);
  assert.ok((JSON.parse(p.body) as { NetworksDeleted: string[] }).NetworksDeleted.includes('p1'));
  assert.equal((await call('POST', `/networks/prune?filters=${filters({ label: ['x'] })}`)).body, '{"NetworksDeleted":null}\n');
});

/** A CLI against this server (async: the server runs in this process). */
function cli(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DOCKER_HOST: `unix://${sock}`, HOME: dir, DOCKER_CONFIG: join(dir, 'cfg') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => resolve({ stdout, stderr, code: code ?? -1 }));
  });
}
const DOCKER20 = '/usr/bin/docker';
const BERTH = join(import.meta.dirname, '../../../cmd/cli.ts');

test('the docker 20.10 CLI and berth\'s print the same for these answers', { skip: existsSync(DOCKER20) ? false : 'needs the docker 20.10 CLI' }, async () => {
  await call('POST', '/networks/create', '{"Name":"clinet","Labels":{"team":"x"},"IPAM":{"Config":[{"Subnet":"10.99.0.0/24","Gateway":"10.99.0.1"}]}}');
  for (const args of [
    ['network', 'ls'], ['network', 'ls', '--no-trunc', '--format', '{{json .}}'], ['network', 'inspect', 'clinet', 'bridge'],
    ['network', 'inspect', '-f', '{{.IPAM.Config}} {{.Labels}} {{.Id}}', 'clinet', 'nosuch'], ['network', 'create', 'clinet'], ['network', 'rm', 'bridge', 'nosuch'],
    ['network', 'connect', 'clinet', 'nosuch'], ['network', 'disconnect', 'clinet', 'web'],
  ]) {
    const [d, b] = await Promise.all([cli(DOCKER20, args), cli(process.execPath, [BERTH, ...args])]);
    assert.deepEqual(b, { ...d, stderr: d.stderr.replace(/\bdocker(?= )/g, 'berth') }, args.join(' '));
  }
  const created = await cli(process.execPath, [BERTH, 'network', 'create', '--subnet', '10.98.0.0/24', '--label', 'l=1', 'fromcli']);
  assert.match(created.stdout, /^[0-9a-f]{64}\n$/);
  assert.match(backend.calls.at(-1)!, /^createNetwork \{"Name":"fromcli","CheckDuplicate":true,"Driver":"bridge","Internal":false,"Attachable":false,"EnableIPv6":false,"IPAM":\{"Driver":"default","Options":\{\},"Config":\[\{"Subnet":"10\.98\.0\.0\/24"\}\]\},"Options":\{\},"Labels":\{"l":"1"\}\}$/);
  assert.deepEqual(await cli(process.execPath, [BERTH, 'network', 'prune', '-f']), { stdout: 'Deleted Networks:\nclinet\nfromcli\n\n', stderr: '', code: 0 });
});
