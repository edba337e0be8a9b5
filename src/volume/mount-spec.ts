/**
 * Docker's linux mount parser (volume/mounts/linux_parser.go behaviour): `-v` bind strings and `--mount`
 * specs → mount points, with dockerd's error texts. Pure: the caller checks the host (bind sources) and
 * creates volumes.
 */
import { posix } from 'node:path';
import { InvalidArgumentError } from '../lib/index.ts';

export type MountType = 'bind' | 'volume' | 'tmpfs';

/** HostConfig.Mounts[] entry (mount.Mount). */
export interface MountConfig {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number } | null;
}

/** A parsed mount point, before volumes are created (Docker's MountPoint without Volume). */
export interface ParsedMount {
  Type: MountType;
  /** Volume name ('' for an anonymous volume: the caller names it). */
  Name: string;
  /** Host path for binds. */
  Source: string;
  Destination: string;
  Driver: string;
  RW: boolean;
  /** The mode string as given (`ro,z`), '' if none. */
  Mode: string;
  Propagation: string;
  /** Copy the image's content into an empty volume. */
  CopyData: boolean;
  /** The user's spec (`Spec.Source` '' marks an anonymous volume). */
  Spec: MountConfig;
  /** From --mount (bind sources are not created). */
  SkipMountpointCreation?: boolean;
  NonRecursive?: boolean;
  /** tmpfs mount data (`size=…,mode=…`). */
  Data?: string;
  VolumeLabels?: Record<string, string>;
  VolumeOptions?: Record<string, string>;
}

const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
export const PROPAGATION_MODES = new Set(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated']);
export const DEFAULT_PROPAGATION = 'rprivate';

/** linuxValidMountMode */
export function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const n = { rw: 0, label: 0, prop: 0, copy: 0, cons: 0 };
  for (const o of mode.split(',')) {
    if (RW_MODES.has(o)) n.rw++;
    else if (LABEL_MODES.has(o)) n.label++;
    else if (PROPAGATION_MODES.has(o)) n.prop++;
    else if (o === 'nocopy') n.copy++;
    else if (CONSISTENCY_MODES.has(o)) n.cons++;
    else return false;
  }
  return Object.values(n).every((c) => c <= 1);
}

function readWrite(mode: string): boolean {
  return validMountMode(mode) && !mode.split(',').includes('ro');
}

class MountConfigError extends InvalidArgumentError {}

function configError(type: string, msg: string): MountConfigError {
  return new MountConfigError(`invalid mount config for type ${JSON.stringify(type)}: ${msg}`);
}

function validateAbsolute(type: string, p: string): void {
  if (!p.startsWith('/')) throw configError(type, `invalid mount path: '${p}' mount path must be absolute`);
}

/** What the host can tell about a path: exists or not. */
export type PathExists = (p: string) => boolean;

/** validateMountConfigImpl */
function validateMountConfig(m: MountConfig, bindSourceExists?: PathExists): void {
  const type = m.Type ?? '';
  if (!m.Target) throw configError(type, 'field Target must not be empty');
  if (m.Target === '/') throw configError(type, "invalid specification: destination can't be '/'");
  validateAbsolute(type, m.Target);
  switch (type) {
    case 'bind': {
      if (!m.Source) throw configError(type, 'field Source must not be empty');
      const prop = m.BindOptions?.Propagation;
      if (prop && !PROPAGATION_MODES.has(prop)) throw configError(type, `invalid propagation mode: ${prop}`);
      if (m.VolumeOptions) throw configError(type, 'field VolumeOptions must not be specified');
      validateAbsolute(type, m.Source);
      if (bindSourceExists && !bindSourceExists(m.Source)) throw configError(type, `bind source path does not exist: ${m.Source}`);
      break;
    }
    case 'volume':
      if (m.BindOptions) throw configError(type, 'field BindOptions must not be specified');
      if (!m.Source && m.ReadOnly) throw configError(type, 'must not set ReadOnly mode when using anonymous volumes');
      break;
    case 'tmpfs':
      if (m.BindOptions) throw configError(type, 'field BindOptions must not be specified');
      if (m.Source) throw configError(type, 'field Source must not be specified');
      break;
    default:
      throw configError(type, 'mount type unknown');
  }
}

/** ConvertTmpfsOptions: `ro`, `mode=…` (octal), `size=…` (largest unit that divides it). */
export function tmpfsData(o: { SizeBytes?: number; Mode?: number } | undefined, readOnly: boolean): string {
  const out: string[] = [];
  if (readOnly) out.push('ro');
  if (o?.Mode) out.push(`mode=${o.Mode.toString(8)}`);
  if (o?.SizeBytes) {
    const s = o.SizeBytes;
    const unit = ([['g', 1024 ** 3], ['m', 1024 ** 2], ['k', 1024]] as const).find(([, d]) => s % d === 0);
    out.push(`size=${unit ? `${s / unit[1]}${unit[0]}` : s}`);
  }
  return out.join(',');
}

function clean(p: string): string {
  return posix.normalize(p).replace(/(.)\/+$/, '$1');
}

