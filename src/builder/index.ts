/**
 * builder: the classic builder (POST /build, `DOCKER_BUILDKIT=0 docker build`). It drives the engine
 * through BuildBackend; its Dockerfile frontend (parser, AST dump, word expansion) is builder/dockerfile.
 */
export { build, BuildStepError, type BuildOptions, type BuildOutput } from './build.ts';
export type { BuildBackend, BuildImage, BuildCommit } from './backend.ts';
export * from './dockerfile/index.ts';
