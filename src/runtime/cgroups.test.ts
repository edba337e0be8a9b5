import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseMountinfo, dirsForPath, dirsFromProcCgroup, cgroupPathOf, expandSlice, parseBlkioV1, parseIoStatV2, parseNetDev, parseProcStat,
  readCgroupStats, updateCgroupResources, sharesToWeight, cgroupSupport,
} from './cgroups.ts';

/** This host: cgroup v1 with cpu and cpuacct on separate mounts, cgroup2 on /sys/fs/cgroup/unified. */
const HYBRID = `22 1 0:21 / / rw,relatime - overlay overlay rw
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

/** A systemd host with co-mounted cpu,cpuacct (symlinked dirs). */
const COMOUNT = `25 22 0:23 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
26 22 0:24 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
`;

/** Pure cgroup v2 (Debian 12 default). */
const V2 = `22 1 0:21 / / rw - ext4 /dev/sda1 rw
29 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

test('mountinfo: v1 hybrid keeps cpu and cpuacct apart and is version 1', () => {
  const m = parseMountinfo(HYBRID);
  assert.equal(m.version, 1);
  assert.equal(m.v1.get('cpu')?.mountpoint, '/sys/fs/cgroup/cpu');
  assert.equal(m.v1.get('cpuacct')?.mountpoint, '/sys/fs/cgroup/cpuacct');
  assert.equal(m.unified?.mountpoint, '/sys/fs/cgroup/unified');
  const d = dirsForPath(m, cgroupPathOf('/berth/abc'));
  assert.deepEqual(d, {
    version: 1, memory: '/sys/fs/cgroup/memory/berth/abc', cpu: '/sys/fs/cgroup/cpu/berth/abc', cpuacct: '/sys/fs/cgroup/cpuacct/berth/abc',
    cpuset: '/sys/fs/cgroup/cpuset/berth/abc', pids: '/sys/fs/cgroup/pids/berth/abc', blkio: '/sys/fs/cgroup/blkio/berth/abc',
  });
});

test('mountinfo: co-mounted cpu,cpuacct share one directory', () => {
  const m = parseMountinfo(COMOUNT);
  const d = dirsForPath(m, '/docker/x');
  assert.equal(d.cpu, '/sys/fs/cgroup/cpu,cpuacct/docker/x');
  assert.equal(d.cpuacct, '/sys/fs/cgroup/cpu,cpuacct/docker/x');
  assert.equal(d.pids, undefined);
});

test('mountinfo: pure v2', () => {
  const m = parseMountinfo(V2);
  assert.equal(m.version, 2);
  assert.deepEqual(dirsForPath(m, cgroupPathOf('/berth/abc')), { version: 2, unified: '/sys/fs/cgroup/berth/abc' });
  assert.deepEqual(dirsForPath(m, cgroupPathOf('system.slice:docker:abc')), { version: 2, unified: '/sys/fs/cgroup/system.slice/docker-abc.scope' });
});

test('systemd cgroupsPath: slices expand like runc', () => {
  assert.equal(expandSlice('system.slice'), '/system.slice');
  assert.equal(expandSlice('a-b-c.slice'), '/a.slice/a-b.slice/a-b-c.slice');
  assert.equal(cgroupPathOf(':berth:abc'), '/system.slice/berth-abc.scope');
  assert.equal(cgroupPathOf('berth/abc'), '/berth/abc');
});

test('/proc/<pid>/cgroup: paths under a mount whose root is not /', () => {
  const m = parseMountinfo('34 30 0:31 /outer /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n');
  const d = dirsFromProcCgroup(m, '4:memory:/outer/berth/abc\n0::/\n');
  assert.equal(d.memory, '/sys/fs/cgroup/memory/berth/abc');
  const v2 = dirsFromProcCgroup(parseMountinfo(V2), '0::/berth/abc\n');
  assert.equal(v2.unified, '/sys/fs/cgroup/berth/abc');
});

