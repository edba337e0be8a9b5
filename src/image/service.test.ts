/**
 * The image service against the real fixtures, as root (overlay mounts, mknod, trusted xattrs, chown).
 * Store in a temp data root under /var/tmp; every mount is undone in `finally`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, lstatSync, readlinkSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Readable, PassThrough } from 'node:stream';
import { gzipSync, gunzipSync } from 'node:zlib';
import { createImageService, type ImageService } from './index.ts';
import { mkTar } from './testing.ts';

const IMAGES = resolve(import.meta.dirname, '../../../shared/images');
const isRoot = process.getuid?.() === 0;
const skip = !isRoot && 'needs root (overlay, mknod, chown)';

interface Fixture { file: string; tags: string[]; image_id: string; oci_manifest_digest: string; layers: { diff_id: string; blob_digest: string }[] }
const fixtures = (JSON.parse(readFileSync(join(IMAGES, 'fixtures.json'), 'utf8')) as { images: Fixture[] }).images;
const fx = (file: string) => fixtures.find((f) => f.file === file)!;

let base: string;
let root: string;
let svc: ImageService;
const timings: Record<string, number> = {};

before(async () => {
  if (!isRoot) return;
  base = mkdtempSync('/var/tmp/berth-image-test-');
  root = join(base, 'root');
  mkdirSync(root);
  svc = await createImageService({ root });
});
after(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = lstatSync(p);
      const r = rel ? `${rel}/${n}` : n;
      out.push(`${r} ${st.mode.toString(8)} ${st.isDirectory() ? '' : st.size} ${st.isSymbolicLink() ? readlinkSync(p) : ''}`);
      if (st.isDirectory()) walk(p, r);
    }
  };
  walk(dir, '');
  return out;
}

const load = (file: string) => svc.load(createReadStream(join(IMAGES, file)));
const none = () => undefined;

/** A docker-archive (Docker 25 layout) holding images made of the given layer tars. */
function dockerArchive(layers: Buffer[], tags: string[], diffIds?: string[]): Promise<Buffer> {
  return multiArchive([{ layers, tags, ...(diffIds ? { diffIds } : {}) }]);
}

function multiArchive(images: { layers: Buffer[]; tags: string[]; diffIds?: string[] }[]): Promise<Buffer> {
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const blobs = new Map<string, Buffer>();
  const manifest = images.map((img) => {
    const config = Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: img.diffIds ?? img.layers.map((l) => 'sha256:' + sha(l)) },
    }));
    for (const b of [config, ...img.layers]) blobs.set(`blobs/sha256/${sha(b)}`, b);
    return { Config: `blobs/sha256/${sha(config)}`, RepoTags: img.tags, Layers: img.layers.map((l) => `blobs/sha256/${sha(l)}`) };
  });
  return mkTarBinary([
    ...[...blobs].map(([name, b]) => ({ name, content: b.toString('latin1') })),
    { name: 'manifest.json', content: JSON.stringify(manifest) },
  ]);
}

async function mkTarBinary(entries: { name: string; content: string }[]): Promise<Buffer> {
  const { default: tar } = await import('tar-stream');
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (b: unknown) => { chunks.push(b as Buffer); });
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const e of entries) pack.entry({ name: e.name, mode: 0o644, uid: 0, gid: 0, mtime: new Date(0) }, Buffer.from(e.content, 'latin1'));
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

