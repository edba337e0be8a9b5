import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statsEntry, statsContext, STATS_TABLE, statsHeaders, updateBody } from './commands/stats.ts';
import { formatRows } from './formatter.ts';

/** The `web` sample of the reference (stats?stream=false) and the row docker prints for such numbers. */
const WEB = {
  name: '/web', id: '4c094566da265d792e3ff9d27096dee222053f715fe15f82efb8a7176f0a00b0',
  cpu_stats: { cpu_usage: { total_usage: 178466989 + 20000000, percpu_usage: [1, 2] }, system_cpu_usage: 4232930000000, online_cpus: 2 },
  precpu_stats: { cpu_usage: { total_usage: 178466989 }, system_cpu_usage: 4230930000000, online_cpus: 2 },
  memory_stats: { usage: 2920448, limit: 67108864, stats: { total_inactive_file: 4096 } },
  blkio_stats: { io_service_bytes_recursive: [{ op: 'Read', value: 16300000 }, { op: 'Write', value: 24576 }, { op: 'Total', value: 1 }] },
  networks: { eth0: { rx_bytes: 3835, tx_bytes: 3412 }, eth1: { rx_bytes: 145, tx_bytes: 0 } },
  pids_stats: { current: 3 },
};

test('stats row: CPU % and MEM as the docker CLI computes them, with its units', () => {
  const e = statsEntry('web', WEB);
  assert.equal(e.cpu, 2); // 20 ms of 2000 ms system time × 2 CPUs
  const out = formatRows(STATS_TABLE, [statsContext(e, true)], statsHeaders);
  assert.equal(out, 'CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O           BLOCK I/O         PIDS\n'
    + '4c094566da26   web       2.00%     2.781MiB / 64MiB    4.35%     3.98kB / 3.41kB   16.3MB / 24.6kB   3\n');
  const json = formatRows('{{json .}}', [statsContext(e, true)], statsHeaders);
  assert.equal(json, '{"BlockIO":"16.3MB / 24.6kB","CPUPerc":"2.00%","Container":"web","ID":"4c094566da26","MemPerc":"4.35%","MemUsage":"2.781MiB / 64MiB","Name":"web","NetIO":"3.98kB / 3.41kB","PIDs":"3"}\n');
});

test('stats row of a stopped container: zeros', () => {
  const out = formatRows('{{.MemUsage}} {{.MemPerc}} {{.NetIO}} {{.PIDs}}', [statsContext(statsEntry('x', { name: '/x', id: 'abc' }), true)], statsHeaders);
  assert.equal(out, '0B / 0B 0.00% 0B / 0B 0\n');
});

test('update flags → body', () => {
  assert.deepEqual(updateBody({ memory: '64m', cpus: '0.5', pidsLimit: '20', restart: 'on-failure:3' }),
    { NanoCpus: 500000000, Memory: 67108864, PidsLimit: 20, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } });
  assert.throws(() => updateBody({ memory: 'lots' }), /invalid argument "lots" for "-m, --memory" flag: invalid size: 'lots'/);
});
