/** Converters and parsers against Docker's recorded JSON (key order and shape) and Go's texts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { containerInspect, containerSummary, statusString, commandString } from './compat/container.ts';
import { imageInspect, imageSummary, sharedSizes } from './compat/image.ts';
import { infoResponse, versionResponse } from './compat/system.ts';
import { goJsonError } from '../../lib/index.ts';
import { applyChanges } from './changes.ts';
import { globRegex } from './routes/images.ts';
import { ts9 } from './routes/containers.ts';
import { FakeBackend, busyboxImage } from './fake-backend.test.ts';

const REF = resolve(import.meta.dirname, '../../../../shared/reference/docker-20.10/api');
const haveRef = existsSync(REF);

/** The n-th `raw body` JSON of a reference capture. */
function refJson(file: string, n = 0): unknown {
  const lines = readFileSync(`${REF}/${file}`, 'utf8').split('\n');
  const bodies = lines.flatMap((l, i) => (l.startsWith('raw body') ? [lines[i + 1]!] : []));
  return JSON.parse(bodies[n]!) as unknown;
}

/** Key paths in order: objects list their keys, arrays their first element's. */
function shape(v: unknown, skip: Set<string> = new Set(), p = ''): string[] {
  if (Array.isArray(v)) return v.length ? shape(v[0], skip, `${p}[]`) : [];
  if (v && typeof v === 'object') {
    return Object.entries(v).flatMap(([k, x]) => {
      const q = `${p}.${k}`;
      return skip.has(q) ? [q] : [q, ...shape(x, skip, q)];
    });
  }
  return [];
}

test('container inspect has Docker\'s keys in Docker\'s order (created container)', { skip: !haveRef }, async () => {
  const b = new FakeBackend();
  const { id } = await b.createContainer({ name: 'created', config: { Image: 'busybox:1.35', Cmd: ['echo', 'hi'] }, hostConfig: {} });
  const mine = containerInspect(await b.inspectContainer(id, false), false);
  const ref = refJson('containers-inspect-created.txt');
  const skip = new Set(['.NetworkSettings.Networks', '.HostConfig.LogConfig.Config']);
  // The fake has no network endpoint yet; compare the rest exactly.
  assert.deepEqual(shape(mine, skip), shape(ref, skip));
  const sized = containerInspect(await b.inspectContainer(id, true), true);
  const keys = Object.keys(sized);
  assert.deepEqual(keys.slice(keys.indexOf('GraphDriver'), keys.indexOf('GraphDriver') + 4), ['GraphDriver', 'SizeRw', 'SizeRootFs', 'Mounts']);
});

test('ps summary, image summary and image inspect follow Docker\'s shapes', { skip: !haveRef }, async () => {
  const b = new FakeBackend();
  const { id } = await b.createContainer({ name: 'x', config: { Image: 'busybox:1.35', Cmd: ['sleep', '1'] }, hostConfig: {} });
  const v = await b.inspectContainer(id, false);
  v.container.NetworkSettings.Networks = { bridge: { IPAMConfig: null, Links: null, Aliases: null, NetworkID: 'n', EndpointID: 'e', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null } };
  const refList = refJson('containers-list.txt') as { Ports: unknown[]; Mounts: unknown[]; NetworkSettings: { Networks: object } }[];
  assert.deepEqual(shape(containerSummary(v)), shape(refList.find((c) => !c.Ports.length && !c.Mounts.length && 'bridge' in c.NetworkSettings.Networks)));
  const refImages = refJson('images-list.txt') as unknown[];
  assert.deepEqual(shape(imageSummary(busyboxImage())), shape(refImages[0]));
  assert.deepEqual(imageSummary(busyboxImage()), refImages[0]);
  const refInspect = refJson('images-inspect.txt', 1) as Record<string, unknown>;
  const mine = imageInspect(busyboxImage(), { MergedDir: '/m', UpperDir: '/u', WorkDir: '/w' });
  assert.deepEqual(shape(mine), shape(refInspect));
  assert.deepEqual(mine.Config, refInspect.Config);
  assert.deepEqual(mine.ContainerConfig, refInspect.ContainerConfig);
});