test('blkio, io.stat, net/dev and /proc/stat parsing', () => {
  assert.deepEqual(parseBlkioV1('8:0 Read 4096\n8:0 Write 512\n8:0 Total 4608\nTotal 4608\n'), [
    { major: 8, minor: 0, op: 'Read', value: 4096 }, { major: 8, minor: 0, op: 'Write', value: 512 }, { major: 8, minor: 0, op: 'Total', value: 4608 },
  ]);
  assert.deepEqual(parseIoStatV2('259:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n').bytes, [
    { major: 259, minor: 0, op: 'read', value: 100 }, { major: 259, minor: 0, op: 'write', value: 200 },
  ]);
  const net = parseNetDev(`Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  eth0:    3835      47    1    2    0     0          0         0     3412      22    3    4    0     0       0          0
`);
  assert.deepEqual(net, { eth0: { rx_bytes: 3835, rx_packets: 47, rx_errors: 1, rx_dropped: 2, tx_bytes: 3412, tx_packets: 22, tx_errors: 3, tx_dropped: 4 } });
  const s = parseProcStat('cpu  100 1 50 1000 10 0 5 7 0 0\ncpu0 50 0 25 500 5 0 2 0 0 0\ncpu1 50 1 25 500 5 0 3 0 0 0\nintr 1\n');
  assert.deepEqual(s, { systemUsage: 1166 * 1e7, onlineCpus: 2 });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-cg-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

test('v1 stats: cpuacct, cpu.stat, memory, pids, blkio (throttle fallback)', async () => {
  const root = tree({
    'cpuacct/c/cpuacct.usage': '178466989\n', 'cpuacct/c/cpuacct.usage_percpu': '108555339 69911650 \n', 'cpuacct/c/cpuacct.stat': 'user 10\nsystem 7\n',
    'cpu/c/cpu.stat': 'nr_periods 15\nnr_throttled 2\nthrottled_time 300\n',
    'memory/c/memory.usage_in_bytes': '2699264\n', 'memory/c/memory.max_usage_in_bytes': '4808704\n', 'memory/c/memory.limit_in_bytes': '67108864\n',
    'memory/c/memory.stat': 'cache 49152\nrss 1994752\nshmem 0\ntotal_inactive_file 4096\nhierarchical_memory_limit 67108864\n',
    'pids/c/pids.current': '3\n', 'pids/c/pids.max': 'max\n',
    'blkio/c/blkio.throttle.io_service_bytes_recursive': '8:0 Read 4096\n8:0 Write 0\nTotal 4096\n', 'blkio/c/blkio.throttle.io_serviced_recursive': '8:0 Read 1\n',
  });
  try {
    const s = await readCgroupStats({ version: 1, cpu: join(root, 'cpu/c'), cpuacct: join(root, 'cpuacct/c'), memory: join(root, 'memory/c'), pids: join(root, 'pids/c'), blkio: join(root, 'blkio/c') });
    assert.deepEqual(s.cpu, { total: 178466989, percpu: [108555339, 69911650], user: 100000000, system: 70000000, periods: 15, throttledPeriods: 2, throttledTime: 300 });
    assert.equal(s.memory.usage, 2699264);
    assert.equal(s.memory.maxUsage, 4808704);
    assert.equal(s.memory.limit, 67108864);
    assert.equal(s.memory.stats.total_inactive_file, 4096);
    assert.equal(s.memory.stats.hierarchical_memory_limit, 67108864);
    assert.equal(Object.keys(s.memory.stats).length, 32);
    assert.equal(s.memory.stats.shmem, undefined, 'only the keys Docker reports');
    assert.deepEqual(s.pids, { current: 3, limit: 0 });
    assert.deepEqual(s.blkio.serviceBytes, [{ major: 8, minor: 0, op: 'Read', value: 4096 }, { major: 8, minor: 0, op: 'Write', value: 0 }]);
  } finally { rmSync(root, { recursive: true }); }
});

test('v2 stats: cpu.stat in µs, memory.current/max, pids', async () => {
  const root = tree({
    'c/cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20\n',
    'c/memory.current': '1048576\n', 'c/memory.max': '33554432\n', 'c/memory.stat': 'anon 1000\ninactive_file 24\n',
    'c/pids.current': '2\n', 'c/pids.max': '20\n', 'c/io.stat': '8:0 rbytes=10 wbytes=20 rios=1 wios=2\n',
  });
  try {
    const s = await readCgroupStats({ version: 2, unified: join(root, 'c') });
    assert.deepEqual(s.cpu, { total: 1500000, user: 1000000, system: 500000, periods: 4, throttledPeriods: 1, throttledTime: 20000 });
    assert.deepEqual(s.memory, { usage: 1048576, limit: 33554432, stats: { anon: 1000, inactive_file: 24 } });
    assert.deepEqual(s.pids, { current: 2, limit: 20 });
    assert.equal(s.blkio.serviceBytes.length, 2);
  } finally { rmSync(root, { recursive: true }); }
});

test('v1 update: raising memory above memsw writes memsw first; pids and cpu files', async () => {
  const root = tree({
    'memory/c/memory.limit_in_bytes': '33554432', 'memory/c/memory.memsw.limit_in_bytes': '67108864',
    'cpu/c/cpu.cfs_quota_us': '-1', 'pids/c/pids.max': 'max',
  });
  try {
    const d = { version: 1 as const, memory: join(root, 'memory/c'), cpu: join(root, 'cpu/c'), pids: join(root, 'pids/c') };
    await updateCgroupResources(d, { memory: 67108864, memorySwap: 134217728, cpuQuota: 50000, pidsLimit: 0 });
    assert.equal(readFileSync(join(d.memory, 'memory.limit_in_bytes'), 'utf8'), '67108864');
    assert.equal(readFileSync(join(d.memory, 'memory.memsw.limit_in_bytes'), 'utf8'), '134217728');
    assert.equal(readFileSync(join(d.cpu, 'cpu.cfs_quota_us'), 'utf8'), '50000');
    assert.equal(readFileSync(join(d.pids, 'pids.max'), 'utf8'), 'max');
    await assert.rejects(updateCgroupResources({ version: 1 }, { cpuShares: 512 }), /cpu.shares/);
  } finally { rmSync(root, { recursive: true }); }
});

test('v2 update: cpu.max keeps the period it is not given; shares become a weight', async () => {
  const root = tree({ 'c/cpu.max': 'max 100000\n', 'c/memory.max': 'max', 'c/memory.swap.max': 'max' });
  try {
    await updateCgroupResources({ version: 2, unified: join(root, 'c') }, { cpuQuota: 50000, memory: 67108864, memorySwap: 134217728, cpuShares: 1024 });
    assert.equal(readFileSync(join(root, 'c/cpu.max'), 'utf8'), '50000 100000');
    assert.equal(readFileSync(join(root, 'c/memory.max'), 'utf8'), '67108864');
    assert.equal(readFileSync(join(root, 'c/memory.swap.max'), 'utf8'), '67108864');
    assert.equal(readFileSync(join(root, 'c/cpu.weight'), 'utf8'), '39');
  } finally { rmSync(root, { recursive: true }); }
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(262144), 10000);
});

test('support: v1 root files decide (no blkio.weight without BFQ/CFQ)', async () => {
  const root = tree({
    'memory/memory.limit_in_bytes': '', 'memory/memory.memsw.limit_in_bytes': '', 'memory/memory.soft_limit_in_bytes': '', 'memory/memory.oom_control': '',
    'memory/memory.swappiness': '', 'cpu/cpu.shares': '', 'cpu/cpu.cfs_period_us': '', 'cpuset/cpuset.effective_cpus': '0-1\n', 'cpuset/cpuset.effective_mems': '0\n',
    'blkio/blkio.throttle.read_bps_device': '', 'blkio/blkio.throttle.write_bps_device': '', 'pids/tasks': '',
  });
  try {
    const m = parseMountinfo(['cpu', 'memory', 'cpuset', 'blkio', 'pids'].map((c, i) => `${30 + i} 30 0:${i} / ${root}/${c} rw - cgroup cgroup rw,${c}`).join('\n'));
    const s = await cgroupSupport(m);
    assert.equal(s.memoryLimit && s.swapLimit && s.memoryReservation && s.oomKillDisable && s.pidsLimit && s.cpuShares && s.cpuCfs, true);
    assert.equal(s.blkioWeight, false);
    assert.equal(s.blkioReadBps, true);
    assert.equal(s.cpus, '0-1');
    assert.equal(s.mems, '0');
  } finally { rmSync(root, { recursive: true }); }
});
