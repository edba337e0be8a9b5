export type * from './model.ts';
export { statusOf, ZERO_TIME } from './model.ts';
export type * from './backend.ts';
export { createEngine, type EngineOptions, type Engine } from './engine.ts';
export type { PathStat, Change } from './archive.ts';