test('all four fixtures load with Docker\'s output lines and the fixture image IDs', { skip }, async (t) => {
  for (const f of ['busybox-1.35.tar', 'debian-bookworm-slim.tar', 'nginx-bookworm.tar', 'layers-test.tar']) {
    const t0 = performance.now();
    const lines = await load(f);
    timings[f] = performance.now() - t0;
    t.diagnostic(`load ${f}: ${timings[f]!.toFixed(0)} ms`);
    assert.deepEqual(lines, fx(f).tags.map((tag) => `Loaded image: ${tag}`));
    for (const tag of fx(f).tags) {
      const img = await svc.get(tag);
      assert.equal(img.id, fx(f).image_id);
      assert.deepEqual(img.config.rootfs.diff_ids, fx(f).layers.map((l) => l.diff_id));
    }
  }
  // sizes as Docker reports them (images-inspect / system-df)
  assert.equal((await svc.get('busybox:1.35')).size, 1985590);
  assert.equal((await svc.get('nginx:bookworm')).size, 88511599);
  assert.equal((await svc.get('layers:test')).size, 1986093);
  assert.deepEqual((await svc.get('busybox:latest')).repoTags, ['busybox:1.35', 'busybox:latest']);
  assert.deepEqual((await svc.get('debian:12')).repoTags, ['debian:12', 'debian:bookworm-slim']);
  const repos = JSON.parse(readFileSync(join(root, 'image/repositories.json'), 'utf8'));
  assert.equal(repos.Repositories.busybox['busybox:1.35'], fx('busybox-1.35.tar').image_id);
});

test('debian and nginx share their base layer on disk; loading again does no new work', { skip }, async () => {
  const debian = await svc.get('debian:bookworm-slim');
  const nginx = await svc.get('nginx:bookworm');
  const base = fx('debian-bookworm-slim.tar').layers[0]!.diff_id;
  assert.equal(debian.topLayer, base, 'chain ID of a base layer is its diff ID');
  const layerdb = readdirSync(join(root, 'image/layerdb/sha256'));
  assert.equal(layerdb.filter((c) => c === base.slice(7)).length, 1);
  assert.equal(layerdb.length, 1 + 1 + 1 + 4, 'busybox 1, debian 1, nginx +1, layers:test +4');
  const cache = readFileSync(join(root, 'image/layerdb/sha256', base.slice(7), 'cache-id'), 'utf8');
  const dg = await svc.imageGraphDriverData(nginx.id);
  assert.equal(dg.LowerDir, join(root, 'overlay2', cache, 'diff'));
  assert.equal((await svc.imageGraphDriverData(debian.id)).UpperDir, join(root, 'overlay2', cache, 'diff'));
  // overlay2 dirs: one per layer, plus l/ with one short link each
  assert.equal(readdirSync(join(root, 'overlay2')).filter((n) => n !== 'l').length, 7);
  for (const l of readdirSync(join(root, 'overlay2/l'))) assert.match(l, /^[A-Z2-7]{26}$/);
  const before = snapshot(root);
  assert.deepEqual(await load('busybox-1.35.tar'), ['Loaded image: busybox:1.35', 'Loaded image: busybox:latest']);
  assert.deepEqual(snapshot(root), before);
  // compressed blobs are kept as they came
  assert.equal(lstatSync(join(root, 'image/content/sha256', fx('nginx-bookworm.tar').layers[1]!.blob_digest.slice(7))).size, 5486912);
  assert.equal((await svc.diskUsage()).layersSize, 74028618 + 14482981 + 1985590 + 243 + 75 + 86 + 99);
});

test('lookups by name, tag, full and short ID; Docker\'s not-found and reference errors', { skip }, async () => {
  const id = fx('busybox-1.35.tar').image_id;
  for (const r of ['busybox', 'busybox:latest', 'docker.io/library/busybox:1.35', id, id.slice(7), '0dcfc6fe9a75', 'sha256:0dcfc6fe']) {
    assert.equal((await svc.get(r)).id, id, r);
  }
  await assert.rejects(svc.get('nosuch'), { name: 'NotFoundError', message: 'No such image: nosuch:latest' });
  await assert.rejects(svc.get('busybox:nosuch'), { name: 'NotFoundError', message: 'No such image: busybox:nosuch' });
  await assert.rejects(svc.get('UPPER:case'), { name: 'InvalidArgumentError', message: 'invalid reference format: repository name must be lowercase' });
});

