import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyResources, mergeUpdate, updateResources, specResources, parseUintList, FULL_SUPPORT } from './resources.ts';
import { statsJson } from './stats.ts';
import { defaultHostConfig } from './create.ts';
import type { Container, HostConfig } from './model.ts';

const NO_BFQ = { ...FULL_SUPPORT, blkioWeight: false, cpus: '0-1', mems: '0' };
const v = (hc: Partial<HostConfig>, update = false) => verifyResources(hc, NO_BFQ, 2, update);

test('validation: Docker texts, in its order', () => {
  assert.throws(() => v({ Memory: 1024 }), /^InvalidArgumentError: Minimum memory limit allowed is 6MB$|Minimum memory limit allowed is 6MB/);
  assert.throws(() => v({ Memory: 64 << 20, MemorySwap: 32 << 20 }), /Minimum memoryswap limit should be larger than memory limit, see usage/);
  assert.throws(() => v({ MemorySwap: 64 << 20 }), /You should always set the Memory limit when using Memoryswap limit, see usage/);
  assert.deepEqual(v({ MemorySwap: 64 << 20 }, true), [], 'update may set swap alone');
  assert.throws(() => v({ NanoCpus: 4e9 }), /Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available/);
  assert.throws(() => v({ NanoCpus: 5e8, CpuQuota: 50000 }), /Conflicting options: Nano CPUs and CPU Quota cannot both be set/);
  assert.throws(() => v({ CpuPeriod: 10 }), /CPU cfs period can not be less than 1ms \(i.e. 1000\) or larger than 1s \(i.e. 1000000\)/);
  assert.throws(() => v({ CpusetCpus: '5' }), /Requested CPUs are not available - requested 5, available: 0-1/);
  assert.throws(() => v({ CpusetCpus: 'a' }), /Invalid value a for cpuset cpus: invalid format: a/);
  assert.throws(() => v({ MemoryReservation: 1024 }), /Minimum memory reservation allowed is 6MB/);
});

test('a limit the kernel cannot enforce is dropped with Docker\'s warning', () => {
  const hc: Partial<HostConfig> = { BlkioWeight: 300 };
  assert.deepEqual(v(hc), ['Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.']);
  assert.equal(hc.BlkioWeight, 0);
  assert.deepEqual(v({ OomKillDisable: true }), ['OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.']);
  assert.throws(() => verifyResources({ BlkioWeight: 5 }, FULL_SUPPORT, 2, false), /Range of blkio weight is from 10 to 1000/);
});

test('spec resources: --cpus 0.5 is quota 50000 per 100000; pids; swappiness', () => {
  const hc = { ...defaultHostConfig(), NanoCpus: 5e8, Memory: 64 << 20, MemorySwap: 128 << 20, PidsLimit: 20, MemorySwappiness: 10 };
  assert.deepEqual(specResources(hc), { memory: 67108864, memorySwap: 134217728, memorySwappiness: 10, oomKillDisable: false, cpuPeriod: 100000, cpuQuota: 50000, pidsLimit: 20 });
  assert.deepEqual(parseUintList('0-2,4'), [0, 1, 2, 4]);
});

test('update: merge rules and errors of container.UpdateContainer', () => {
  const cur = { ...defaultHostConfig(), Memory: 32 << 20, MemorySwap: 64 << 20, NanoCpus: 5e8 };
  assert.equal(mergeUpdate(cur, { Memory: 64 << 20 }).Memory, 64 << 20);
  assert.throws(() => mergeUpdate(cur, { Memory: 128 << 20 }), /Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time/);
  assert.throws(() => mergeUpdate(cur, { CpuQuota: 20000 }), /CPU Quota cannot be updated as NanoCPUs has already been set/);
  assert.equal(cur.Memory, 32 << 20, 'the current config is not touched');
  assert.deepEqual(updateResources({ Memory: 64 << 20, NanoCpus: 1e9, PidsLimit: 0 }), { memory: 67108864, cpuPeriod: 100000, cpuQuota: 100000, pidsLimit: -1 });
  assert.deepEqual(mergeUpdate(cur, { RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } }).RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
});

