import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanSizeWithPrecision } from '../lib/index.ts';
import { displayablePorts, ellipsis, imageRows, containerContext, formatRows, containerHeaders, goTimeString } from './formatter.ts';
import type { ContainerSummary, ImageSummary } from '../client/index.ts';

test('PORTS as docker 20.10 shows them', () => {
  assert.equal(displayablePorts([
    { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
    { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
  ]), '0.0.0.0:8080->80/tcp, :::8080->80/tcp');
  assert.equal(displayablePorts([{ PrivatePort: 80, Type: 'tcp' }, { PrivatePort: 81, Type: 'tcp' }, { PrivatePort: 53, Type: 'udp' }]), '53/udp, 80-81/tcp');
  // NET-15: exposed only, nothing, a host address, another host port
  assert.equal(displayablePorts([{ PrivatePort: 80, Type: 'tcp' }]), '80/tcp');
  assert.equal(displayablePorts([]), '');
  assert.equal(displayablePorts([{ IP: '127.0.0.1', PrivatePort: 10514, PublicPort: 1514, Type: 'tcp' }]), '127.0.0.1:1514->10514/tcp');
  assert.equal(displayablePorts([{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 80, Type: 'tcp' }, { IP: '::', PrivatePort: 80, PublicPort: 80, Type: 'tcp' }]),
    '0.0.0.0:80->80/tcp, :::80->80/tcp');
  assert.equal(displayablePorts([{ IP: '0.0.0.0', PrivatePort: 7000, PublicPort: 7000, Type: 'tcp' }, { IP: '0.0.0.0', PrivatePort: 7001, PublicPort: 7001, Type: 'tcp' }]),
    '0.0.0.0:7000-7001->7000-7001/tcp');
  // captured from docker 20.10 (`--expose 80 --expose 81 --expose 90 --expose 85/udp`, and `-p 9001:1 … -p 127.0.0.1:9004:4`):
  // a group that breaks keeps its key's place, and mappings to another host port come last
  assert.equal(displayablePorts([{ PrivatePort: 90, Type: 'tcp' }, { PrivatePort: 85, Type: 'udp' }, { PrivatePort: 81, Type: 'tcp' }, { PrivatePort: 80, Type: 'tcp' }]),
    '80-81/tcp, 90/tcp, 85/udp');
  assert.equal(displayablePorts([
    { IP: '0.0.0.0', PrivatePort: 2, PublicPort: 9002, Type: 'tcp' }, { IP: '0.0.0.0', PrivatePort: 1, PublicPort: 9001, Type: 'tcp' },
    { IP: '127.0.0.1', PrivatePort: 4, PublicPort: 9004, Type: 'tcp' }, { IP: '0.0.0.0', PrivatePort: 3, PublicPort: 9003, Type: 'udp' },
  ]), '0.0.0.0:9001->1/tcp, 0.0.0.0:9002->2/tcp, 0.0.0.0:9003->3/udp, 127.0.0.1:9004->4/tcp');
});

test('ellipsis, sizes, times', () => {
  assert.equal(ellipsis("sh -c 'i=0; while :; do i=$((i+1))", 20), "sh -c 'i=0; while :…");
  assert.equal(ellipsis('sleep 100000', 20), 'sleep 100000');
  assert.equal(humanSizeWithPrecision(1985590, 3), '1.99MB');
  assert.equal(humanSizeWithPrecision(88511618, 3), '88.5MB');
  assert.equal(humanSizeWithPrecision(0, 3), '0B');
  assert.equal(humanSizeWithPrecision(19, 3), '19B');
  assert.equal(goTimeString(1795443522), '2026-11-23 14:18:42 +0000 UTC');
});

test('image rows: one per tag, <none> for dangling', () => {
  const img = (tags: string[] | null, digests: string[] | null): ImageSummary => ({ Id: 'sha256:0dcfc6fe9a7500e1890a91bb2ebbf9d6ba7ccce571029f6aefcfe633b6a89a09', ParentId: '', RepoTags: tags, RepoDigests: digests, Created: 0, Size: 1, VirtualSize: 1, SharedSize: -1, Labels: null, Containers: -1 });
  assert.deepEqual(imageRows([img(['busybox:1.35', 'busybox:latest'], [])], false).map((r) => `${r.repo}:${r.tag}`), ['busybox:1.35', 'busybox:latest']);
  assert.deepEqual(imageRows([img([], [])], false).map((r) => `${r.repo}:${r.tag}`), ['<none>:<none>']);
  assert.deepEqual(imageRows([img(['localhost:5000/a/b:v1'], ['localhost:5000/a/b@sha256:abc'])], true).map((r) => `${r.repo} ${r.tag} ${r.digest}`), ['localhost:5000/a/b v1 sha256:abc']);
});

test('ps table with docker headers and column layout', () => {
  const c: ContainerSummary = {
    Id: '4c094566da265d792e3ff9d27096dee222053f715fe15f82efb8a7176f0a00b0', Names: ['/web', '/linked/webalias'], Image: 'nginx:bookworm', ImageID: 'sha256:871b',
    Command: "nginx -g 'daemon off;'", Created: Math.floor(Date.now() / 1000) - 400, Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }],
    Labels: {}, State: 'running', Status: 'Up 6 minutes', Mounts: [], HostConfig: { NetworkMode: 'default' }, NetworkSettings: { Networks: {} },
  };
  const out = formatRows('table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}', [containerContext(c, true)], containerHeaders);
  assert.equal(out,
    'CONTAINER ID   IMAGE            COMMAND                  CREATED         STATUS         PORTS                  NAMES\n' +
    '4c094566da26   nginx:bookworm   "nginx -g \'daemon of…"   6 minutes ago   Up 6 minutes   0.0.0.0:8080->80/tcp   web\n');
  assert.equal(formatRows('{{.Names}}', [containerContext(c, false)], containerHeaders), 'web,linked/webalias\n');
});
