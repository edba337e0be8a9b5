/** container.Config and HostConfig in Docker's key order, with Go's omitempty rules. */
import type { ContainerConfig } from '../../types/index.ts';

type Any = Record<string, unknown>;

function empty(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v as object).length === 0;
  return false;
}

/** [key, default when absent, omitempty ('ptr': omitted only when absent)] */
const CONFIG_KEYS: [string, unknown, boolean | 'ptr'][] = [
  ['Hostname', '', false], ['Domainname', '', false], ['User', '', false],
  ['AttachStdin', false, false], ['AttachStdout', false, false], ['AttachStderr', false, false],
  ['ExposedPorts', undefined, true], ['Tty', false, false], ['OpenStdin', false, false], ['StdinOnce', false, false],
  ['Env', null, false], ['Cmd', null, false], ['Healthcheck', undefined, true], ['ArgsEscaped', undefined, true],
  ['Image', '', false], ['Volumes', null, false], ['WorkingDir', '', false], ['Entrypoint', null, false],
  ['NetworkDisabled', undefined, true], ['MacAddress', undefined, true], ['OnBuild', null, false], ['Labels', null, false],
  ['StopSignal', undefined, true], ['StopTimeout', undefined, 'ptr'], ['Shell', undefined, true],
];

export function wireConfig(c: Any | undefined | null): ContainerConfig {
  const src = c ?? {};
  const out: Any = {};
  for (const [k, def, omit] of CONFIG_KEYS) {
    const v = src[k];
    if (omit === 'ptr') { if (v !== undefined && v !== null) out[k] = v; continue; }
    if (omit) { if (!empty(v)) out[k] = v; continue; }
    out[k] = v === undefined ? def : v;
  }
  return out as ContainerConfig;
}

const DEFAULT_HC: [string, unknown, boolean][] = [
  ['Binds', null, false], ['ContainerIDFile', '', false], ['LogConfig', { Type: '', Config: {} }, false],
  ['NetworkMode', '', false], ['PortBindings', {}, false], ['RestartPolicy', { Name: '', MaximumRetryCount: 0 }, false],
  ['AutoRemove', false, false], ['VolumeDriver', '', false], ['VolumesFrom', null, false], ['CapAdd', null, false],
  ['CapDrop', null, false], ['CgroupnsMode', '', false], ['Dns', [], false], ['DnsOptions', [], false], ['DnsSearch', [], false],
  ['ExtraHosts', null, false], ['GroupAdd', null, false], ['IpcMode', '', false], ['Cgroup', '', false], ['Links', null, false],
  ['OomScoreAdj', 0, false], ['PidMode', '', false], ['Privileged', false, false], ['PublishAllPorts', false, false],
  ['ReadonlyRootfs', false, false], ['SecurityOpt', null, false], ['StorageOpt', undefined, true], ['Tmpfs', undefined, true],
  ['UTSMode', '', false], ['UsernsMode', '', false], ['ShmSize', 0, false], ['Sysctls', undefined, true], ['Runtime', '', false],
  ['ConsoleSize', [0, 0], false], ['Isolation', '', false], ['CpuShares', 0, false], ['Memory', 0, false], ['NanoCpus', 0, false],
  ['CgroupParent', '', false], ['BlkioWeight', 0, false], ['BlkioWeightDevice', [], false], ['BlkioDeviceReadBps', null, false],
  ['BlkioDeviceWriteBps', null, false], ['BlkioDeviceReadIOps', null, false], ['BlkioDeviceWriteIOps', null, false],
  ['CpuPeriod', 0, false], ['CpuQuota', 0, false], ['CpuRealtimePeriod', 0, false], ['CpuRealtimeRuntime', 0, false],
  ['CpusetCpus', '', false], ['CpusetMems', '', false], ['Devices', [], false], ['DeviceCgroupRules', null, false],
  ['DeviceRequests', null, false], ['KernelMemory', 0, false], ['KernelMemoryTCP', 0, false], ['MemoryReservation', 0, false],
  ['MemorySwap', 0, false], ['MemorySwappiness', null, false], ['OomKillDisable', false, false], ['PidsLimit', null, false],
  ['Ulimits', null, false], ['CpuCount', 0, false], ['CpuPercent', 0, false], ['IOMaximumIOps', 0, false],
  ['IOMaximumBandwidth', 0, false], ['Mounts', undefined, true], ['MaskedPaths', null, false], ['ReadonlyPaths', null, false],
];

export function wireHostConfig(h: Any): Any {
  const out: Any = {};
  for (const [k, def, omit] of DEFAULT_HC) {
    const v = h[k];
    if (omit) { if (!empty(v)) out[k] = v; continue; }
    out[k] = v === undefined ? def : v;
  }
  // Init is *bool with omitempty: shown whenever set.
  if (h.Init !== undefined && h.Init !== null) out.Init = h.Init;
  return out;
}
