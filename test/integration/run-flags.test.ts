/**
 * Issue 3 §4: each `run` flag lands in the OCI spec that runc gets, and the user sees its effect inside
 * the container. The docker CLI → API → engine → spec chain, read back from the bundle's config.json.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, integrationSkip, engineKind, type Daemon } from '../helpers/daemon.ts';
import type { Spec } from '../../src/oci/index.ts';

describe('run flags', { skip: integrationSkip() || (engineKind() === 'docker' && 'reads berth\'s bundle') }, () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
    await d.load('busybox');
  });
  after(() => d?.cleanup());

  /** `docker run -d` with flags, then the runtime spec berth wrote for it. */
  async function runSpec(flags: string[], cmd = ['sleep', '1000']): Promise<{ id: string; spec: Spec }> {
    const r = await d.docker(['run', '-d', ...flags, 'busybox:1.35', ...cmd]);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    const spec = JSON.parse(readFileSync(join(d.execRoot, 'c', id, 'config.json'), 'utf8')) as Spec;
    return { id, spec };
  }

  it('-e -w -u -h -l --entrypoint --env-file land in the process and the container sees them', async () => {
    const envFile = join(d.dir, 'env.list');
    writeFileSync(envFile, '# comment\nFROM_FILE=yes\n');
    const { id, spec } = await runSpec(['--name', 'f1', '-e', 'A=1', '--env-file', envFile, '-w', '/tmp', '-u', 'nobody', '-h', 'box.example', '-l', 'k=v', '--entrypoint', 'sleep'], ['1000']);
    const p = spec.process!;
    assert.deepEqual(p.args, ['sleep', '1000']);
    assert.ok(p.env!.includes('A=1') && p.env!.includes('FROM_FILE=yes') && p.env!.includes('HOSTNAME=box.example'), p.env!.join(' '));
    assert.equal(p.cwd, '/tmp');
    assert.equal(p.user.uid, 65534);
    assert.equal(p.user.gid, 65534);
    assert.equal(spec.hostname, 'box.example');
    // The user sees the same inside a container run with these flags.
    const seen = await d.docker(['run', '--rm', '-e', 'A=1', '--env-file', envFile, '-w', '/tmp', '-u', 'nobody', '-h', 'box.example', 'busybox:1.35', 'sh', '-c', 'echo $A $FROM_FILE $(id -u) $(pwd) $(hostname)']);
    assert.equal(seen.stdout, '1 yes 65534 /tmp box.example\n', seen.stderr);
    const lbl = await d.docker(['inspect', '-f', '{{index .Config.Labels "k"}} {{.Config.WorkingDir}} {{.Config.User}}', id]);
    assert.equal(lbl.stdout, 'v /tmp nobody\n');
  });

  it('--privileged, --cap-add/--cap-drop, --read-only, no-new-privileges, --ulimit land in the spec', async () => {
    const caps = (await runSpec(['--cap-add', 'SYS_ADMIN', '--cap-drop', 'NET_RAW', '--read-only', '--security-opt', 'no-new-privileges', '--ulimit', 'nofile=1024:2048'])).spec;
    assert.ok(caps.process!.capabilities!.bounding!.includes('CAP_SYS_ADMIN'));
    assert.ok(!caps.process!.capabilities!.bounding!.includes('CAP_NET_RAW'));
    assert.equal(caps.root!.readonly, true);
    assert.equal(caps.process!.noNewPrivileges, true);
    assert.deepEqual(caps.process!.rlimits!.find((l) => l.type === 'RLIMIT_NOFILE'), { type: 'RLIMIT_NOFILE', hard: 2048, soft: 1024 });
    const priv = (await runSpec(['--privileged'])).spec;
    assert.ok(priv.process!.capabilities!.bounding!.length >= 38, 'all capabilities');
    assert.deepEqual(priv.linux!.maskedPaths ?? [], []);
    // The user sees it: a read-only rootfs refuses writes, the ulimit is the soft one.
    const ro = await d.docker(['run', '--rm', '--read-only', '--ulimit', 'nofile=1024:2048', 'busybox:1.35', 'sh', '-c', 'ulimit -n; touch /x 2>&1; echo rc=$?']);
    assert.equal(ro.code, 0, ro.stderr);
    assert.match(ro.stdout, /^1024\ntouch: \/x: Read-only file system\nrc=1\n$/);
  });

  it('/proc/sys is read-only without --privileged and writable with it (NS-10, NS-11)', async () => {
    const plain = await d.docker(['run', '--rm', 'busybox:1.35', 'sysctl', '-w', 'net.ipv4.ip_forward=1']);
    assert.match(plain.stderr + plain.stdout, /Read-only file system/);
    const priv = await d.docker(['run', '--rm', '--privileged', 'busybox:1.35', 'sysctl', '-w', 'net.ipv4.ip_forward=1']);
    assert.equal(priv.stdout, 'net.ipv4.ip_forward = 1\n');
  });

  it('--init runs docker-init as PID 1; --network none has only loopback; --network host shares the netns', async () => {
    const init = await runSpec(['--init']);
    assert.equal(init.spec.process!.args[0], '/sbin/docker-init');
    assert.ok(init.spec.mounts!.some((m) => m.destination === '/sbin/docker-init'));
    const none = await d.docker(['run', '--rm', '--network', 'none', 'busybox:1.35', 'sh', '-c', 'ls /sys/class/net']);
    assert.equal(none.stdout, 'lo\n');
    const host = await runSpec(['--network', 'host']);
    assert.ok(!host.spec.linux!.namespaces!.some((n) => n.type === 'network'), 'no network namespace entry with host networking');
  });

  it('--stop-signal and --stop-timeout are kept for stop; pid, ipc, uts and mount namespaces are new', async () => {
    const { id, spec } = await runSpec(['--stop-signal', 'SIGUSR1', '--stop-timeout', '3']);
    const types = spec.linux!.namespaces!.map((n) => n.type).sort();
    for (const t of ['ipc', 'mount', 'network', 'pid', 'uts'] as const) assert.ok(types.includes(t), `${t} in ${types}`);
    const i = await d.docker(['inspect', '-f', '{{.Config.StopSignal}} {{.Config.StopTimeout}}', id]);
    assert.equal(i.stdout, 'SIGUSR1 3\n');
  });
});
