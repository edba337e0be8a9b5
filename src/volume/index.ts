/** Volumes: the local driver's store, Docker's mount parser, and copy-up of image content. */
export { VolumeStore, volumeNameError, type Volume, type CreateVolumeOptions } from './store.ts';
export {
  parseBind, parseMountConfig, mergeTmpfsOptions, tmpfsData, validMountMode, DEFAULT_PROPAGATION,
  type MountConfig, type ParsedMount, type MountType, type PathExists,
} from './mount-spec.ts';
export { copyUp, resolveInRoot } from './copy-up.ts';