test('history: the top entry carries the ID and tags, lower ones <missing>, sizes per layer', { skip }, async () => {
  const h = await svc.history('nginx:bookworm');
  assert.deepEqual(h.map((x) => [x.Id.slice(0, 19), x.Size, x.Tags]), [
    ['sha256:871b9e2310ac', 0, ['nginx:bookworm']], ['<missing>', 0, null], ['<missing>', 0, null],
    ['<missing>', 14482981, null], ['<missing>', 0, null], ['<missing>', 74028618, null],
  ]);
  assert.equal(h[0]!.CreatedBy, 'CMD ["nginx" "-g" "daemon off;"]');
  assert.equal(h[0]!.Created, 1795392000);
  assert.deepEqual((await svc.history('layers:test')).map((x) => x.Size), [0, 99, 86, 75, 243, 1985590]);
});

test('layers:test in a container rw layer: layers-test-check.sh prints ALL OK, the xattr is there', { skip }, async (t) => {
  const img = await svc.get('layers:test');
  const cid = 'c'.repeat(64);
  await svc.createRwLayer(cid, img.id);
  let merged = '';
  try {
    merged = await svc.mountRwLayer(cid);
    assert.equal(await svc.mountRwLayer(cid), merged, 'mount is idempotent');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === merged);
    assert.equal(mounts.length, 1);
    const g = await svc.graphDriverData(cid);
    assert.equal(g.MergedDir, merged);
    assert.equal(g.LowerDir!.split(':').length, 1 + 5, 'the -init layer, then the image layers');
    assert.equal(g.LowerDir!.split(':')[0], join(merged, '..', '..', readFileSync(join(root, 'image/layerdb/mounts', cid, 'init-id'), 'utf8'), 'diff'));
    assert.equal(lstatSync(join(merged, '.dockerenv')).size, 0);
    assert.equal(readlinkSync(join(merged, 'etc/mtab')), '/proc/mounts');
    assert.equal(g.UpperDir, join(merged, '..', 'diff'));
    const r = spawnSync('unshare', ['-m', 'chroot', merged, '/bin/sh', '-c', 'cd /fixture && exec /bin/sh -s'], {
      input: readFileSync(join(IMAGES, 'layers-test-check.sh')), encoding: 'utf8',
    });
    t.diagnostic(r.stdout.trim().split('\n').at(-1) ?? '');
    assert.equal(r.stdout.trim().split('\n').at(-1), 'ALL OK', r.stdout + r.stderr);
    assert.equal(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'user.fixture', join(merged, 'fixture/xattr.txt')]).toString(), 'hello');
    // changes go to the upper dir only
    writeFileSync(join(merged, 'fixture/new.txt'), '12345');
    assert.equal(await svc.rwLayerSize(cid), 5);
    assert.equal(readFileSync(join(g.UpperDir, 'fixture/new.txt'), 'utf8'), '12345');
  } finally {
    await svc.unmountRwLayer(cid);
  }
  assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(merged), false, 'unmounted');
  await svc.unmountRwLayer(cid); // tolerated when not mounted
  // export mounts temporarily and gives one tar of the merged tree
  const out = join(base, 'export.tar');
  await svc.exportRwLayer(cid, createWriteStream(out));
  const names = execFileSync('tar', ['-tf', out]).toString().split('\n');
  assert.ok(names.includes('fixture/xattr.txt') && names.includes('fixture/new.txt') && names.includes('bin/busybox'));
  assert.equal(names[0], '.dockerenv');
  assert.ok(!names.some((n) => n.includes('.wh.')));
  assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(merged), false, 'export unmounted again');
  // a used layer survives rmi of another image sharing it; the rw layer goes away with removeRwLayer
  const dirsBefore = readdirSync(join(root, 'overlay2')).length;
  await svc.removeRwLayer(cid);
  assert.deepEqual(readdirSync(join(root, 'image/layerdb/mounts')), []);
  assert.equal(readdirSync(join(root, 'overlay2')).length, dirsBefore - 2, 'rw and -init dirs removed');
  // scratch: a container without an image still gets a mountable rootfs (the init layer below it)
  await svc.createRwLayer('s'.repeat(64), null);
  try {
    const m = await svc.mountRwLayer('s'.repeat(64));
    assert.deepEqual(readdirSync(m).sort(), ['.dockerenv', 'dev', 'etc']);
  } finally {
    await svc.unmountRwLayer('s'.repeat(64));
  }
  await svc.removeRwLayer('s'.repeat(64));
});

