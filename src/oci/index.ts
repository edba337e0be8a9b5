export type * as runtime from './runtime-spec.ts';
export type { Spec, Process, Mount, LinuxNamespace, LinuxResources, LinuxDevice } from './runtime-spec.ts';
export type { Descriptor, Platform, Manifest, Index, ImageRunConfig, HistoryEntry, ImageConfig, Digest } from './image-spec.ts';
export { MediaType } from './image-spec.ts';
