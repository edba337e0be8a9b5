export * from './errdefs.ts';
export * from './fs.ts';
export * from './ids.ts';
export * from './mutex.ts';
export * from './units.ts';
export * from './proc.ts';
export * from './log.ts';
export * as stdcopy from './stdcopy.ts';
export { goJsonError } from './go-json.ts';