test('rmi: untag vs delete, and Docker\'s conflict messages', { skip }, async () => {
  const bb = fx('busybox-1.35.tar').image_id;
  await svc.tag('busybox:1.35', 'extra:1');
  assert.ok((await svc.get('extra:1')).lastTagTime);
  assert.deepEqual(await svc.remove('extra:1', { force: false, noPrune: false }, none), [{ Untagged: 'extra:1' }]);
  const stopped = (id: string) => (id === bb || id === fx('nginx-bookworm.tar').image_id ? { id: '3b1c' + 'a'.repeat(60), running: false } : undefined);
  const running = (id: string) => (id === bb ? { id: '3b1c' + 'a'.repeat(60), running: true } : undefined);
  // several tags: only this tag goes, even though a container uses the image
  assert.deepEqual(await svc.remove('busybox:1.35', { force: false, noPrune: false }, stopped), [{ Untagged: 'busybox:1.35' }]);
  await svc.tag('busybox:latest', 'busybox:1.35');
  await assert.rejects(svc.remove('nginx:bookworm', { force: false, noPrune: false }, stopped), {
    name: 'ConflictError',
    message: 'conflict: unable to remove repository reference "nginx:bookworm" (must force) - container 3b1caaaaaaaa is using its referenced image 871b9e2310ac',
  });
  await assert.rejects(svc.remove('0dcfc6fe9a75', { force: false, noPrune: false }, none), {
    name: 'ConflictError', message: 'conflict: unable to delete 0dcfc6fe9a75 (must be forced) - image is referenced in multiple repositories',
  });
  await assert.rejects(svc.remove('0dcfc6fe9a75', { force: true, noPrune: false }, running), {
    name: 'ConflictError', message: 'conflict: unable to delete 0dcfc6fe9a75 (cannot be forced) - image is being used by running container 3b1caaaaaaaa',
  });
  await assert.rejects(svc.remove('nosuch', { force: false, noPrune: false }, none), { name: 'NotFoundError', message: 'No such image: nosuch:latest' });
  // nginx: its own layer goes, debian's base stays
  const nginxTop = (await svc.get('nginx:bookworm')).topLayer!;
  assert.deepEqual(await svc.remove('nginx:bookworm', { force: false, noPrune: false }, none), [
    { Untagged: 'nginx:bookworm' }, { Deleted: fx('nginx-bookworm.tar').image_id }, { Deleted: nginxTop },
  ]);
  assert.ok(readdirSync(join(root, 'image/layerdb/sha256')).includes(fx('debian-bookworm-slim.tar').layers[0]!.diff_id.slice(7)));
  assert.equal(lstatSync(join(root, 'image/content/sha256', fx('nginx-bookworm.tar').layers[1]!.blob_digest.slice(7)), { throwIfNoEntry: false }), undefined, 'its blob went too');
  assert.deepEqual(await load('nginx-bookworm.tar'), ['Loaded image: nginx:bookworm']);
});

