/** api/server: the Engine API over node:http (unix sockets and tcp), routes and compat converters. */
export { createApiServer, type ApiServer, type ApiServerOptions } from './server.ts';
export { API_VERSION, MIN_API_VERSION } from './version.ts';
export { httpStatus, goJson, goJsonHtml } from './errors.ts';
export { applyChanges } from './changes.ts';
