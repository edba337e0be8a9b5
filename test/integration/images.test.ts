/** Acceptance 3: the four fixtures load; save → rmi → load keeps the IDs; skopeo reads the save output; nginx reuses debian's base layer. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { statSync, readdirSync } from 'node:fs';
import { startDaemon, integrationSkip, fixtureInfo, FIXTURES, FIXTURE_FILES, type Daemon } from '../helpers/daemon.ts';

interface FixtureImage { file: string; tags: string[]; image_id: string; layers: { diff_id: string }[] }
const fixtures = (): FixtureImage[] => (fixtureInfo() as { images: FixtureImage[] }).images;

describe('images', { skip: integrationSkip() }, () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
  });
  after(() => d?.cleanup());

  it('loads all four fixtures (file and stdin) with Docker\'s lines and the fixture IDs', async () => {
    for (const f of fixtures()) {
      const r = f.file === FIXTURE_FILES.layers
        ? await d.docker(['load'], { input: { file: join(FIXTURES, f.file) } })
        : await d.docker(['load', '-i', join(FIXTURES, f.file)]);
      assert.equal(r.code, 0, r.stderr);
      for (const tag of f.tags) assert.match(r.stdout, new RegExp(`^Loaded image: ${tag.replace(/[.:]/g, '\\$&')}$`, 'm'));
      for (const tag of f.tags) {
        const id = await d.docker(['image', 'inspect', '--format', '{{.Id}}', tag]);
        assert.equal(id.stdout.trim(), f.image_id, tag);
      }
    }
    const again = await d.docker(['load', '-i', join(FIXTURES, FIXTURE_FILES.busybox)]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /^Loaded image: busybox:1\.35$/m);
    const list = await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.deepEqual(list.stdout.trim().split('\n').sort(), fixtures().flatMap((f) => f.tags).sort());
  });

  it('save → rmi → load gives the same image IDs; skopeo and podman read the archive', async () => {
    const out = join(d.dir, 'saved.tar');
    const s = await d.docker(['save', '-o', out, 'busybox:1.35', 'layers:test']);
    assert.equal(s.code, 0, s.stderr);
    const sk = spawnSync('skopeo', ['inspect', `docker-archive:${out}:busybox:1.35`], { encoding: 'utf8' });
    assert.equal(sk.status, 0, sk.stderr);
    const info = JSON.parse(sk.stdout) as { Layers: string[]; Architecture: string; Os: string };
    assert.equal(info.Os, 'linux');
    assert.equal(info.Layers.length, 1);
    const skCfg = spawnSync('skopeo', ['inspect', '--config', `docker-archive:${out}:layers:test`], { encoding: 'utf8' });
    assert.equal(skCfg.status, 0, skCfg.stderr);
    // podman loads the same archive into a private store and sees both images with their IDs.
    const pod = ['--root', join(d.dir, 'podman-root'), '--runroot', join(d.dir, 'podman-run'), '--storage-driver', 'vfs'];
    const pl = spawnSync('podman', [...pod, 'load', '-i', out], { encoding: 'utf8' });
    assert.equal(pl.status, 0, pl.stderr);
    const pi = spawnSync('podman', [...pod, 'images', '--no-trunc', '--format', '{{.ID}}'], { encoding: 'utf8' });
    assert.equal(pi.status, 0, pi.stderr);
    const podIds = new Set(pi.stdout.trim().split('\n').map((x) => x.replace(/^sha256:/, '')));
    for (const f of fixtures().filter((x) => x.file === FIXTURE_FILES.busybox || x.file === FIXTURE_FILES.layers)) {
      assert.ok(podIds.has(f.image_id.replace(/^sha256:/, '')), `podman has ${f.image_id}: ${pi.stdout}`);
    }
    const rmi = await d.docker(['rmi', 'layers:test', 'busybox:1.35', 'busybox:latest']);
    assert.equal(rmi.code, 0, rmi.stderr);
    assert.match(rmi.stdout, /^Untagged: layers:test$/m);
    assert.match(rmi.stdout, /^Deleted: sha256:/m);
    const gone = await d.docker(['image', 'inspect', 'busybox:1.35']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /No such image: busybox:1\.35/);
    const l = await d.docker(['load', '-i', out]);
    assert.equal(l.code, 0, l.stderr);
    for (const f of fixtures().filter((x) => x.file === FIXTURE_FILES.busybox || x.file === FIXTURE_FILES.layers)) {
      const id = await d.docker(['image', 'inspect', '--format', '{{.Id}}', f.tags[0]!]);
      assert.equal(id.stdout.trim(), f.image_id);
    }
    // the save output of busybox alone to stdout
    const so = await d.docker(['save', 'busybox:1.35']);
    assert.equal(so.code, 0);
    assert.ok(so.stdout.length > 1_000_000);
  });

  it('nginx reuses debian\'s base layer on disk', async () => {
    const deb = JSON.parse((await d.docker(['image', 'inspect', '--format', '{{json .GraphDriver}}', 'debian:12'])).stdout) as { Name: string; Data: Record<string, string> };
    const ngx = JSON.parse((await d.docker(['image', 'inspect', '--format', '{{json .GraphDriver}}', 'nginx:bookworm'])).stdout) as { Name: string; Data: Record<string, string> };
    assert.equal(deb.Name, 'overlay2');
    assert.equal(ngx.Name, 'overlay2');
    const lowers = ngx.Data.LowerDir!.split(':');
    assert.equal(lowers.length, 1);
    assert.equal(lowers[0], deb.Data.UpperDir, 'nginx\'s lower layer is debian\'s layer dir');
    assert.ok(statSync(deb.Data.UpperDir!).isDirectory());
    assert.ok(readdirSync(deb.Data.UpperDir!).includes('etc'));
    const rootfs = await d.docker(['image', 'inspect', '--format', '{{index .RootFS.Layers 0}}', 'nginx:bookworm']);
    const debl = await d.docker(['image', 'inspect', '--format', '{{index .RootFS.Layers 0}}', 'debian:12']);
    assert.equal(rootfs.stdout, debl.stdout);
  });

  it('images, tag, history and inspect answer like Docker', async () => {
    const t = await d.docker(['tag', 'busybox:1.35', 'mybox:v1']);
    assert.equal(t.code, 0);
    const q = await d.docker(['images', '-q', 'mybox']);
    assert.equal(q.stdout, '0dcfc6fe9a75\n');
    const h = await d.docker(['history', '-q', 'mybox:v1']);
    assert.equal(h.code, 0);
    const rmi = await d.docker(['rmi', 'mybox:v1']);
    assert.equal(rmi.stdout, 'Untagged: mybox:v1\n');
  });

  it('the berth CLI shows the same images table as the docker 20.10 CLI', async () => {
    const b = await d.berth(['images']);
    const k = await d.docker20(['images']);
    assert.equal(b.code, 0, b.stderr);
    // all fixtures share one Created time, so Docker's row order among them is not defined: compare header + sorted rows
    const rows = (t: string) => { const [h, ...r] = t.trimEnd().split('\n'); return [h, ...r.sort()]; };
    assert.deepEqual(rows(b.stdout), rows(k.stdout));
    const bq = await d.berth(['images', '-q', '--no-trunc', 'busybox']);
    assert.match(bq.stdout, /^sha256:0dcfc6fe9a7500e1890a91bb2ebbf9d6ba7ccce571029f6aefcfe633b6a89a09\n/);
    assert.equal(bq.stdout, (await d.docker20(['images', '-q', '--no-trunc', 'busybox'])).stdout);
    const bi = await d.berth(['image', 'inspect', '--format', '{{.Id}} {{.Os}}', 'layers:test']);
    assert.equal(bi.stdout, 'sha256:e46e8a9d2f874db127328b92c1ede231b6514c9ccda753455d6b087ea3437b3f linux\n');
  });
});
