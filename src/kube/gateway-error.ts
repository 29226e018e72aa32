// The one error root of the product. Every stage throws (or returns) a GatewayError; one writer in
// gateway/ renders it, so no stage formats its own error body.
import { failureStatus, type Status, type StatusDetails, type StatusReason } from './status.ts';

export type GatewayErrorCode =
  | 'BAD_PATH'
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'METHOD_NOT_ALLOWED'
  | 'BODY_TOO_LARGE'
  | 'TOO_MANY_REQUESTS'
  | 'SHARD_UNAVAILABLE'
  | 'ROUTING_UNAVAILABLE'
  | 'DRAINING'
  | 'BAD_GATEWAY'
  | 'GATEWAY_TIMEOUT'
  | 'RESOURCE_EXPIRED'
  | 'INTERNAL';

const shapes: Record<GatewayErrorCode, { code: number; reason: StatusReason }> = {
  BAD_PATH: { code: 400, reason: 'BadRequest' },
  NOT_FOUND: { code: 404, reason: 'NotFound' },
  UNAUTHORIZED: { code: 401, reason: 'Unauthorized' },
  FORBIDDEN: { code: 403, reason: 'Forbidden' },
  METHOD_NOT_ALLOWED: { code: 405, reason: 'MethodNotAllowed' },
  BODY_TOO_LARGE: { code: 413, reason: 'RequestEntityTooLarge' },
  TOO_MANY_REQUESTS: { code: 429, reason: 'TooManyRequests' },
  SHARD_UNAVAILABLE: { code: 503, reason: 'ServiceUnavailable' },
  ROUTING_UNAVAILABLE: { code: 503, reason: 'ServiceUnavailable' },
  DRAINING: { code: 503, reason: 'ServiceUnavailable' },
  BAD_GATEWAY: { code: 502, reason: 'InternalError' },
  GATEWAY_TIMEOUT: { code: 504, reason: 'Timeout' },
  RESOURCE_EXPIRED: { code: 410, reason: 'Expired' },
  INTERNAL: { code: 500, reason: 'InternalError' },
};

export interface GatewayErrorOptions {
  /** Seconds a client should wait before retrying; rendered as Retry-After and in Status details. */
  retryAfterSeconds?: number;
  /** Why, for the log and metrics only; never rendered to the client. */
  internalReason?: string;
  details?: StatusDetails;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly httpStatus: number;
  readonly retryAfterSeconds: number | undefined;
  readonly internalReason: string | undefined;
  readonly details: StatusDetails | undefined;

  constructor(code: GatewayErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.httpStatus = shapes[code].code;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.internalReason = options.internalReason;
    this.details = options.details;
  }

  toStatus(): Status {
    const details = this.retryAfterSeconds === undefined ? this.details : { ...this.details, retryAfterSeconds: this.retryAfterSeconds };
    return failureStatus(this.httpStatus, shapes[this.code].reason, this.message, details);
  }
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}
