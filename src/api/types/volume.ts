/** Volume wire types (API v1.41 /volumes). Key order is Docker's. */

/** GET /volumes/{name}, an item of GET /volumes, the reply of POST /volumes/create. */
export interface VolumeResponse {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local' | 'global';
}

/** GET /volumes */
export interface VolumeListResponse {
  Volumes: VolumeResponse[];
  Warnings: string[] | null;
}

/** POST /volumes/create body (as the CLI sends it: `{"Driver":"local","DriverOpts":{},"Labels":{...},"Name":"x"}`). */
export interface VolumeCreateBody {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** POST /volumes/prune */
export interface VolumePruneResponse {
  VolumesDeleted: string[] | null;
  SpaceReclaimed: number;
}