test('save → rmi → load gives the same IDs; skopeo reads the archive; save by ID has no RepoTags', { skip }, async (t) => {
  const out = join(base, 'save.tar');
  const all = fixtures.flatMap((f) => f.tags);
  const t0 = performance.now();
  await svc.save(all, createWriteStream(out));
  t.diagnostic(`save of 4 images: ${(performance.now() - t0).toFixed(0)} ms`);
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', out, 'manifest.json']).toString()) as { RepoTags: string[] }[];
  assert.deepEqual(manifest.map((m) => m.RepoTags).flat().sort(), [...all].sort());
  for (const f of fixtures) {
    const insp = JSON.parse(execFileSync('skopeo', ['inspect', `docker-archive:${out}:${f.tags[0]}`]).toString()) as { Architecture: string; Os: string };
    assert.equal(insp.Os, 'linux');
    const raw = execFileSync('skopeo', ['inspect', '--raw', `oci-archive:${out}:${f.tags[0]!.split(':')[1]}`]);
    assert.equal('sha256:' + createHash('sha256').update(raw).digest('hex'), f.oci_manifest_digest, 'same OCI manifest as the fixture');
  }
  const one = join(base, 'one.tar');
  await svc.save(['busybox:1.35'], createWriteStream(one));
  execFileSync('skopeo', ['inspect', `docker-archive:${one}`]);
  const byId = join(base, 'byid.tar');
  await svc.save(['0dcfc6fe9a75'], createWriteStream(byId));
  assert.deepEqual(JSON.parse(execFileSync('tar', ['-xOf', byId, 'manifest.json']).toString())[0].RepoTags, null);
  await assert.rejects(svc.save(['nosuch:tag'], new PassThrough()), { name: 'NotFoundError', message: 'reference does not exist' });

  for (const img of await svc.list()) await svc.remove(img.id, { force: true, noPrune: false }, none);
  assert.deepEqual(await svc.list(), []);
  assert.deepEqual(readdirSync(join(root, 'image/layerdb/sha256')), []);
  assert.deepEqual(readdirSync(join(root, 'overlay2')), ['l']);
  assert.deepEqual(readdirSync(join(root, 'overlay2/l')), []);

  const lines = await svc.load(createReadStream(out));
  assert.deepEqual([...lines].sort(), all.map((x) => `Loaded image: ${x}`).sort());
  for (const f of fixtures) for (const tag of f.tags) assert.equal((await svc.get(tag)).id, f.image_id);
  assert.deepEqual(await svc.load(createReadStream(byId)), [`Loaded image ID: ${fx('busybox-1.35.tar').image_id}`]);

  // a second service on the same root sees the same store, and drops what a crash left half-done
  mkdirSync(join(root, 'overlay2/.tmp-deadbeef/diff'), { recursive: true });
  writeFileSync(join(root, 'image/ingest/partial'), 'half a blob');
  mkdirSync(join(root, 'image/layerdb/sha256', 'f'.repeat(64)));
  writeFileSync(join(root, 'image/layerdb/sha256', 'f'.repeat(64), 'diff'), 'sha256:' + 'f'.repeat(64));
  const again = await createImageService({ root });
  assert.equal(readdirSync(join(root, 'overlay2')).includes('.tmp-deadbeef'), false);
  assert.deepEqual(readdirSync(join(root, 'image/ingest')), []);
  assert.equal(readdirSync(join(root, 'image/layerdb/sha256')).includes('f'.repeat(64)), false);
  assert.deepEqual((await again.list()).map((i) => [i.id, i.repoTags]).sort(), (await svc.list()).map((i) => [i.id, i.repoTags]).sort());
});

test('gzip-compressed archives and OCI-only layouts load', { skip }, async () => {
  const gz = gzipSync(readFileSync(join(IMAGES, 'busybox-1.35.tar')));
  assert.deepEqual(await svc.load(Readable.from([gz])), ['Loaded image: busybox:1.35', 'Loaded image: busybox:latest']);
  // the layers:test archive without its docker-archive files: tags come from index.json annotations
  const dir = join(base, 'oci');
  mkdirSync(dir);
  execFileSync('tar', ['-xf', join(IMAGES, 'layers-test.tar'), '-C', dir]);
  rmSync(join(dir, 'manifest.json'));
  rmSync(join(dir, 'repositories'));
  const oci = join(base, 'oci.tar');
  execFileSync('tar', ['-cf', oci, '-C', dir, 'blobs', 'index.json', 'oci-layout']);
  await svc.remove('layers:test', { force: true, noPrune: false }, none);
  assert.deepEqual(await svc.load(createReadStream(oci)), ['Loaded image: layers:test']);
  assert.equal((await svc.get('layers:test')).id, fx('layers-test.tar').image_id);
  // what skopeo writes: the classic docker-archive (<id>/layer.tar symlinks) and an OCI archive with ref.name = name:tag
  const classic = join(base, 'classic.tar');
  execFileSync('skopeo', ['copy', '-q', `docker-archive:${join(IMAGES, 'layers-test.tar')}`, `docker-archive:${classic}:classic:test`]);
  assert.deepEqual(await svc.load(createReadStream(classic)), ['Loaded image: classic:test']);
  assert.equal((await svc.get('classic:test')).id, fx('layers-test.tar').image_id);
  const skopeoOci = join(base, 'skopeo-oci.tar');
  execFileSync('skopeo', ['copy', '-q', `docker-archive:${join(IMAGES, 'busybox-1.35.tar')}:busybox:1.35`, `oci-archive:${skopeoOci}:skopeo/busybox:oci`]);
  assert.deepEqual(await svc.load(createReadStream(skopeoOci)), ['Loaded image: skopeo/busybox:oci']);
  assert.deepEqual((await svc.get('skopeo/busybox:oci')).config.rootfs.diff_ids, fx('busybox-1.35.tar').layers.map((l) => l.diff_id));
  await svc.remove('classic:test', { force: false, noPrune: false }, none);
  await svc.remove('skopeo/busybox:oci', { force: false, noPrune: false }, none);
});

