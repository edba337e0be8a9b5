/**
 * Acceptance 3 (issue 4): docker cp round-trips a directory tree with symlinks and modes, single files both
 * ways, from a stopped container; docker diff; the archive API (stat header, errors) and a hostile tar that
 * must write nothing outside the container's rootfs. Real docker CLIs (28.2 and 20.10) and berth's.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, chmodSync, readdirSync, lstatSync, readlinkSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, integrationSkip, type Daemon } from '../helpers/daemon.ts';
import { encodeHeader, type TarHead } from '../../src/lib/index.ts';

function api(d: Daemon, method: string, path: string, body?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: d.socket, method, path: `/v1.41${path}`, headers: body ? { 'Content-Type': 'application/x-tar', 'Content-Length': body.length } : {} }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function entry(name: string, type: TarHead['type'], data = '', linkname = ''): Buffer {
  const body = Buffer.from(data);
  const h = encodeHeader({ name, type, mode: type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, size: type === 'file' ? body.length : 0, mtime: 1_700_000_000, linkname, uname: '', gname: '', devmajor: 0, devminor: 0 });
  return Buffer.concat([h, body, Buffer.alloc(type === 'file' ? (512 - (body.length % 512)) % 512 : 0)]);
}

/** name → "type mode [target|content]" for every path below dir. */
function snapshot(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${n}` : n;
    const p = join(dir, r);
    const st = lstatSync(p);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out[r] = `link ${readlinkSync(p)}`;
    else if (st.isDirectory()) { out[r] = `dir ${mode}`; Object.assign(out, snapshot(dir, r)); }
    else out[r] = `file ${mode} ${readFileSync(p, 'utf8')}`;
  }
  return out;
}

describe('cp and diff', { skip: integrationSkip() }, () => {
  let d: Daemon;
  /** A client's mistake: Docker 20.10 answers 500, berth 400 with the same text (README, Differences from Docker). */
  const clientErr = () => (d.engine === 'docker' ? 500 : 400);
  let work = '';
  const tag = `${process.pid}`;
  before(async () => {
    d = await startDaemon();
    await d.load('busybox');
    work = mkdtempSync(join(tmpdir(), 'berth-cp-'));
    const t = join(work, 'tree');
    mkdirSync(join(t, 'sub/deeper'), { recursive: true });
    mkdirSync(join(t, 'empty'));
    writeFileSync(join(t, 'a.txt'), 'alpha\n');
    writeFileSync(join(t, 'sub/run.sh'), '#!/bin/sh\necho run\n');
    writeFileSync(join(t, 'sub/deeper/secret'), 'shh\n');
    symlinkSync('../a.txt', join(t, 'sub/rel-link'));
    symlinkSync('/etc/passwd', join(t, 'abs-link'));
    symlinkSync('nowhere', join(t, 'dangling'));
    chmodSync(join(t, 'a.txt'), 0o640);
    chmodSync(join(t, 'sub/run.sh'), 0o755);
    chmodSync(join(t, 'sub/deeper/secret'), 0o600);
    chmodSync(join(t, 'sub/deeper'), 0o700);
    chmodSync(join(t, 'empty'), 0o750);
    const run = await d.docker(['run', '-d', '--name', 'ctr', 'busybox:1.35', 'sleep', '300']);
    assert.equal(run.code, 0, run.stderr);
  });
  after(async () => {
    if (work) rmSync(work, { recursive: true, force: true });
    await d?.cleanup();
  });

  it('round-trips a directory tree with symlinks and modes (docker CLI)', async () => {
    const to = await d.docker(['cp', join(work, 'tree'), 'ctr:/tmp/']);
    assert.equal(to.code, 0, to.stderr);
    const ls = await d.docker(['exec', 'ctr', 'sh', '-c', 'cat /tmp/tree/sub/rel-link; readlink /tmp/tree/abs-link; stat -c %a /tmp/tree/sub/deeper /tmp/tree/a.txt']);
    assert.equal(ls.stdout, 'alpha\n/etc/passwd\n700\n640\n');
    const back = await d.docker(['cp', 'ctr:/tmp/tree', join(work, 'back')]);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(snapshot(join(work, 'back')), snapshot(join(work, 'tree')));
  });

  it('round-trips the same tree with the berth CLI, contents of a dir with /.', async () => {
    const to = await d.berth(['cp', `${join(work, 'tree')}/.`, 'ctr:/tmp/berth-tree']);
    assert.equal(to.code, 0, to.stderr);
    const back = await d.berth(['cp', 'ctr:/tmp/berth-tree/.', join(work, 'berth-back')]);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(snapshot(join(work, 'berth-back')), snapshot(join(work, 'tree')));
  });

  it('copies single files both ways; /etc/hostname is the container one', async () => {
    assert.equal((await d.docker(['cp', join(work, 'tree/a.txt'), 'ctr:/tmp/single.txt'])).code, 0);
    assert.equal((await d.docker(['exec', 'ctr', 'cat', '/tmp/single.txt'])).stdout, 'alpha\n');
    const id = (await d.docker(['inspect', '-f', '{{.Id}}', 'ctr'])).stdout.trim();
    for (const cli of ['docker', 'berth'] as const) {
      const out = join(work, `hostname-${cli}`);
      const r = await d[cli](['cp', 'ctr:/etc/hostname', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(out, 'utf8'), `${id.slice(0, 12)}\n`);
    }
    // into an existing directory, and the tar on stdout
    assert.equal((await d.berth(['cp', join(work, 'tree/a.txt'), 'ctr:/tmp'])).code, 0);
    assert.equal((await d.docker(['exec', 'ctr', 'cat', '/tmp/a.txt'])).stdout, 'alpha\n');
    const tar = await d.docker(['cp', 'ctr:/tmp/a.txt', '-']);
    assert.equal(tar.stdout.slice(0, 6), 'a.txt\0');
    // the whole filesystem, with the container's own /etc/hostname in it
    const all = await d.docker(['cp', 'ctr:/', join(work, 'rootcopy')]);
    assert.equal(all.code, 0, all.stderr);
    assert.ok(lstatSync(join(work, 'rootcopy/bin/busybox')).isFile());
    assert.equal(readFileSync(join(work, 'rootcopy/etc/hostname'), 'utf8'), `${id.slice(0, 12)}\n`);
  });

  it('copies from and into a stopped container', async () => {
    const r = await d.docker(['run', '--name', 'done', 'busybox:1.35', 'sh', '-c', 'echo saved > /saved.txt']);
    assert.equal(r.code, 0, r.stderr);
    const out = join(work, 'saved.txt');
    assert.equal((await d.docker(['cp', 'done:/saved.txt', out])).code, 0);
    assert.equal(readFileSync(out, 'utf8'), 'saved\n');
    assert.equal((await d.berth(['cp', join(work, 'tree/a.txt'), 'done:/added.txt'])).code, 0);
    const back = join(work, 'added-back.txt');
    assert.equal((await d.berth(['cp', 'done:/added.txt', back])).code, 0);
    assert.equal(readFileSync(back, 'utf8'), 'alpha\n');
    const st = await d.docker(['start', '-a', 'done']);
    assert.equal(st.code, 0);
  });

  it('copies into a volume, and never replaces a bind-mounted file', async () => {
    const r = await d.docker(['run', '-d', '--name', 'withvol', '-v', `cpvol${tag}:/data`, 'busybox:1.35', 'sleep', '300']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await d.docker(['cp', join(work, 'tree/a.txt'), 'withvol:/data/'])).code, 0);
    const other = await d.docker(['run', '--rm', '-v', `cpvol${tag}:/v`, 'busybox:1.35', 'cat', '/v/a.txt']);
    assert.equal(other.stdout, 'alpha\n');
    const hosts = join(work, 'hosts');
    writeFileSync(hosts, '1.2.3.4 evil\n');
    const put = await d.docker(['cp', hosts, 'withvol:/etc/hosts']);
    assert.equal(put.code, 1);
    assert.match(put.stderr, /device or resource busy/);
    assert.doesNotMatch((await d.docker(['exec', 'withvol', 'cat', '/etc/hosts'])).stdout, /evil/);
    assert.equal((await d.docker(['rm', '-f', 'withvol'])).code, 0);
  });

  it('errors as docker 20.10 prints them (berth CLI = docker CLI 20.10)', async () => {
    for (const args of [['cp', 'ctr:/nonexistent', join(work, 'x')], ['cp', join(work, 'tree/a.txt'), 'ctr:/nonexistent/dir/'], ['cp', 'a', 'b'],
      ['cp', 'ctr:/a', 'ctr:/b'], ['cp', join(work, 'nosuch'), 'ctr:/tmp'], ['cp', 'nosuchctr:/etc', join(work, 'y')], ['diff', 'nosuchctr']]) {
      const b = await d.berth(args);
      const o = await d.docker20(args);
      assert.equal(b.stderr, o.stderr.replaceAll('docker', 'berth'), args.join(' '));
      assert.equal(b.code, o.code, args.join(' '));
    }
  });

  it('docker diff shows what the container added, changed and deleted', async () => {
    const r = await d.docker(['run', '--name', 'differ', 'busybox:1.35', 'sh', '-c', 'echo x > /tmp/newfile; rm /etc/group; mkdir -p /root/newdir; echo more >> /etc/passwd']);
    assert.equal(r.code, 0, r.stderr);
    const diff = await d.docker(['diff', 'differ']);
    assert.equal(diff.code, 0, diff.stderr);
    // Docker lists a directory before what changed in it; the order of siblings is its map order, so compare sorted
    const want = ['A /root/newdir', 'A /tmp/newfile', 'C /etc', 'C /etc/passwd', 'C /root', 'C /tmp', 'D /etc/group'];
    assert.deepEqual(diff.stdout.trim().split('\n').sort(), want);
    const lines = diff.stdout.trim().split('\n');
    assert.ok(lines.indexOf('C /etc') < lines.indexOf('C /etc/passwd') && lines.indexOf('C /tmp') < lines.indexOf('A /tmp/newfile'));
    const b = await d.berth(['diff', 'differ']);
    assert.deepEqual(b.stdout.trim().split('\n').sort(), want);
    const quiet = await d.docker(['run', '-d', '--name', 'quiet', 'busybox:1.35', 'sleep', '300']);
    assert.equal(quiet.code, 0);
    const unchanged = await d.docker(['diff', 'quiet']);
    assert.equal(unchanged.stdout, '', 'a running container that changed nothing has no changes');
    assert.equal((await d.docker(['rm', '-f', 'quiet'])).code, 0);
    const created = await d.docker(['create', '--name', 'fresh', 'busybox:1.35']);
    assert.equal(created.code, 0);
    const none = await api(d, 'GET', '/containers/fresh/changes');
    assert.equal(none.body.toString(), 'null\n');
  });

  it('archive API: stat header, 404 and the client-mistake errors (Docker 500, berth 400)', async () => {
    const head = await api(d, 'HEAD', '/containers/ctr/archive?path=/etc/hostname');
    assert.equal(head.status, 200);
    const stat = JSON.parse(Buffer.from(String(head.headers['x-docker-container-path-stat']), 'base64').toString()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(stat), ['name', 'size', 'mode', 'mtime', 'linkTarget']);
    assert.equal(stat.name, 'hostname');
    assert.equal(stat.size, 13);
    assert.equal(stat.mode, 420);
    const dir = await api(d, 'HEAD', '/containers/ctr/archive?path=/tmp/tree/sub/');
    const ds = JSON.parse(Buffer.from(String(dir.headers['x-docker-container-path-stat']), 'base64').toString()) as Record<string, unknown>;
    assert.equal(ds.name, 'sub');
    assert.equal(ds.mode, 2 ** 31 + 0o755);
    const link = await api(d, 'HEAD', '/containers/ctr/archive?path=/tmp/tree/sub/rel-link');
    const ls = JSON.parse(Buffer.from(String(link.headers['x-docker-container-path-stat']), 'base64').toString()) as Record<string, unknown>;
    assert.equal(ls.mode, 2 ** 27 + 0o777);
    assert.equal(ls.linkTarget, '/tmp/tree/a.txt');
    const missing = await api(d, 'GET', '/containers/ctr/archive?path=/nonexistent');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.toString(), '{"message":"Could not find the file /nonexistent in container ctr"}\n');
    const get = await api(d, 'GET', '/containers/ctr/archive?path=/etc/hostname');
    assert.equal(get.status, 200);
    assert.equal(get.headers['content-type'], 'application/x-tar');
    assert.equal(get.body.toString('latin1', 0, 9), 'hostname\0');
    assert.equal(get.body.toString('latin1', 100, 108), '0100644\0');
    const notDir = await api(d, 'PUT', '/containers/ctr/archive?path=/etc/hostname', Buffer.concat([entry('f', 'file', 'x'), Buffer.alloc(1024)]));
    assert.equal(notDir.status, clientErr());
    assert.equal(notDir.body.toString(), '{"message":"extraction point is not a directory"}\n');
    const noParam = await api(d, 'HEAD', '/containers/ctr/archive');
    assert.equal(noParam.status, 400);
    const noPath = await api(d, 'PUT', '/containers/ctr/archive?path=/nope', Buffer.concat([entry('f', 'file', 'x'), Buffer.alloc(1024)]));
    assert.equal(noPath.status, 404);
    assert.equal(noPath.body.toString(), '{"message":"Could not find the file /nope in container ctr"}\n');
  });

  it('a hostile tar PUT through the API writes nothing outside the rootfs', async () => {
    const names = [`berth-escape-${tag}`, `berth-through-${tag}`, `berth-abs-${tag}`, `berth-hard-${tag}`];
    const hostPaths = ['/', '/tmp', '/etc', tmpdir()].flatMap((dir) => names.map((n) => join(dir, n)));
    const tries: Buffer[][] = [
      [entry(`../../../../../../../../${names[0]}`, 'file', 'escaped')],
      [entry('esc', 'symlink', '', '/'), entry(`esc/${names[1]}`, 'file', 'through the link')],
      [entry(`/${names[2]}`, 'file', 'absolute')],
      [entry(names[3]!, 'link', '', '../../../../../../etc/shadow')],
      [entry('up', 'symlink', '', '../../../../../../../..'), entry(`up/tmp/${names[0]}`, 'file', 'escaped')],
    ];
    const statuses: number[] = [];
    const bodies: string[] = [];
    for (const t of tries) {
      const r = await api(d, 'PUT', '/containers/ctr/archive?path=/tmp', Buffer.concat([...t, Buffer.alloc(1024)]));
      statuses.push(r.status);
      bodies.push(r.body.toString());
    }
    for (const p of hostPaths) assert.ok(!existsSync(p), `${p} was written on the host`);
    // what was allowed landed inside the container
    const inside = await d.docker(['exec', 'ctr', 'sh', '-c', `cat /${names[1]} /tmp/${names[2]}`]);
    assert.equal(inside.stdout, 'through the linkabsolute');
    assert.equal(statuses[1], 200);
    assert.equal(statuses[2], 200);
    assert.deepEqual(statuses, [clientErr(), 200, 200, clientErr(), clientErr()]);
    assert.equal(bodies[0], `{"message":"Error processing tar file(exit status 1): \\"../../../../../../../../${names[0]}\\" is outside of \\"/tmp\\""}\n`);
    // dockerd's error JSON does not escape HTML: `->` as is
    assert.equal(bodies[3], '{"message":"Error processing tar file(exit status 1): invalid hardlink \\"/etc/shadow\\" -> \\"../../../../../../etc/shadow\\""}\n');
    assert.equal(bodies[4], '{"message":"Error processing tar file(exit status 1): invalid symlink \\"/tmp/up\\" -> \\"../../../../../../../..\\""}\n');
  });
});
