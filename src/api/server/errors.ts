/**
 * The one place where lib/errdefs classes become HTTP status codes (cf. moby httpstatus).
 * Body: `{"message":"…"}\n`, Content-Type application/json; NotModified is a bare 304.
 *
 * Deliberate deviations from Docker 20.10 (it answers 500 to these client mistakes; berth answers
 * 400 with the same text, see shared/reference/docker-20.10/api/errors-400.txt):
 *   - POST /containers/create with an invalid JSON body      → 400 `unexpected EOF` / Go's syntax error text
 *   - POST /containers/create with an empty body             → 400 `EOF`
 *   - GET /containers/json?filters=<invalid JSON>            → 400 Go's syntax error text
 *   - POST /containers/{id}/stop?t=abc (and restart, t)      → 400 `strconv.Atoi: parsing "abc": invalid syntax`
 *   - POST /images/{name}/tag with an invalid repository     → 400 (the engine throws InvalidArgumentError)
 *   - binds with a bad spec (`invalid volume specification`, `invalid mode: xyz`) → 400 (engine, InvalidArgumentError)
 *   - POST /images/create with neither fromImage nor fromSrc → 400 `Get "http:": http: no Host in request URL`
 *   - PUT /containers/{id}/archive onto a file, into a read-only rootfs or volume, or with a tar that escapes
 *     (`extraction point is not a directory`, `… is marked read-only`, `Error processing tar file(exit status 1): …`) → 400
 *   - POST /networks/create without a Name (or with a `null` body)      → 400 `invalid name: `
 *   - POST /networks/create with a Scope other than local/swarm          → 400 `This node is not a swarm manager. …`
 *   - GET /networks?filters=<invalid JSON>, POST /networks/prune?filters=<invalid JSON> → 400 Go's syntax error text
 *   - GET /networks?filters={"type":["x"]}                              → 400 `invalid filter: 'type'='x'`
 *   - POST /networks/{id}/disconnect of a container not on the network → 400 `container <id> is not connected to network <n>` (engine)
 *   - POST /networks/create with a bad subnet (`Invalid subnet … : invalid CIDR address: …`) → 400 (engine)
 * Other differences:
 *   - unpause of a running container: Docker 500 `Container … is not paused`; berth maps whatever class
 *     the engine throws (FailedPreconditionError → 409).
 */
import type { ServerResponse } from 'node:http';
import {
  NotFoundError, InvalidArgumentError, ConflictError, FailedPreconditionError, NotModifiedError,
  UnauthorizedError, ForbiddenError, UnavailableError, NotImplementedError, CanceledError,
} from '../../lib/index.ts';

export function httpStatus(err: unknown): number {
  if (err instanceof NotFoundError) return 404;
  if (err instanceof InvalidArgumentError) return 400;
  if (err instanceof ConflictError || err instanceof FailedPreconditionError) return 409;
  if (err instanceof NotModifiedError) return 304;
  if (err instanceof UnauthorizedError) return 401;
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof UnavailableError) return 503;
  if (err instanceof NotImplementedError) return 501;
  if (err instanceof CanceledError) return 499;
  return 500;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The JSON error body Docker writes (Go escaping, trailing newline). */
export function errorBody(message: string): string {
  return goJson({ message });
}

const htmlEsc = /[<>&\u2028\u2029]/g;
const lineSepEsc = /[\u2028\u2029]/g;
const escMap: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

/**
 * JSON as dockerd's httputils.WriteJSON writes responses and errors: Go's encoder with HTML escaping off
 * (`>` stays `>`), newline at the end.
 */
export function goJson(v: unknown): string {
  return JSON.stringify(v).replace(lineSepEsc, (c) => escMap[c]!) + '\n';
}

/**
 * JSON as Go's default encoder writes it (`<`, `>`, `&` escaped): the streamed messages (progress, events,
 * stats) and json.Marshal'ed values such as the archive stat header.
 */
export function goJsonHtml(v: unknown): string {
  return JSON.stringify(v).replace(htmlEsc, (c) => escMap[c]!) + '\n';
}

/** Write an error response (the common headers set by the server stay). */
export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = httpStatus(err);
  if (status === 304) {
    res.writeHead(304);
    res.end();
    return;
  }
  const body = errorBody(errorMessage(err));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
