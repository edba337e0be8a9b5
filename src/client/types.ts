/**
 * The response shapes the CLI reads, kept loose (only the fields it uses). These belong in
 * api/types once that module settles; then this file re-exports from there.
 */
export interface Port { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }
export interface MountPoint { Type?: string; Name?: string; Source?: string; Destination: string; Driver?: string; Mode?: string; RW?: boolean; Propagation?: string }

export interface ContainerSummary {
  Id: string;
  Names: string[] | null;
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: Port[] | null;
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Record<string, string> | null;
  State: string;
  Status: string;
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
  Mounts: MountPoint[] | null;
}

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Record<string, string> | null;
  Containers: number;
}

export interface HistoryItem { Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }

export interface ContainerInspect {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; Paused: boolean; ExitCode: number; Error?: string };
  Config: { Tty: boolean; OpenStdin: boolean; AttachStdin?: boolean; Image?: string; [k: string]: unknown };
  HostConfig: { AutoRemove?: boolean; [k: string]: unknown };
  [k: string]: unknown;
}

export interface ImageInspect { Id: string; RepoTags: string[] | null; [k: string]: unknown }

export interface VersionInfo {
  Platform?: { Name: string };
  Components?: Array<{ Name: string; Version: string; Details?: Record<string, string> }>;
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion?: string;
  Experimental?: boolean;
  BuildTime?: string;
}

export interface CreateResponse { Id: string; Warnings: string[] | null }
export interface WaitResponse { StatusCode: number; Error?: { Message: string } | null }