/** 6 MiB of text that gzip cannot shrink below the follow threshold (4 MiB). */
const bigText = randomBytes(4608 << 10).toString('base64');

test('large layers, plain and gzip, are unpacked while the archive arrives: same files, same IDs', { skip }, async () => {
  const plain = await mkTar([{ name: 'big/a.txt', content: bigText, uid: 0, gid: 0 }, { name: 'big/b.txt', content: 'b\n', uid: 0, gid: 0 }]);
  const gz = gzipSync(await mkTar([{ name: 'big/c.txt', content: bigText.slice(1) + '!', uid: 0, gid: 0 }]), { level: 1 });
  assert.ok(plain.length >= 4 << 20 && gz.length >= 4 << 20, 'both layers are over the follow threshold');
  // Docker 25 layout (blobs/sha256/…) and the older <id>/layer.tar layout
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const bufs = [await dockerArchive([plain, gz], ['big:blobs'], ['sha256:' + sha(plain), 'sha256:' + sha(gunzipSync(gz))])];
  const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: ['sha256:' + sha(plain)] } }));
  bufs.push(await mkTarBinary([
    { name: `${sha(plain)}/layer.tar`, content: plain.toString('latin1') }, { name: `${sha(cfg)}.json`, content: cfg.toString('latin1') },
    { name: 'manifest.json', content: JSON.stringify([{ Config: `${sha(cfg)}.json`, RepoTags: ['big:old'], Layers: [`${sha(plain)}/layer.tar`] }]) },
  ]));
  const { followStats } = await import('./service.ts');
  const before = { ...followStats };
  assert.deepEqual(await svc.load(Readable.from([bufs[0]!])), ['Loaded image: big:blobs']);
  assert.deepEqual(await svc.load(Readable.from([bufs[1]!])), ['Loaded image: big:old']);
  // both layers of the first archive, and the old-layout copy of the plain one (its chain exists: followed, not adopted)
  assert.deepEqual({ followed: followStats.followed - before.followed, adopted: followStats.adopted - before.adopted }, { followed: 3, adopted: 2 });
  const img = await svc.get('big:blobs');
  assert.deepEqual(img.config.rootfs.diff_ids, ['sha256:' + sha(plain), 'sha256:' + sha(gunzipSync(gz))]);
  const gd = await svc.imageGraphDriverData(img.id);
  const dirs = [gd.UpperDir, ...(gd.LowerDir ?? '').split(':').filter(Boolean)];
  const find = (rel: string) => dirs.map((d) => join(d, rel)).find((p) => existsSync(p));
  assert.equal(readFileSync(find('big/a.txt')!, 'utf8'), bigText);
  assert.equal(readFileSync(find('big/c.txt')!, 'utf8'), bigText.slice(1) + '!');
  assert.equal(readFileSync(find('big/b.txt')!, 'utf8'), 'b\n');
  assert.deepEqual((await svc.get('big:old')).config.rootfs.diff_ids, ['sha256:' + sha(plain)]);
  await svc.remove('big:blobs', { force: false, noPrune: false }, none);
  await svc.remove('big:old', { force: false, noPrune: false }, none);
});

