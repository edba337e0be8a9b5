/**
 * Acceptance 6 (issue 4): a named volume outlives its container and is shared by two containers; an anonymous
 * volume gets the image's files; `:ro` is read-only; tmpfs is empty and in memory. Plus the `volume` CLI, its
 * in-use error, `rm -v`, bind mounts and --mount errors, all through the real docker CLI.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, integrationSkip, type Daemon } from '../helpers/daemon.ts';

const IMG = 'busybox:1.35';

describe('volumes', { skip: integrationSkip() }, () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
    await d.load('busybox');
  });
  after(() => d?.cleanup());

  const ok = async (args: string[]) => {
    const r = await d.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r;
  };

  it('volume create, ls, inspect (Mountpoint under <data-root>/volumes), create again is the same volume', async () => {
    assert.equal((await ok(['volume', 'create', '--label', 'a=b', 'myvol'])).stdout, 'myvol\n');
    assert.equal((await ok(['volume', 'create', 'myvol'])).stdout, 'myvol\n');
    const ls = await ok(['volume', 'ls', '--filter', 'name=myvol']);
    assert.equal(ls.stdout, 'DRIVER    VOLUME NAME\nlocal     myvol\n');
    assert.equal((await ok(['volume', 'ls', '-q', '--filter', 'label=a=b'])).stdout, 'myvol\n');
    const [v] = JSON.parse((await ok(['volume', 'inspect', 'myvol'])).stdout) as Record<string, unknown>[];
    assert.deepEqual(Object.keys(v!), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    assert.deepEqual({ ...v, CreatedAt: undefined }, {
      CreatedAt: undefined, Driver: 'local', Labels: { a: 'b' }, Mountpoint: join(d.root, 'volumes', 'myvol', '_data'), Name: 'myvol', Options: null, Scope: 'local',
    });
    // the 20.10 CLI sends `"DriverOpts":{}` (28.2 leaves it out): Options echo what was sent
    assert.equal((await d.docker20(['volume', 'create', 'myvol20'])).stdout, 'myvol20\n');
    const [v20] = JSON.parse((await ok(['volume', 'inspect', 'myvol20'])).stdout) as Record<string, unknown>[];
    assert.deepEqual([v20!.Labels, v20!.Options], [{}, {}]);
    assert.match(String(v!.CreatedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    const missing = await d.docker(['volume', 'inspect', 'nosuchvol']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error response from daemon: get nosuchvol: no such volume\n');
    const missing20 = await d.docker20(['volume', 'inspect', 'nosuchvol']);
    assert.deepEqual([missing20.code, missing20.stdout, missing20.stderr], [1, '[]\n', 'Error: No such volume: nosuchvol\n']);
    const bad = await d.docker(['volume', 'create', 'bad/name']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Error response from daemon: create bad\/name: "bad\/name" includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed\./);
  });

  it('a named volume outlives its container and is shared by two running containers; volume rm of a used volume fails', async () => {
    await ok(['run', '--rm', '-v', 'shared:/data', IMG, 'sh', '-c', 'echo kept > /data/f']);
    assert.equal((await ok(['run', '--rm', '-v', 'shared:/data', IMG, 'cat', '/data/f'])).stdout, 'kept\n');
    // a waits for b's file and answers through the same volume
    const a = (await ok(['run', '-d', '--name', 'va', '-v', 'shared:/s', IMG, 'sh', '-c',
      'while [ ! -f /s/ping ]; do sleep 0.05; done; echo pong > /s/pong; sleep 60'])).stdout.trim();
    const b = await ok(['run', '--rm', '-v', 'shared:/t', IMG, 'sh', '-c',
      'touch /t/ping; i=0; while [ $i -lt 100 ]; do [ -f /t/pong ] && exec cat /t/pong; sleep 0.05; i=$((i+1)); done; exit 1']);
    assert.equal(b.stdout, 'pong\n');
    const rm = await d.docker(['volume', 'rm', 'shared']);
    assert.equal(rm.code, 1);
    assert.equal(rm.stderr, `Error response from daemon: remove shared: volume is in use - [${a}]\n`);
    const mounts = JSON.parse((await ok(['inspect', '--format', '{{json .Mounts}}', 'va'])).stdout) as unknown[];
    assert.deepEqual(mounts, [{
      Type: 'volume', Name: 'shared', Source: join(d.root, 'volumes', 'shared', '_data'), Destination: '/s', Driver: 'local', Mode: 'z', RW: true, Propagation: '',
    }]);
    await ok(['rm', '-f', 'va']);
    assert.equal((await ok(['volume', 'rm', 'shared'])).stdout, 'shared\n');
  });

  it('an anonymous volume gets the image\'s files; rm keeps it, rm -v removes it', async () => {
    const r = await ok(['run', '--name', 'anon', '-v', '/etc', IMG, 'cat', '/etc/group']);
    assert.match(r.stdout, /^root:x:0:/);
    const [m] = JSON.parse((await ok(['inspect', '--format', '{{json .Mounts}}', 'anon'])).stdout) as Record<string, unknown>[];
    const name = String(m!.Name);
    assert.match(name, /^[0-9a-f]{64}$/);
    assert.deepEqual(m, { Type: 'volume', Name: name, Source: join(d.root, 'volumes', name, '_data'), Destination: '/etc', Driver: 'local', Mode: '', RW: true, Propagation: '' });
    assert.match(readFileSync(join(d.root, 'volumes', name, '_data', 'passwd'), 'utf8'), /^root:x:0:0:/);
    const [vol] = JSON.parse((await ok(['volume', 'inspect', name])).stdout) as Record<string, unknown>[];
    assert.equal(vol!.Labels, null);
    assert.equal(vol!.Options, null);
    assert.match((await ok(['volume', 'ls', '-q', '--filter', 'dangling=false'])).stdout, new RegExp(`^${name}$`, 'm'));

    await ok(['create', '--name', 'anon2', '-v', '/etc', IMG]);
    const [m2] = JSON.parse((await ok(['inspect', '--format', '{{json .Mounts}}', 'anon2'])).stdout) as Record<string, unknown>[];
    await ok(['rm', 'anon2']);
    assert.match((await ok(['volume', 'ls', '-q'])).stdout, new RegExp(`^${String(m2!.Name)}$`, 'm'), 'rm without -v keeps the volume');
    await ok(['rm', '-v', 'anon']);
    assert.doesNotMatch((await ok(['volume', 'ls', '-q'])).stdout, new RegExp(name), 'rm -v removes it');
    assert.equal(existsSync(join(d.root, 'volumes', name)), false);
  });

  it('the image\'s VOLUMEs become anonymous volumes filled from the image; -v name:/path replaces one', async () => {
    await ok(['create', '--name', 'exp', IMG]);
    const r = await d.exec('sh', ['-c', `docker export exp | docker import --change 'VOLUME /etc' --change 'CMD ["sh"]' - vol:test`]);
    assert.equal(r.code, 0, r.stderr);
    await ok(['rm', 'exp']);
    const out = await ok(['run', '--name', 'imgvol', 'vol:test', 'cat', '/etc/passwd']);
    assert.match(out.stdout, /^root:x:0:0:/);
    const [m] = JSON.parse((await ok(['inspect', '--format', '{{json .Mounts}}', 'imgvol'])).stdout) as Record<string, unknown>[];
    assert.deepEqual([m!.Type, m!.Destination, m!.Mode, m!.RW], ['volume', '/etc', '', true]);
    assert.match(readFileSync(join(d.root, 'volumes', String(m!.Name), '_data', 'group'), 'utf8'), /^root:x:0:/);
    await ok(['rm', '-v', 'imgvol']);
    assert.equal(existsSync(join(d.root, 'volumes', String(m!.Name))), false);
    const named = await ok(['run', '--rm', '-v', 'etcvol:/etc', 'vol:test', 'ls', '/etc']);
    assert.match(named.stdout, /^passwd$/m, 'an empty named volume is filled too');
    assert.equal((await ok(['volume', 'ls', '-q', '--filter', 'dangling=true'])).stdout.includes('etcvol'), true);
    await ok(['volume', 'rm', 'etcvol']);
    await ok(['rmi', 'vol:test']);
  });

  it(':ro is read-only', async () => {
    await ok(['volume', 'create', 'rovol']);
    const r = await d.docker(['run', '--rm', '-v', 'rovol:/data:ro', IMG, 'touch', '/data/new.txt']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'touch: /data/new.txt: Read-only file system\n');
    const w = await ok(['run', '--rm', '--mount', 'source=rovol,target=/data', IMG, 'sh', '-c', 'touch /data/new.txt && ls /data']);
    assert.equal(w.stdout, 'new.txt\n');
  });

  it('tmpfs is empty and in memory', async () => {
    const r = await ok(['run', '--rm', '--tmpfs', '/scratch', '--mount', 'type=tmpfs,target=/t2,tmpfs-size=1m', IMG, 'sh', '-c',
      'ls -A /scratch | wc -l; grep -E " /(scratch|t2) " /proc/mounts']);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0]!.trim(), '0');
    assert.match(lines[1]!, /^tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec,/);
    assert.match(lines[2]!, /^tmpfs \/t2 tmpfs rw,nosuid,nodev,noexec,.*size=1024k/);
  });

  it('-v host:ctr creates a missing host dir; --mount type=bind needs an existing source; files bind too', async () => {
    const host = join(d.dir, 'binds', 'made');
    await ok(['run', '--rm', '-v', `${host}:/b`, IMG, 'sh', '-c', 'echo x > /b/f']);
    assert.equal(readFileSync(join(host, 'f'), 'utf8'), 'x\n');
    const file = join(d.dir, 'binds', 'one.txt');
    mkdirSync(join(d.dir, 'binds'), { recursive: true });
    writeFileSync(file, 'one\n');
    assert.equal((await ok(['run', '--rm', '--mount', `type=bind,source=${file},target=/one.txt,readonly`, IMG, 'cat', '/one.txt'])).stdout, 'one\n');
    const missing = join(d.dir, 'nosuchdir');
    const r = await d.docker(['run', '--rm', '--mount', `type=bind,source=${missing},target=/x`, IMG, 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, new RegExp(`Error response from daemon: invalid mount config for type "bind": bind source path does not exist: ${missing}`));
    await ok(['run', '--name', 'binder', '-v', `${host}:/b:ro`, IMG, 'true']);
    const [m] = JSON.parse((await ok(['inspect', '--format', '{{json .Mounts}}', 'binder'])).stdout) as unknown[];
    assert.deepEqual(m, { Type: 'bind', Source: host, Destination: '/b', Mode: 'ro', RW: false, Propagation: 'rprivate' });
    await ok(['rm', 'binder']);
  });

  it('--volumes-from shares the volumes of another container, :ro makes them read-only', async () => {
    await ok(['create', '--name', 'src', '-v', 'fromvol:/shared', IMG]);
    await ok(['run', '--rm', '--volumes-from', 'src', IMG, 'sh', '-c', 'echo via > /shared/v']);
    const r = await d.docker(['run', '--rm', '--volumes-from', 'src:ro', IMG, 'sh', '-c', 'cat /shared/v; touch /shared/w']);
    assert.equal(r.stdout, 'via\n');
    assert.equal(r.stderr, 'touch: /shared/w: Read-only file system\n');
    await ok(['rm', 'src']);
  });

  it('volumes and their users survive a daemon restart', async () => {
    await ok(['run', '-d', '--name', 'keeper', '--stop-timeout', '1', '-v', 'persist:/p', IMG, 'sh', '-c', 'echo x > /p/f; sleep 300']);
    await ok(['run', '--rm', '-v', 'persist:/p', IMG, 'sh', '-c', 'while [ ! -f /p/f ]; do sleep 0.05; done']);
    await d.restart();
    assert.match((await ok(['volume', 'ls', '-q'])).stdout, /^persist$/m);
    assert.equal((await ok(['run', '--rm', '-v', 'persist:/p', IMG, 'cat', '/p/f'])).stdout, 'x\n');
    const rm = await d.docker(['volume', 'rm', 'persist']);
    assert.match(rm.stderr, /^Error response from daemon: remove persist: volume is in use - \[[0-9a-f]{64}\]\n$/);
    await ok(['rm', '-f', 'keeper']);
    await ok(['volume', 'rm', 'persist']);
  });

  it('volume prune removes the unused volumes and reports them', async () => {
    await ok(['volume', 'create', 'prunable']);
    writeFileSync(join(d.root, 'volumes', 'prunable', '_data', 'blob'), Buffer.alloc(2000));
    const r = await ok(['volume', 'prune', '-f']);
    assert.match(r.stdout, /^Deleted Volumes:\n(.+\n)*prunable\n(.+\n)*\nTotal reclaimed space: \d/);
    assert.equal((await ok(['volume', 'ls', '-q', '--filter', 'name=prunable'])).stdout, '');
  });
});
