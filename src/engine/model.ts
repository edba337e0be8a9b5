/**
 * The engine's container model: what berthd persists in containers/<id>/config.v2.json and
 * hostconfig.json (Docker's on-disk shape, so the seeds' LIFE-14/LIFE-15 edits work).
 * Wire types (api/types) are separate; api/server/compat converts.
 */
import type { ImageRunConfig } from '../oci/index.ts';

export interface PortBinding { HostIp: string; HostPort: string }
export type PortMap = Record<string, PortBinding[] | null>;
export interface RestartPolicy { Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure'; MaximumRetryCount: number }
export interface Ulimit { Name: string; Soft: number; Hard: number }
export interface LogConfig { Type: string; Config: Record<string, string> }
export interface DeviceMapping { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }
export interface ThrottleDevice { Path: string; Rate: number }
export interface MountSpec {
  Type: 'bind' | 'volume' | 'tmpfs';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** What the user asked for about the process (Docker's container.Config). */
export interface ContainerConfig extends ImageRunConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[] | null;
  Cmd: string[] | null;
  Image: string;
  Volumes: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  NetworkDisabled?: boolean;
  MacAddress?: string;
}

/** Docker's container.HostConfig (the fields berth honours; the rest are kept and echoed). */
export interface HostConfig {
  Binds: string[] | null;
  ContainerIDFile: string;
  LogConfig: LogConfig;
  NetworkMode: string;
  PortBindings: PortMap;
  RestartPolicy: RestartPolicy;
  AutoRemove: boolean;
  VolumeDriver: string;
  VolumesFrom: string[] | null;
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  CgroupnsMode: string;
  Dns: string[];
  DnsOptions: string[];
  DnsSearch: string[];
  ExtraHosts: string[] | null;
  GroupAdd: string[] | null;
  IpcMode: string;
  Cgroup: string;
  Links: string[] | null;
  OomScoreAdj: number;
  PidMode: string;
  Privileged: boolean;
  PublishAllPorts: boolean;
  ReadonlyRootfs: boolean;
  SecurityOpt: string[] | null;
  StorageOpt?: Record<string, string>;
  Tmpfs?: Record<string, string>;
  UTSMode: string;
  UsernsMode: string;
  ShmSize: number;
  Sysctls?: Record<string, string>;
  Runtime: string;
  ConsoleSize: [number, number];
  Isolation: string;
  // Resources
  CpuShares: number;
  Memory: number;
  NanoCpus: number;
  CgroupParent: string;
  BlkioWeight: number;
  BlkioWeightDevice: { Path: string; Weight: number }[];
  BlkioDeviceReadBps: ThrottleDevice[] | null;
  BlkioDeviceWriteBps: ThrottleDevice[] | null;
  BlkioDeviceReadIOps: ThrottleDevice[] | null;
  BlkioDeviceWriteIOps: ThrottleDevice[] | null;
  CpuPeriod: number;
  CpuQuota: number;
  CpuRealtimePeriod: number;
  CpuRealtimeRuntime: number;
  CpusetCpus: string;
  CpusetMems: string;
  Devices: DeviceMapping[];
  DeviceCgroupRules: string[] | null;
  DeviceRequests: unknown[] | null;
  KernelMemory: number;
  KernelMemoryTCP: number;
  MemoryReservation: number;
  MemorySwap: number;
  MemorySwappiness: number | null;
  OomKillDisable: boolean;
  PidsLimit: number | null;
  Ulimits: Ulimit[] | null;
  CpuCount: number;
  CpuPercent: number;
  IOMaximumIOps: number;
  IOMaximumBandwidth: number;
  Mounts?: MountSpec[];
  MaskedPaths: string[] | null;
  ReadonlyPaths: string[] | null;
  Init?: boolean | null;
}

export interface HealthLogEntry { Start: string; End: string; ExitCode: number; Output: string }
export interface HealthState { Status: 'starting' | 'healthy' | 'unhealthy' | 'none'; FailingStreak: number; Log: HealthLogEntry[] }

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  RemovalInProgress: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  /** RFC 3339 with nanoseconds; `0001-01-01T00:00:00Z` when never. */
  StartedAt: string;
  FinishedAt: string;
  Health: HealthState | null;
}

export interface EndpointSettings {
  IPAMConfig: unknown;
  Links: string[] | null;
  Aliases: string[] | null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
}

export interface NetworkSettings {
  Bridge: string;
  SandboxID: string;
  HairpinMode: boolean;
  LinkLocalIPv6Address: string;
  LinkLocalIPv6PrefixLen: number;
  Ports: PortMap;
  SandboxKey: string;
  Networks: Record<string, EndpointSettings>;
}

export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/** One container as persisted in config.v2.json (HostConfig lives in hostconfig.json). */
export interface Container {
  ID: string;
  /** RFC 3339 with nanoseconds. */
  Created: string;
  Path: string;
  Args: string[];
  Config: ContainerConfig;
  /** Image ID, `sha256:<hex>`. */
  Image: string;
  NetworkSettings: NetworkSettings;
  LogPath: string;
  /** With Docker's leading slash: `/web`. */
  Name: string;
  Driver: 'overlay2';
  OS: 'linux';
  RestartCount: number;
  HasBeenStartedBefore: boolean;
  HasBeenManuallyStopped: boolean;
  MountPoints: Record<string, MountPoint>;
  HostnamePath: string;
  HostsPath: string;
  ResolvConfPath: string;
  ShmPath: string;
  AppArmorProfile: string;
  NoNewPrivileges: boolean;
  State: ContainerState;
  HostConfig: HostConfig;
  /** berth's own bookkeeping (not on Docker's wire). */
  Berth: {
    /** conmon's pid while the container runs (for live-restore). */
    ConmonPid: number;
    /** Runtime name used to create it (key of the daemon's runtimes). */
    Runtime: string;
    /** Offset into the conmon log already converted to the json-file log. */
    LogOffset: number;
    /** Inode of the conmon log LogOffset refers to (conmon replaces the file when it truncates). */
    LogIno?: number;
    /** Boot id at start, to tell a reboot from a daemon restart. */
    BootId: string;
  };
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** The Docker status word for a container state. */
export function statusOf(s: ContainerState): ContainerStatus {
  if (s.RemovalInProgress) return 'removing';
  if (s.Dead) return 'dead';
  if (s.Running) return s.Paused ? 'paused' : s.Restarting ? 'restarting' : 'running';
  if (s.StartedAt === ZERO_TIME) return 'created';
  return 'exited';
}