test('stats JSON: a stopped container gets dockerd\'s empty object', () => {
  const c = { ID: 'cabff05b49d4274b3877e6ee36b386c5b50992dcd6d6763f265f142af9c0a1a0', Name: '/exited' } as Container;
  assert.equal(JSON.stringify(statsJson(c, undefined, undefined, false)),
    '{"read":"0001-01-01T00:00:00Z","preread":"0001-01-01T00:00:00Z","pids_stats":{},"blkio_stats":{"io_service_bytes_recursive":null,"io_serviced_recursive":null,"io_queue_recursive":null,"io_service_time_recursive":null,"io_wait_time_recursive":null,"io_merged_recursive":null,"io_time_recursive":null,"sectors_recursive":null},"num_procs":0,"storage_stats":{},"cpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"precpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"memory_stats":{},"name":"/exited","id":"cabff05b49d4274b3877e6ee36b386c5b50992dcd6d6763f265f142af9c0a1a0"}');
});

test('stats JSON: a running container, keys in Docker\'s order; no limit = machine memory', () => {
  const c = { ID: 'x', Name: '/web', HostConfig: defaultHostConfig() } as unknown as Container;
  const sample = (read: string, total: number, sys: number) => ({
    read, at: 0, system: { systemUsage: sys, onlineCpus: 2 },
    stats: {
      cpu: { total, percpu: [total], user: 1e8, system: 7e7, periods: 0, throttledPeriods: 0, throttledTime: 0 },
      memory: { usage: 2699264, maxUsage: 4808704, limit: 9223372036854771712, stats: { rss: 1, cache: 2 } },
      pids: { current: 3, limit: 0 }, blkio: { serviceBytes: [], serviced: [] },
    },
    networks: { eth0: { rx_bytes: 1, rx_packets: 1, rx_errors: 0, rx_dropped: 0, tx_bytes: 2, tx_packets: 1, tx_errors: 0, tx_dropped: 0 } },
  });
  const j = statsJson(c, sample('t2', 200, 2000), sample('t1', 100, 1000), false, 1000000);
  assert.deepEqual(Object.keys(j), ['read', 'preread', 'pids_stats', 'blkio_stats', 'num_procs', 'storage_stats', 'cpu_stats', 'precpu_stats', 'memory_stats', 'name', 'id', 'networks']);
  assert.deepEqual(j.memory_stats, { usage: 2699264, max_usage: 4808704, stats: { cache: 2, rss: 1 }, limit: 1000000 });
  assert.deepEqual(j.pids_stats, { current: 3 });
  assert.deepEqual(j.cpu_stats, { cpu_usage: { total_usage: 200, percpu_usage: [200], usage_in_kernelmode: 7e7, usage_in_usermode: 1e8 }, system_cpu_usage: 2000, online_cpus: 2, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } });
  assert.equal((j.precpu_stats as { system_cpu_usage: number }).system_cpu_usage, 1000);
});

test('updateContainer on a stopped container: stores the merge, emits update; failures leave the config alone', async () => {
  const { updateContainer } = await import('./stats.ts');
  const c = { ID: 'abc', Name: '/x', State: { Running: false, Pid: 0 }, HostConfig: { ...defaultHostConfig(), Memory: 32 << 20, MemorySwap: 64 << 20 } } as unknown as Container;
  const persisted: HostConfig[] = [];
  const events: string[] = [];
  const host = {
    resolve: (ref: string) => { if (ref !== 'x') throw new Error(`No such container: ${ref}`); return c; },
    exists: () => true, cgroupsPath: () => '/berth/abc', ncpu: 2,
    locked: <T>(_c: Container, fn: () => Promise<T>) => fn(),
    persist: async (x: Container) => { persisted.push(x.HostConfig); },
    event: (_c: Container, a: string) => { events.push(a); },
  };
  assert.deepEqual(await updateContainer(host, 'x', { Memory: 48 << 20, PidsLimit: 10 }), { warnings: [] });
  assert.equal(c.HostConfig.Memory, 48 << 20);
  assert.equal(persisted.at(-1)?.PidsLimit, 10);
  assert.deepEqual(events, ['update']);
  await assert.rejects(updateContainer(host, 'x', { Memory: 128 << 20 }), (e: Error) => e.name === 'ConflictError'
    && e.message === 'Cannot update container abc: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  await assert.rejects(updateContainer(host, 'x', { RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } }), /maximum retry count cannot be used with restart policy 'always'/);
  await assert.rejects(updateContainer(host, 'x', { RestartPolicy: { Name: 'bogus' as 'no', MaximumRetryCount: 0 } }), /invalid restart policy 'bogus'/);
  assert.equal(c.HostConfig.Memory, 48 << 20);
  assert.equal(persisted.length, 1);
});
