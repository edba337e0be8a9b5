/** SystemInfo → Docker's /info and /version JSON; engine events → /events lines. */
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { arch, machine } from 'node:os';
import type { SystemInfo, EngineEvent } from '../../../engine/index.ts';
import type { InfoResponse, VersionResponse, EventMessage, IndexInfo } from '../../types/index.ts';

let osRelease: Record<string, string> | undefined;
function readOsRelease(): Record<string, string> {
  if (osRelease) return osRelease;
  osRelease = {};
  try {
    for (const line of readFileSync('/etc/os-release', 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line);
      if (m) osRelease[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
    }
  } catch { /* not Linux enough */ }
  return osRelease;
}

const FS_MAGIC: Record<number, string> = {
  0xef53: 'extfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x01021994: 'tmpfs', 0x794c7630: 'overlayfs', 0x2fc12fc1: 'zfs',
};
function backingFs(dir: string): string {
  try {
    return FS_MAGIC[statfsSync(dir).type] ?? '<unknown>';
  } catch {
    return '<unknown>';
  }
}

function fdCount(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

function nowNano(): string {
  const ms = Date.now();
  const ns = process.hrtime.bigint() % 1_000_000n;
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, (_, f: string) => `.${f}${ns.toString().padStart(6, '0')}Z`);
}

export function infoResponse(i: SystemInfo, eventListeners: number): InfoResponse {
  const insecureCIDRs = ['127.0.0.0/8'];
  const indexConfigs: Record<string, IndexInfo> = {
    'docker.io': { Name: 'docker.io', Mirrors: i.registryMirrors, Secure: true, Official: true },
  };
  for (const r of i.insecureRegistries) {
    if (/^[0-9a-fA-F:.]+\/\d+$/.test(r)) { if (!insecureCIDRs.includes(r)) insecureCIDRs.push(r); }
    else indexConfigs[r] = { Name: r, Mirrors: [], Secure: false, Official: false };
  }
  const osr = readOsRelease();
  return {
    ID: i.id,
    Containers: i.containers,
    ContainersRunning: i.running,
    ContainersPaused: i.paused,
    ContainersStopped: i.stopped,
    Images: i.images,
    Driver: 'overlay2',
    DriverStatus: [['Backing Filesystem', backingFs(i.dataRoot)], ['Supports d_type', 'true'], ['Native Overlay Diff', 'true'], ['userxattr', 'false']],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: [i.loggingDriver || 'json-file'] },
    MemoryLimit: true,
    SwapLimit: true,
    KernelMemory: i.cgroupVersion === '1',
    KernelMemoryTCP: i.cgroupVersion === '1',
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    BridgeNfIptables: true,
    BridgeNfIp6tables: true,
    Debug: i.debug,
    NFd: fdCount(),
    OomKillDisable: i.cgroupVersion === '1',
    NGoroutines: 0,
    SystemTime: nowNano(),
    LoggingDriver: i.loggingDriver || 'json-file',
    CgroupDriver: i.cgroupDriver,
    CgroupVersion: i.cgroupVersion,
    NEventsListener: eventListeners,
    KernelVersion: i.kernelVersion,
    OperatingSystem: i.operatingSystem,
    OSVersion: osr.VERSION_ID ?? '',
    OSType: 'linux',
    Architecture: machine(),
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: {
      AllowNondistributableArtifactsCIDRs: [],
      AllowNondistributableArtifactsHostnames: [],
      InsecureRegistryCIDRs: insecureCIDRs,
      IndexConfigs: indexConfigs,
      Mirrors: i.registryMirrors,
    },
    NCPU: i.ncpu,
    MemTotal: i.memTotal,
    GenericResources: null,
    DockerRootDir: i.dataRoot,
    HttpProxy: process.env.HTTP_PROXY ?? process.env.http_proxy ?? '',
    HttpsProxy: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '',
    NoProxy: process.env.NO_PROXY ?? process.env.no_proxy ?? '',
    Name: i.name,
    Labels: i.labels,
    ExperimentalBuild: i.experimental,
    ServerVersion: i.serverVersion,
    Runtimes: i.runtimes,
    DefaultRuntime: i.defaultRuntime,
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: i.liveRestore,
    Isolation: '',
    InitBinary: 'docker-init',
    ContainerdCommit: { ID: '', Expected: '' },
    RuncCommit: { ID: commitOf(i, 'runc'), Expected: commitOf(i, 'runc') },
    InitCommit: { ID: commitOf(i, 'docker-init'), Expected: commitOf(i, 'docker-init') },
    SecurityOptions: ['name=seccomp,profile=default'],
    Warnings: null,
  };
}

function commitOf(i: { components?: SystemInfo['components'] }, name: string): string {
  return i.components?.find((c) => c.name === name)?.commit ?? '';
}

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };

export function versionResponse(i: { serverVersion: string; kernelVersion: string; experimental: boolean; components?: SystemInfo['components'] }, apiVersion: string, minApiVersion: string, gitCommit = ''): VersionResponse {
  const a = GOARCH[arch()] ?? arch();
  const out: VersionResponse = {
    Platform: { Name: '' },
    Components: [{
      Name: 'Engine',
      Version: i.serverVersion,
      Details: {
        ApiVersion: apiVersion, Arch: a, BuildTime: '', Experimental: String(i.experimental), GitCommit: gitCommit,
        GoVersion: process.version, KernelVersion: i.kernelVersion, MinAPIVersion: minApiVersion, Os: 'linux',
      },
    }, ...(i.components ?? []).map((c) => ({ Name: c.name, Version: c.version, Details: { GitCommit: c.commit } }))],
    Version: i.serverVersion,
    ApiVersion: apiVersion,
    MinAPIVersion: minApiVersion,
    GitCommit: gitCommit,
    GoVersion: process.version,
    Os: 'linux',
    Arch: a,
    KernelVersion: i.kernelVersion,
    BuildTime: '',
  };
  if (i.experimental) out.Experimental = true;
  return out;
}

/** An engine event with the legacy status/id/from fields Docker still sends for containers and images. */
export function eventMessage(e: EngineEvent): EventMessage {
  if (e.Type === 'container' || e.Type === 'image') {
    const m: EventMessage = { status: e.Action, id: e.Actor.ID } as EventMessage;
    const from = e.Actor.Attributes.image;
    if (e.Type === 'container' && from) m.from = from;
    m.Type = e.Type;
    m.Action = e.Action;
    m.Actor = e.Actor;
    m.scope = e.scope;
    m.time = e.time;
    m.timeNano = e.timeNano;
    return m;
  }
  return { Type: e.Type, Action: e.Action, Actor: e.Actor, scope: e.scope, time: e.time, timeNano: e.timeNano };
}