test('info and version have every key Docker sends', { skip: !haveRef }, async () => {
  const i = await new FakeBackend().info();
  const skip = new Set(['.RegistryConfig.IndexConfigs', '.Runtimes']);
  assert.deepEqual(shape(infoResponse(i, 0), skip), shape(refJson('info.txt'), skip));
  const mine = versionResponse(i, '1.41', '1.12');
  assert.deepEqual(shape(mine), shape({ ...(refJson('version.txt') as object), Components: [(refJson('version.txt') as { Components: unknown[] }).Components[0]] }));
});

test('status strings and ps Command quoting', () => {
  const now = Date.parse('2026-11-23T14:20:00Z');
  const state = (s: object) => ({ State: { Running: false, Paused: false, Restarting: false, RemovalInProgress: false, Dead: false, ExitCode: 0, StartedAt: '0001-01-01T00:00:00Z', FinishedAt: '0001-01-01T00:00:00Z', Health: null, ...s } }) as never;
  assert.equal(statusString(state({}), now), 'Created');
  assert.equal(statusString(state({ Running: true, StartedAt: '2026-11-23T14:19:57.123456789Z' }), now), 'Up 2 seconds');
  assert.equal(statusString(state({ Running: true, Paused: true, StartedAt: '2026-11-23T14:18:00Z' }), now), 'Up 2 minutes (Paused)');
  assert.equal(statusString(state({ ExitCode: 3, StartedAt: '2026-11-23T14:10:00Z', FinishedAt: '2026-11-23T14:19:55Z' }), now), 'Exited (3) 5 seconds ago');
  assert.equal(commandString('nginx', ['-g', 'daemon off;']), "nginx -g 'daemon off;'");
  assert.equal(commandString('sleep', []), 'sleep');
  assert.equal(ts9('2026-11-23T14:14:52.85766795Z'), '2026-11-23T14:14:52.857667950Z');
  assert.equal(ts9('2026-11-23T14:14:52Z'), '2026-11-23T14:14:52.000000000Z');
});

test('Go json syntax errors', () => {
  assert.equal(goJsonError('{"Image":', true), 'unexpected EOF');
  assert.equal(goJsonError('', true), 'EOF');
  assert.equal(goJsonError('notjson', false), "invalid character 'o' in literal null (expecting 'u')");
  assert.equal(goJsonError('{"a" 1}', false), "invalid character '1' after object key");
  assert.equal(goJsonError('[1 2]', false), "invalid character '2' after array element");
  assert.equal(goJsonError('x', false), "invalid character 'x' looking for beginning of value");
  assert.equal(goJsonError('{"a":', false), 'unexpected end of JSON input');
});

test('import changes: Dockerfile instructions → partial config', () => {
  assert.deepEqual(applyChanges(['CMD ["/hello.txt"]']), { Cmd: ['/hello.txt'] });
  assert.deepEqual(applyChanges(['ENTRYPOINT echo hi', 'ENV A=1 B="x y"', 'ENV C 3', 'EXPOSE 80 53/udp', 'WORKDIR /w', 'USER nobody', 'LABEL a=b "c d"=e', 'VOLUME ["/data"]', 'STOPSIGNAL SIGQUIT']), {
    Entrypoint: ['/bin/sh', '-c', 'echo hi'], Env: ['A=1', 'B=x y', 'C=3'], ExposedPorts: { '80/tcp': {}, '53/udp': {} }, WorkingDir: '/w',
    User: 'nobody', Labels: { a: 'b', 'c d': 'e' }, Volumes: { '/data': {} }, StopSignal: 'SIGQUIT',
  });
  assert.throws(() => applyChanges(['RUN true']), /run is not a valid change command/);
});

test('reference filter uses Go path.Match globs', () => {
  assert.ok(globRegex('busybox').test('busybox'));
  assert.ok(globRegex('busy*').test('busybox'));
  assert.ok(!globRegex('*').test('my/repo'));
  assert.ok(globRegex('my/*').test('my/repo'));
  assert.ok(globRegex('b?sybox:1.3[0-9]').test('busybox:1.35'));
});

test('shared sizes: a base image is shared whole, the derived one shares the base', () => {
  const base = busyboxImage();
  const derived = { ...busyboxImage(), id: 'sha256:d', size: 3000000, config: { ...base.config, rootfs: { type: 'layers' as const, diff_ids: [...base.config.rootfs.diff_ids, 'sha256:x'] } } };
  const m = sharedSizes([base, derived]);
  assert.equal(m.get(base.id), base.size);
  assert.equal(m.get('sha256:d'), base.size);
});
