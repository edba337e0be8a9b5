/**
 * Acceptance 4 (issue 4): limits enforced by cgroups, through the stock docker CLI. The OOM killer ends a container
 * over --memory (137, OOMKilled, an oom event); --cpus 0.5 holds a busy loop near half a core; --pids-limit 20 stops
 * a fork loop at 20 tasks; update --memory changes the limit live; stats --no-stream prints a sane row.
 * Cgroup files are read from the host through the container init's /proc/<pid>/cgroup (v1 or v2).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, integrationSkip, type Daemon } from '../helpers/daemon.ts';

/** The host directory of a container's cgroup for a v1 controller (or the v2 group). */
function cgroupDir(pid: number, controller: string): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const v1 = lines.find((l) => l.split(':')[1]!.split(',').includes(controller));
  if (v1) return join('/sys/fs/cgroup', controller, v1.split(':')[2]!);
  return join('/sys/fs/cgroup', lines.find((l) => l.startsWith('0::'))!.slice(3));
}

/** Cumulative CPU time of the container's cgroup, ns. */
function cpuUsage(pid: number): number {
  const dir = cgroupDir(pid, 'cpuacct');
  try { return Number(readFileSync(join(dir, 'cpuacct.usage'), 'utf8')); } catch { /* v2 */ }
  const m = /^usage_usec (\d+)$/m.exec(readFileSync(join(dir, 'cpu.stat'), 'utf8'));
  return Number(m![1]) * 1000;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('resources', { skip: integrationSkip() }, () => {
  let d: Daemon;
  const pidOf = async (name: string) => Number((await d.docker(['inspect', '-f', '{{.State.Pid}}', name])).stdout.trim());
  before(async () => {
    d = await startDaemon();
    await d.load('busybox');
  });
  after(() => d?.cleanup());

  it('a process allocating past --memory 32m is OOM-killed: exit 137, OOMKilled true, an oom event', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const r = await d.docker(['run', '--name', 'oom', '-m', '32m', '--network', 'none', 'busybox:1.35', 'sh', '-c', 'a=xxxxxxxxxxxxxxxx; while :; do a="$a$a"; done']);
    assert.equal(r.code, 137, r.stderr);
    const st = await d.docker(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}', 'oom']);
    assert.equal(st.stdout, 'true 137 33554432 67108864\n');
    const ev = await d.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1),
      '--filter', 'container=oom', '--format', '{{.Action}}']);
    assert.match(ev.stdout, /^create\n(attach\n)?start\noom\ndie\n$/);
    await d.docker(['rm', 'oom']);
  });

  it('--cpus 0.5 holds a busy loop near 50% of one core', async () => {
    const r = await d.docker(['run', '-d', '--name', 'cpu', '--cpus', '0.5', '--network', 'none', 'busybox:1.35', 'sh', '-c', 'while :; do :; done']);
    assert.equal(r.code, 0, r.stderr);
    try {
      const pid = await pidOf('cpu');
      await sleep(300);
      const t0 = performance.now();
      const u0 = cpuUsage(pid);
      await sleep(2000);
      const ratio = (cpuUsage(pid) - u0) / ((performance.now() - t0) * 1e6);
      // the limit is the upper bound; on a machine busy with other tests the loop may get less than its half core
      assert.ok(ratio > 0.2 && ratio < 0.6, `CPU share ${ratio.toFixed(3)}`);
    } finally {
      await d.docker(['rm', '-f', 'cpu']);
    }
  });

  it('--pids-limit 20 stops a fork loop once 20 tasks exist', async () => {
    // the inner shell forks sleeps until fork fails (it then exits); the outer one counts as a task throughout
    const loop = 'i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); echo started $i; done';
    const r = await d.docker(['run', '-d', '--name', 'pids', '--pids-limit', '20', '--network', 'none', 'busybox:1.35', 'sh', '-c',
      `sh -c '${loop}'; echo done; sleep 30`]);
    assert.equal(r.code, 0, r.stderr);
    try {
      let logs = '';
      for (let i = 0; i < 50 && !logs.includes('done'); i++) {
        await sleep(100);
        const l = await d.docker(['logs', 'pids']);
        logs = l.stdout + l.stderr;
      }
      assert.match(logs, /can't fork/);
      // 2 shells + 18 sleeps = 20 tasks when the 19th fork failed
      assert.match(logs, /started 18\n(?![\s\S]*started 19)/);
      const dir = cgroupDir(await pidOf('pids'), 'pids');
      assert.equal(readFileSync(join(dir, 'pids.max'), 'utf8').trim(), '20');
      // the inner shell is gone; the outer one exec'd its last command: 1 + 18 sleeps
      assert.equal(readFileSync(join(dir, 'pids.current'), 'utf8').trim(), '19');
    } finally {
      await d.docker(['rm', '-f', 'pids']);
    }
  });

  it('update --memory 64m changes the limit of a running container; stats --no-stream shows it', async () => {
    const r = await d.docker(['run', '-d', '--name', 'upd', '-m', '32m', 'busybox:1.35', 'sleep', '300']);
    assert.equal(r.code, 0, r.stderr);
    try {
      const u = await d.docker(['update', '--memory', '64m', 'upd']);
      assert.equal(u.code, 0, u.stderr);
      assert.equal(u.stdout, 'upd\n');
      const inCtr = await d.docker(['exec', 'upd', 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max']);
      assert.equal(inCtr.stdout, '67108864\n', inCtr.stderr);
      const mem = cgroupDir(await pidOf('upd'), 'memory');
      const file = mem.includes('/memory/') ? 'memory.limit_in_bytes' : 'memory.max';
      assert.equal(readFileSync(join(mem, file), 'utf8').trim(), '67108864');
      assert.equal((await d.docker(['inspect', '-f', '{{.HostConfig.Memory}}', 'upd'])).stdout, '67108864\n');

      const bad = await d.docker(['update', '--memory', '1m', 'upd']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /Minimum memory limit allowed is 6MB/);

      const s = await d.docker(['stats', '--no-stream', 'upd']);
      assert.equal(s.code, 0, s.stderr);
      const [head, row, ...rest] = s.stdout.split('\n');
      assert.match(head!, /^CONTAINER ID {3}NAME {3,}CPU % {3,}MEM USAGE \/ LIMIT {3,}MEM % {3,}NET I\/O {3,}BLOCK I\/O {3,}PIDS$/);
      assert.match(row!, /^[0-9a-f]{12} {3}upd {7}\d+\.\d\d% {4,}\d+(\.\d+)?[KM]iB \/ 64MiB {3,}\d+\.\d\d% {4,}\d+(\.\d+)?k?B \/ \d+(\.\d+)?k?B {3,}\d+(\.\d+)?[kM]?B \/ \d+(\.\d+)?[kM]?B {3,}1$/);
      assert.deepEqual(rest, ['']);
      const j = await d.docker(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.MemUsage}}', 'upd']);
      assert.match(j.stdout, /^upd 1 \d+(\.\d+)?[KM]iB \/ 64MiB\n$/);
      if (d.engine === 'berth') {
        const bu = await d.berth(['update', '--memory', '48m', '--memory-swap', '96m', '--pids-limit', '50', 'upd']);
        assert.equal(bu.stdout, 'upd\n', bu.stderr);
        assert.equal(readFileSync(join(cgroupDir(await pidOf('upd'), 'pids'), 'pids.max'), 'utf8').trim(), '50');
        const bs = await d.berth(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.MemUsage}} {{.MemPerc}}', 'upd']);
        assert.match(bs.stdout, /^upd 1 \d+(\.\d+)?[KM]iB \/ 48MiB \d+\.\d\d%\n$/, bs.stderr);
      }
    } finally {
      await d.docker(['rm', '-f', 'upd']);
    }
  });

  it('--blkio-weight is accepted with Docker\'s warning (no BFQ weight here); bad values are refused', async () => {
    const r = await d.docker(['run', '--rm', '--network', 'none', '--blkio-weight', '300', 'busybox:1.35', 'true']);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, 'WARNING: Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.\n');
    const m = await d.docker(['run', '--rm', '-m', '4m', 'busybox:1.35', 'true']);
    assert.equal(m.code, 125);
    assert.match(m.stderr, /Minimum memory limit allowed is 6MB/);
  });
});
