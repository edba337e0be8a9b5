/**
 * One transport-neutral error vocabulary (cf. containerd errdefs). Domain code throws these;
 * the API server maps them to HTTP status in exactly one place (api/server/errors.ts).
 * Messages are Docker's own words where clients show or parse them.
 */
export class EngineError extends Error {
  override name = 'EngineError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
/** 404: the named object does not exist. */
export class NotFoundError extends EngineError { override name = 'NotFoundError'; }
/** 400: the caller asked for something malformed. */
export class InvalidArgumentError extends EngineError { override name = 'InvalidArgumentError'; }
/** 409: name already taken, object in use. */
export class ConflictError extends EngineError { override name = 'ConflictError'; }
/** 409: the object is not in a state that allows this (e.g. not running). */
export class FailedPreconditionError extends EngineError { override name = 'FailedPreconditionError'; }
/** 304: nothing to do (start a started container). */
export class NotModifiedError extends EngineError { override name = 'NotModifiedError'; }
/** 401 */
export class UnauthorizedError extends EngineError { override name = 'UnauthorizedError'; }
/** 403 */
export class ForbiddenError extends EngineError { override name = 'ForbiddenError'; }
/** 503 */
export class UnavailableError extends EngineError { override name = 'UnavailableError'; }
/** 501 */
export class NotImplementedError extends EngineError { override name = 'NotImplementedError'; }
/** 499-ish: the caller went away. */
export class CanceledError extends EngineError { override name = 'CanceledError'; }
/** 500: something on the host failed (a spawned tool, the kernel). */
export class SystemError extends EngineError { override name = 'SystemError'; }

export function isNotFound(e: unknown): e is NotFoundError { return e instanceof NotFoundError; }
export function isConflict(e: unknown): e is ConflictError { return e instanceof ConflictError; }
export function isInvalidArgument(e: unknown): e is InvalidArgumentError { return e instanceof InvalidArgumentError; }

/** errno code of a Node system error, or undefined. */
export function errno(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string'
    ? (e as { code: string }).code
    : undefined;
}