/** parseMountSpec (after validation). */
function toMountPoint(m: MountConfig): ParsedMount {
  const type = m.Type as MountType;
  const mp: ParsedMount = {
    Type: type, Name: '', Source: '', Destination: clean(m.Target!), Driver: '', RW: !m.ReadOnly, Mode: '', Propagation: '',
    CopyData: false, Spec: m,
  };
  if (type === 'volume') {
    mp.Name = m.Source ?? '';
    mp.CopyData = true;
    const vo = m.VolumeOptions;
    if (vo?.DriverConfig?.Name) mp.Driver = vo.DriverConfig.Name;
    if (vo?.NoCopy) mp.CopyData = false;
    if (vo?.Labels) mp.VolumeLabels = vo.Labels;
    if (vo?.DriverConfig?.Options) mp.VolumeOptions = vo.DriverConfig.Options;
  } else if (type === 'bind') {
    mp.Source = clean(m.Source!);
    mp.Propagation = m.BindOptions?.Propagation || DEFAULT_PROPAGATION;
    if (m.BindOptions?.NonRecursive) mp.NonRecursive = true;
  } else {
    mp.Data = tmpfsData(m.TmpfsOptions ?? undefined, m.ReadOnly === true);
  }
  return mp;
}

const invalidSpec = (raw: string): string => `invalid volume specification: '${raw}'`;

/** ParseMountRaw: one HostConfig.Binds entry (`src:dst[:mode]`, or `dst` alone). */
export function parseBind(raw: string, volumeDriver = ''): ParsedMount {
  const arr = splitN(raw, ':', 4);
  if (arr[0] === '') throw new InvalidArgumentError(invalidSpec(raw));
  const spec: MountConfig = {};
  let mode = '';
  switch (arr.length) {
    case 1: spec.Target = arr[0]!; break;
    case 2:
      if (validMountMode(arr[1]!)) throw new InvalidArgumentError(invalidSpec(raw));
      spec.Source = arr[0]!; spec.Target = arr[1]!;
      break;
    case 3: spec.Source = arr[0]!; spec.Target = arr[1]!; mode = arr[2]!; break;
    default: throw new InvalidArgumentError(invalidSpec(raw));
  }
  if (!validMountMode(mode)) throw new InvalidArgumentError(`invalid mode: ${mode}`);
  spec.Type = spec.Source?.startsWith('/') ? 'bind' : 'volume';
  spec.ReadOnly = !readWrite(mode);
  const modes = mode.split(',');
  if (volumeDriver && spec.Type === 'volume') spec.VolumeOptions = { DriverConfig: { Name: volumeDriver } };
  if (modes.includes('nocopy')) spec.VolumeOptions = { ...(spec.VolumeOptions ?? {}), NoCopy: true };
  const prop = modes.find((o) => PROPAGATION_MODES.has(o));
  if (prop) spec.BindOptions = { Propagation: prop };
  try {
    validateMountConfig(spec);
  } catch (err) {
    if (err instanceof MountConfigError) throw new InvalidArgumentError(`${invalidSpec(raw)}: ${err.message}`);
    throw err;
  }
  const mp = toMountPoint(spec);
  mp.Mode = mode;
  return mp;
}

/** ParseMountSpec: one HostConfig.Mounts entry; bind sources must exist. */
export function parseMountConfig(m: MountConfig, exists: PathExists): ParsedMount {
  validateMountConfig(m, exists);
  const mp = toMountPoint(m);
  if (mp.Type === 'bind') mp.SkipMountpointCreation = true;
  return mp;
}

/** Go's strings.SplitN. */
function splitN(s: string, sep: string, n: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (out.length < n - 1) {
    const i = rest.indexOf(sep);
    if (i < 0) break;
    out.push(rest.slice(0, i));
    rest = rest.slice(i + sep.length);
  }
  out.push(rest);
  return out;
}

const TMPFS_FLAGS: Record<string, string> = {
  ro: 'rw', rw: 'ro', exec: 'noexec', noexec: 'exec', suid: 'nosuid', nosuid: 'suid', dev: 'nodev', nodev: 'dev',
  sync: 'async', async: 'sync', atime: 'noatime', noatime: 'atime', diratime: 'nodiratime', nodiratime: 'diratime',
  relatime: 'norelatime', norelatime: 'relatime', strictatime: 'nostrictatime', nostrictatime: 'strictatime',
};

/** MergeTmpfsOptions: later flags override their opposites, later `key=value` data replaces earlier. */
export function mergeTmpfsOptions(opts: string[]): string[] {
  const out: string[] = [];
  for (const o of opts) {
    if (!o) continue;
    const eq = o.indexOf('=');
    if (eq > 0) {
      const key = o.slice(0, eq + 1);
      const i = out.findIndex((x) => x.startsWith(key));
      if (i >= 0) out.splice(i, 1);
    } else {
      const opposite = TMPFS_FLAGS[o];
      for (const x of [o, opposite]) {
        const i = x === undefined ? -1 : out.indexOf(x);
        if (i >= 0) out.splice(i, 1);
      }
    }
    out.push(o);
  }
  return out;
}
