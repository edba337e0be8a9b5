/**
 * The response shapes the client hands out: the wire types of api/types, under the names the CLI uses.
 * Inspect results stay open records, since `inspect -f` templates reach any field.
 */
export type {
  Port, MountPoint, ContainerSummary, ImageSummary, ImageHistoryItem as HistoryItem, VersionResponse as VersionInfo,
  ContainerCreateResponse as CreateResponse, ContainerWaitResponse as WaitResponse, ExecInspectResponse, ExecCreateBody,
} from '../api/types/index.ts';

export interface ContainerInspect {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; Paused: boolean; ExitCode: number; Error?: string };
  Config: { Tty: boolean; OpenStdin: boolean; AttachStdin?: boolean; Image?: string; [k: string]: unknown };
  HostConfig: { AutoRemove?: boolean; [k: string]: unknown };
  [k: string]: unknown;
}

export interface ImageInspect { Id: string; RepoTags: string[] | null; [k: string]: unknown }
