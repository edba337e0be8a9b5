/** Acceptance 6: bad input gets Docker's error and exit code and leaves the store as it was. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { startDaemon, integrationSkip, fixtureInfo, FIXTURES, FIXTURE_FILES, type Daemon } from '../helpers/daemon.ts';
import { tarEntries } from '../helpers/archives.ts';
import { hostileArchive, type HostileKind } from '../helpers/archives.ts';

const docker = process.env.BERTH_TEST_ENGINE === 'docker';

describe('bad input', { skip: integrationSkip() }, () => {
  let d: Daemon;
  const state = async (): Promise<string> => {
    const i = await d.docker(['images', '-a', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}']);
    const c = await d.docker(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.State}}']);
    const sorted = (t: string) => t.split('\n').filter(Boolean).sort().join('\n');
    return sorted(i.stdout) + '\n--\n' + sorted(c.stdout);
  };
  before(async () => {
    d = await startDaemon();
    await d.load('busybox');
  });
  after(() => d?.cleanup());

  it('a truncated archive is refused and the store stays as it was', async () => {
    const before = await state();
    const whole = readFileSync(join(FIXTURES, FIXTURE_FILES.layers));
    const cut = join(d.dir, 'truncated.tar');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const r = await d.docker(['load', '-i', cut]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\S/);
    assert.equal(await state(), before);
  });

  it('a corrupted layer (digest mismatch) is refused', async () => {
    const before = await state();
    const buf = Buffer.from(readFileSync(join(FIXTURES, FIXTURE_FILES.layers)));
    // flip bytes inside the top layer's blob (not shared with busybox, which the store already has), keeping the tar structure
    const layers = (fixtureInfo() as { images: { file: string; layers: { blob_digest: string }[] }[] }).images
      .find((f) => f.file === FIXTURE_FILES.layers)!.layers;
    const blob = tarEntries(buf).find((e) => e.name === `blobs/sha256/${layers.at(-1)!.blob_digest.slice(7)}`)!;
    assert.ok(blob && blob.size > 600, 'top layer blob found');
    for (let i = 0; i < 8; i++) {
      const at = blob.offset + 512 + Math.floor(((blob.size - 512) * i) / 8);
      buf[at] = buf[at]! ^ 0xff;
    }
    const bad = join(d.dir, 'corrupt.tar');
    writeFileSync(bad, buf);
    const r = await d.docker(['load', '-i', bad]);
    assert.equal(r.code, 1, r.stdout);
    assert.equal(await state(), before);
  });

  it('not a tar at all', async () => {
    const r = await d.docker(['load'], { input: 'hello, this is no archive\n'.repeat(100) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error response from daemon|Error/);
  });

  for (const kind of ['dotdot', 'absolute', 'symlink', 'hardlink'] as HostileKind[]) {
    it(`a hostile archive (${kind} escape) writes nothing outside the store${docker ? ' (Docker 20.10 confines instead of refusing)' : ''}`, async () => {
      const before = await state();
      const victimDir = join(d.dir, `victim-${kind}`);
      mkdirSync(victimDir, { recursive: true });
      const target = join(victimDir, 'pwned');
      if (kind === 'hardlink') writeFileSync(target, 'secret\n');
      const tar = join(d.dir, `evil-${kind}.tar`);
      hostileArchive(tar, kind, target);
      const r = await d.docker(['load', '-i', tar]);
      if (kind === 'hardlink') assert.equal(readFileSync(target, 'utf8'), 'secret\n');
      else assert.equal(existsSync(target), false, `${target} was written`);
      if (!docker) {
        assert.equal(r.code, 1, r.stdout);
        assert.match(r.stderr, /\S/);
        assert.equal(await state(), before);
      } else {
        await d.docker(['rmi', `evil-${kind}:latest`]);
      }
      rmSync(victimDir, { recursive: true, force: true });
    });
  }

  it('unknown image: run says Unable to find image, rmi/inspect say No such image', async () => {
    const r = await d.docker(['run', '--rm', 'nosuch:latest']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Unable to find image 'nosuch:latest' locally$/m);
    const rmi = await d.docker(['rmi', 'nosuch']);
    assert.equal(rmi.code, 1);
    assert.match(rmi.stderr, /No such image: nosuch/);
    const ins = await d.docker(['image', 'inspect', 'nosuch']);
    assert.equal(ins.code, 1);
    assert.match(ins.stderr, /No such image: nosuch/);
  });

  it('name conflict, rm of a running container, no such container', async () => {
    const a = await d.docker(['run', '-d', '--name', 'web', 'busybox:1.35', 'sleep', '1000']);
    assert.equal(a.code, 0, a.stderr);
    const id = a.stdout.trim();
    const before = await state();
    const b = await d.docker(['run', '-d', '--name', 'web', 'busybox:1.35', 'sleep', '1000']);
    assert.equal(b.code, 125);
    assert.match(b.stderr, new RegExp(`Conflict\\. The container name "/web" is already in use by container "${id}"\\. You have to remove \\(or rename\\) that container to be able to reuse that name\\.`));
    const rm = await d.docker(['rm', 'web']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, new RegExp(`You cannot remove a running container ${id}\\. Stop the container before attempting removal or force remove`));
    const rmi = await d.docker(['rmi', '0dcfc6fe9a75']);
    assert.equal(rmi.code, 1);
    assert.match(rmi.stderr, /conflict: unable to delete 0dcfc6fe9a75 \(must be forced\) - image is referenced in multiple repositories|image is being used by running container/);
    assert.equal(await state(), before);
    const none = await d.docker(['rm', 'nosuch']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /No such container: nosuch/);
    assert.equal((await d.docker(['rm', '-f', 'web'])).code, 0);
  });
});
