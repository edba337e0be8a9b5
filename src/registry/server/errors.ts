/**
 * The distribution error envelope (`{"errors":[{code,message,detail}]}`) with distribution's codes, messages and
 * statuses (registry/api/errcode and registry/api/v2/errors.go).
 */
const CODES = {
  BLOB_UNKNOWN: [404, 'blob unknown to registry'],
  BLOB_UPLOAD_INVALID: [400, 'blob upload invalid'],
  BLOB_UPLOAD_UNKNOWN: [404, 'blob upload unknown to registry'],
  DIGEST_INVALID: [400, 'provided digest did not match uploaded content'],
  MANIFEST_BLOB_UNKNOWN: [400, 'blob unknown to registry'],
  MANIFEST_INVALID: [400, 'manifest invalid'],
  MANIFEST_UNKNOWN: [404, 'manifest unknown'],
  NAME_INVALID: [400, 'invalid repository name'],
  NAME_UNKNOWN: [404, 'repository name not known to registry'],
  SIZE_INVALID: [400, 'provided length did not match content length'],
  TAG_INVALID: [400, 'manifest tag did not match URI'],
  UNAUTHORIZED: [401, 'authentication required'],
  DENIED: [403, 'requested access to the resource is denied'],
  UNSUPPORTED: [405, 'The operation is unsupported.'],
  RANGE_INVALID: [416, 'invalid content range'],
  PAGINATION_NUMBER_INVALID: [400, 'invalid number of results requested'],
  UNKNOWN: [500, 'unknown error'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof CODES;

/** A registry error: a code from the table, an optional detail (any JSON), an optional message override. */
export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: unknown;

  constructor(code: ErrorCode, detail?: unknown, message?: string) {
    super(message ?? CODES[code][1]);
    this.code = code;
    this.status = CODES[code][0];
    this.detail = detail;
  }

  /** The JSON body distribution sends: detail is left out when there is none. */
  body(): string {
    const e: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.detail !== undefined) e.detail = this.detail;
    return JSON.stringify({ errors: [e] });
  }
}
