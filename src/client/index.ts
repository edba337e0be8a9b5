export { Client, ApiError, encodeFilters, DEFAULT_API_VERSION } from './client.ts';
export type { ClientOptions, Query } from './client.ts';
export { ConnectError, parseHost, readAll } from './http.ts';
export type { Endpoint, RawResponse } from './http.ts';
export type * from './types.ts';