test('corrupt, truncated and hostile archives are refused and leave the store unchanged', { skip }, async () => {
  const outsideDir = join(base, 'outside');
  mkdirSync(outsideDir);
  const bb = readFileSync(join(IMAGES, 'busybox-1.35.tar'));
  const flipped = Buffer.from(bb);
  flipped[2048 + 100000] = flipped[2048 + 100000]! ^ 0xff; // inside the layer blob
  const plainLayer = await mkTar([{ name: 'ok.txt', content: 'ok', uid: 0, gid: 0 }]);
  const badGzipLayer = gzipSync(plainLayer).subarray(0, 30);
  const cases: [string, () => Promise<Buffer>, RegExp][] = [
    ['truncated archive', async () => bb.subarray(0, 1_000_000), /truncated|missing/],
    ['blob that does not match its digest', async () => flipped, /does not match its digest/],
    ['not a tar at all', async () => Buffer.from('hello, this is not an image archive\n'.repeat(100)), /invalid/],
    ['corrupt gzip around the archive', async () => gzipSync(bb).subarray(0, 50000), /gzip|truncated|unexpected end/],
    ['diff ID that does not match the layer', async () => dockerArchive([plainLayer], ['bad:diffid'], ['sha256:' + 'e'.repeat(64)]), /diff ID/],
    ['layer with bad gzip data', async () => dockerArchive([badGzipLayer], ['bad:gzip'], ['sha256:' + 'e'.repeat(64)]), /compressed data|gzip|unexpected end/],
    ['absolute path', async () => dockerArchive([await mkTar([{ name: '/etc/evil', content: 'x', uid: 0, gid: 0 }])], ['evil:abs']), /absolute/],
    ['.. escape', async () => dockerArchive([await mkTar([{ name: `../../../../../../..${outsideDir}/evil`, content: 'x', uid: 0, gid: 0 }])], ['evil:dotdot']), /escapes/],
    ['symlink escape', async () => dockerArchive([await mkTar([
      { name: 'l', type: 'symlink', linkname: outsideDir, uid: 0, gid: 0 }, { name: 'l/evil', content: 'x', uid: 0, gid: 0 },
    ])], ['evil:symlink']), /symbolic link/],
    ['hardlink escape', async () => dockerArchive([await mkTar([{ name: 'h', type: 'link', linkname: '../../../../../../etc/passwd', uid: 0, gid: 0 }])], ['evil:hardlink']), /escapes/],
    // Layers of 4 MiB and more are unpacked while the archive arrives (Follower): the same checks hold there.
    ['large layer with a .. escape after its data', async () => dockerArchive([await mkTar([{ name: 'pad', content: bigText, uid: 0, gid: 0 },
      { name: `../../../../../../..${outsideDir}/evil`, content: 'x', uid: 0, gid: 0 }])], ['evil:bigdotdot']), /escapes/],
    ['large layer cut short', async () => (await dockerArchive([await mkTar([{ name: 'pad', content: bigText, uid: 0, gid: 0 }])], ['cut:big'])).subarray(0, 3 << 20 + 4096), /truncated|missing|unexpected end/],
    ['large gzip layer whose diff ID is wrong', async () => dockerArchive([gzipSync(await mkTar([{ name: 'pad', content: bigText, uid: 0, gid: 0 }]), { level: 1 })], ['bad:bigdiff'], ['sha256:' + 'e'.repeat(64)]), /diff ID/],
    ['a good image, then a hostile one', async () => multiArchive([
      { layers: [plainLayer], tags: ['good:one'] },
      { layers: [await mkTar([{ name: 'l', type: 'symlink', linkname: '/', uid: 0, gid: 0 }, { name: 'l/tmp/evil', content: 'x', uid: 0, gid: 0 }])], tags: ['evil:second'] },
    ]), /symbolic link/],
  ];
  const before = snapshot(root);
  for (const [what, make, msg] of cases) {
    const buf = await make();
    await assert.rejects(svc.load(Readable.from([buf])), (e: Error) => {
      assert.equal(e.name, 'InvalidArgumentError', `${what}: ${e.name}: ${e.message}`);
      assert.match(e.message, msg, what);
      return true;
    }, what);
    assert.deepEqual(snapshot(root), before, `${what}: store unchanged`);
    assert.deepEqual(readdirSync(outsideDir), [], `${what}: nothing outside`);
  }
  await assert.rejects(svc.get('evil:symlink'), { name: 'NotFoundError' });
  await assert.rejects(svc.get('good:one'), { name: 'NotFoundError' }, 'all or nothing');
});

