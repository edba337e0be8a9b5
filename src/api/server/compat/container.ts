/** Engine container model → Docker's inspect and list (ps) JSON. */
import type { ContainerView, Container, ContainerStatus, MountPoint as ModelMount, EndpointSettings as ModelEndpoint } from '../../../engine/index.ts';
import type { ContainerInspect, ContainerSummary, EndpointSettings, MountPoint, NetworkSettings, Port, GraphDriver } from '../../types/index.ts';
import { humanDuration } from '../../../lib/index.ts';
import { wireConfig, wireHostConfig } from './config.ts';

const ZERO = '0001-01-01T00:00:00Z';

/** RFC 3339 (nanoseconds allowed) → ms since the epoch. */
export function parseTimeMs(t: string): number {
  return Date.parse(t);
}

export function unixSeconds(t: string | undefined): number {
  if (!t) return 0;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

/** ps's Command: Path and Args, an argument with a space in single quotes (as Docker does). */
export function commandString(path: string, args: string[]): string {
  if (!args.length) return path;
  return `${path} ${args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`;
}

/** Docker's State.String(): `Up 3 seconds`, `Exited (3) 5 seconds ago`, `Created`, `Up 2 minutes (Paused)`. */
export function statusString(c: Container, now = Date.now()): string {
  const s = c.State;
  const since = (t: string) => humanDuration(Math.max(0, now - parseTimeMs(t)));
  if (s.Running) {
    if (s.Paused) return `Up ${since(s.StartedAt)} (Paused)`;
    if (s.Restarting) return `Restarting (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
    if (s.Health && s.Health.Status !== 'none') {
      return `Up ${since(s.StartedAt)} (${s.Health.Status === 'starting' ? 'health: starting' : s.Health.Status})`;
    }
    return `Up ${since(s.StartedAt)}`;
  }
  if (s.RemovalInProgress) return 'Removal In Progress';
  if (s.Dead) return 'Dead';
  if (s.StartedAt === ZERO) return 'Created';
  if (s.FinishedAt === ZERO) return '';
  return `Exited (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
}

function endpoint(e: ModelEndpoint): EndpointSettings {
  return {
    IPAMConfig: e.IPAMConfig ?? null,
    Links: e.Links ?? null,
    Aliases: e.Aliases ?? null,
    NetworkID: e.NetworkID ?? '',
    EndpointID: e.EndpointID ?? '',
    Gateway: e.Gateway ?? '',
    IPAddress: e.IPAddress ?? '',
    IPPrefixLen: e.IPPrefixLen ?? 0,
    IPv6Gateway: e.IPv6Gateway ?? '',
    GlobalIPv6Address: e.GlobalIPv6Address ?? '',
    GlobalIPv6PrefixLen: e.GlobalIPv6PrefixLen ?? 0,
    MacAddress: e.MacAddress ?? '',
    DriverOpts: e.DriverOpts ?? null,
  };
}

function networks(c: Container): Record<string, EndpointSettings> {
  const out: Record<string, EndpointSettings> = {};
  for (const [name, e] of Object.entries(c.NetworkSettings?.Networks ?? {})) out[name] = endpoint(e);
  return out;
}

function mounts(c: Container): MountPoint[] {
  return Object.values(c.MountPoints ?? {})
    .sort((a, b) => (a.Destination < b.Destination ? -1 : a.Destination > b.Destination ? 1 : 0))
    .map((m: ModelMount) => {
      const o: MountPoint = { Type: m.Type } as MountPoint;
      if (m.Name) o.Name = m.Name;
      o.Source = m.Source;
      o.Destination = m.Destination;
      if (m.Driver) o.Driver = m.Driver;
      o.Mode = m.Mode;
      o.RW = m.RW;
      o.Propagation = m.Propagation;
      return o;
    });
}

function networkSettings(c: Container): NetworkSettings {
  const ns = c.NetworkSettings;
  const nets = networks(c);
  const def = nets.bridge;
  return {
    Bridge: ns?.Bridge ?? '',
    SandboxID: ns?.SandboxID ?? '',
    HairpinMode: ns?.HairpinMode ?? false,
    LinkLocalIPv6Address: ns?.LinkLocalIPv6Address ?? '',
    LinkLocalIPv6PrefixLen: ns?.LinkLocalIPv6PrefixLen ?? 0,
    Ports: ns?.Ports ?? {},
    SandboxKey: ns?.SandboxKey ?? '',
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: def?.EndpointID ?? '',
    Gateway: def?.Gateway ?? '',
    GlobalIPv6Address: def?.GlobalIPv6Address ?? '',
    GlobalIPv6PrefixLen: def?.GlobalIPv6PrefixLen ?? 0,
    IPAddress: def?.IPAddress ?? '',
    IPPrefixLen: def?.IPPrefixLen ?? 0,
    IPv6Gateway: def?.IPv6Gateway ?? '',
    MacAddress: def?.MacAddress ?? '',
    Networks: nets,
  };
}

export function graphDriver(data: { LowerDir?: string; MergedDir: string; UpperDir: string; WorkDir: string } | undefined): GraphDriver {
  if (!data) return { Data: null, Name: 'overlay2' };
  const d: Record<string, string> = {};
  if (data.LowerDir) d.LowerDir = data.LowerDir;
  d.MergedDir = data.MergedDir;
  d.UpperDir = data.UpperDir;
  d.WorkDir = data.WorkDir;
  return { Data: d, Name: 'overlay2' };
}

export function containerInspect(v: ContainerView, size: boolean): ContainerInspect {
  const c = v.container;
  const s = c.State;
  const state: ContainerInspect['State'] = {
    Status: v.status,
    Running: s.Running,
    Paused: s.Paused,
    Restarting: s.Restarting,
    OOMKilled: s.OOMKilled,
    Dead: s.Dead,
    Pid: s.Pid,
    ExitCode: s.ExitCode,
    Error: s.Error,
    StartedAt: s.StartedAt,
    FinishedAt: s.FinishedAt,
  };
  if (s.Health) state.Health = s.Health;
  const out: ContainerInspect = {
    Id: c.ID,
    Created: c.Created,
    Path: c.Path,
    Args: c.Args ?? [],
    State: state,
    Image: c.Image,
    ResolvConfPath: c.ResolvConfPath,
    HostnamePath: c.HostnamePath,
    HostsPath: c.HostsPath,
    LogPath: c.LogPath,
    Name: c.Name,
    RestartCount: c.RestartCount,
    Driver: c.Driver,
    Platform: c.OS ?? 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: c.AppArmorProfile ?? '',
    ExecIDs: v.execIds?.length ? v.execIds : null,
    HostConfig: wireHostConfig(c.HostConfig as unknown as Record<string, unknown>),
    GraphDriver: graphDriver(v.graphDriver),
  } as ContainerInspect;
  if (size) {
    out.SizeRw = v.sizeRw ?? 0;
    out.SizeRootFs = v.sizeRootFs ?? 0;
  }
  out.Mounts = mounts(c);
  out.Config = wireConfig(c.Config as unknown as Record<string, unknown>);
  out.NetworkSettings = networkSettings(c);
  return out;
}

function ports(c: Container): Port[] {
  const out: Port[] = [];
  for (const [key, bindings] of Object.entries(c.NetworkSettings?.Ports ?? {})) {
    const [num, proto = 'tcp'] = key.split('/');
    const priv = Number(num);
    if (!bindings || bindings.length === 0) {
      out.push({ PrivatePort: priv, Type: proto });
      continue;
    }
    for (const b of bindings) {
      const p: Port = { IP: b.HostIp, PrivatePort: priv, PublicPort: Number(b.HostPort), Type: proto };
      out.push(p);
    }
  }
  return out;
}

export function containerSummary(v: ContainerView, now = Date.now()): ContainerSummary {
  const c = v.container;
  const out = {
    Id: c.ID,
    Names: [c.Name.startsWith('/') ? c.Name : `/${c.Name}`],
    Image: v.imageName,
    ImageID: c.Image,
    Command: commandString(c.Path, c.Args ?? []),
    Created: unixSeconds(c.Created),
    Ports: ports(c),
  } as ContainerSummary;
  if (v.sizeRw) out.SizeRw = v.sizeRw;
  if (v.sizeRootFs) out.SizeRootFs = v.sizeRootFs;
  out.Labels = c.Config.Labels ?? {};
  out.State = v.status satisfies ContainerStatus;
  out.Status = statusString(c, now);
  out.HostConfig = { NetworkMode: c.HostConfig.NetworkMode };
  out.NetworkSettings = { Networks: networks(c) };
  out.Mounts = mounts(c);
  return out;
}
