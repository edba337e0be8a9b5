/** Issue 4 §1: `commit` (-a -m -c -p): a committed image runs and keeps the changes (added, changed, deleted, hardlinked files). */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, integrationSkip, DOCKER, type Daemon } from '../helpers/daemon.ts';

describe('commit', { skip: integrationSkip() }, () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
    await d.load('busybox');
  });
  after(() => d?.cleanup());

  it('keeps the changes, applies -c, records -a and -m, and stacks on the image', async () => {
    const mk = await d.docker(['run', '--name', 'cm', '-e', 'FROM_RUN=1', 'busybox:1.35', 'sh', '-c',
      'echo hello > /hello.txt; rm /bin/vi; mkdir -p /d/e; ln /hello.txt /d/hl; rm -rf /home; mkdir /home; touch /home/new']);
    assert.equal(mk.code, 0, mk.stderr);
    const c = await d.docker(['commit', '-a', 'me <me@example.org>', '-m', 'my msg', '-c', 'CMD ["cat","/hello.txt"]', '-c', 'ENV X=1', 'cm', 'myimg:v1']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.deepEqual(await d.docker(['run', '--rm', 'myimg:v1']), { stdout: 'hello\n', stderr: '', code: 0 });
    const r = await d.docker(['run', '--rm', 'myimg:v1', 'sh', '-c', 'test -e /bin/vi || echo vi gone; echo $X $FROM_RUN; [ /hello.txt -ef /d/hl ] && echo linked; ls -A /home']);
    assert.equal(r.stdout, 'vi gone\n1 1\nlinked\nnew\n');
    const busybox = (await d.docker(['inspect', '-f', '{{.Id}}', 'busybox:1.35'])).stdout.trim();
    const i = await d.docker(['inspect', '-f', '{{.Author}}|{{.Comment}}|{{json .Config.Cmd}}|{{.Parent}}|{{len .RootFS.Layers}}|{{.Container}}', 'myimg:v1']);
    const cid = (await d.docker(['inspect', '-f', '{{.Id}}', 'cm'])).stdout.trim();
    assert.equal(i.stdout, `me <me@example.org>|my msg|["cat","/hello.txt"]|${busybox}|2|${cid}\n`);
    const h = await d.docker(['history', '--format', '{{.CreatedBy}}|{{.Comment}}', 'myimg:v1']);
    assert.match(h.stdout.split('\n')[0]!, /^sh -c echo hello > \/hello\.txt; .*\|my msg$/);
  });

  it('an unchanged container commits to an image without a new layer; a running one is paused and resumed', async () => {
    const t0 = Math.floor(Date.now() / 1000) - 1;
    assert.equal((await d.docker(['create', '--name', 'same', 'busybox:1.35', 'true'])).code, 0);
    const c = await d.docker(['commit', 'same', 'same:img']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal((await d.docker(['inspect', '-f', '{{len .RootFS.Layers}}', 'same:img'])).stdout, '1\n');
    assert.equal((await d.docker(['run', '-d', '--name', 'live', 'busybox:1.35', 'sh', '-c', 'echo x > /x; sleep 1000'])).code, 0);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await d.docker(['commit', 'live', 'live:img'])).code, 0);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}}', 'live'])).stdout, 'running\n');
    assert.equal((await d.docker(['run', '--rm', 'live:img', 'cat', '/x'])).stdout, 'x\n');
    // import without -m says where the image came from; the tag event names the tag as the user wrote it
    const imp = await d.exec('sh', ['-c', `${DOCKER} export live | ${DOCKER} import - imp:test`], { env: { DOCKER_HOST: d.host } });
    assert.equal(imp.code, 0, imp.stderr);
    assert.equal((await d.docker(['history', '--format', '{{.Comment}}', 'imp:test'])).stdout, 'Imported from -\n');
    assert.equal((await d.docker(['tag', 'imp:test', 'evtag:1'])).code, 0);
    const ev = await d.docker(['events', '--since', String(t0), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'event=tag', '--format', '{{.Actor.Attributes.name}}']);
    // the tags that commit, import and `docker tag` gave, in order, each in its familiar form (as dockerd)
    assert.deepEqual(ev.stdout.trim().split('\n').slice(-4), ['same:img', 'live:img', 'imp:test', 'evtag:1']);
    assert.doesNotMatch(ev.stdout, /docker\.io\//);
    const missing = await d.docker(['commit', 'nosuch']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such container: nosuch/);
  });
});