test('import: one-layer image with message and changes; history shows the comment', { skip }, async () => {
  const rootfs = gzipSync(await mkTar([{ name: 'hello.txt', content: 'hello, world!!\n', uid: 0, gid: 0 }]));
  const id = await svc.importRootfs(Readable.from([rootfs]), { repo: 'imported', tag: 'v2', message: 'hello', config: { Cmd: ['/hello.txt'] } });
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  const img = await svc.get('imported:v2');
  assert.equal(img.id, id);
  assert.deepEqual(img.config.config?.Cmd, ['/hello.txt']);
  assert.equal(img.config.comment, 'hello');
  assert.equal(img.size, 15);
  const h = await svc.history('imported:v2');
  assert.equal(h.length, 1);
  assert.deepEqual([h[0]!.Id, h[0]!.CreatedBy, h[0]!.Size, h[0]!.Comment], [id, '', 15, 'hello']);
  // the repo argument may carry the tag (what the docker CLI sends)
  const id2 = await svc.importRootfs(Readable.from([rootfs]), { repo: 'imported:cli' });
  assert.equal((await svc.get('imported:cli')).id, id2);
  // and it saves/loads like any image
  const out = join(base, 'imported.tar');
  await svc.save(['imported:v2'], createWriteStream(out));
  execFileSync('skopeo', ['inspect', `docker-archive:${out}`]);
});

test('prune removes dangling images (and with all, unused ones) and reports the space', { skip }, async () => {
  const dangling = await svc.importRootfs(Readable.from([await mkTar([{ name: 'd.txt', content: 'dangling', uid: 0, gid: 0 }])]), {});
  const r = await svc.prune({ all: false, filters: {} }, new Set());
  assert.deepEqual(r.deleted.filter((d) => d.Deleted === dangling).length, 1);
  assert.equal(r.spaceReclaimed, 8);
  assert.ok((await svc.list()).some((i) => i.repoTags.includes('busybox:1.35')), 'tagged images stay');
  const inUse = new Set([fx('busybox-1.35.tar').image_id]);
  const all = await svc.prune({ all: true, filters: {} }, inUse);
  assert.ok(all.deleted.some((d) => d.Untagged === 'nginx:bookworm'));
  assert.deepEqual((await svc.list()).map((i) => i.id), [fx('busybox-1.35.tar').image_id]);
  assert.equal((await svc.diskUsage()).layersSize, 1985590);
});

test('layers of a removed image stay while a container layer uses them, and go with it', { skip }, async () => {
  await load('layers-test.tar');
  const cid = 'd'.repeat(64);
  await svc.createRwLayer(cid, fx('layers-test.tar').image_id);
  const items = await svc.remove('layers:test', { force: true, noPrune: false }, none);
  assert.deepEqual(items, [{ Untagged: 'layers:test' }, { Deleted: fx('layers-test.tar').image_id }]);
  assert.equal(readdirSync(join(root, 'image/layerdb/sha256')).length, 5);
  await svc.removeRwLayer(cid);
  assert.deepEqual(readdirSync(join(root, 'image/layerdb/sha256')), [fx('busybox-1.35.tar').layers[0]!.diff_id.slice(7)]);
  assert.equal(readdirSync(join(root, 'overlay2')).length, 2, 'busybox\'s layer and l/');
});
