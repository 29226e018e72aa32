// Every failure the stand-in returns is a Kubernetes Status with the reason and code kube-apiserver would
// use. The shard does not import the product's Status helpers: it stands in for a foreign server.

export type SimReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'Gone'
  | 'Expired'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'InternalError';

export interface SimStatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: Array<{ reason?: string; message?: string; field?: string }>;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: SimReason;
  details?: SimStatusDetails;
  code: number;
}

export class SimError extends Error {
  readonly code: number;
  readonly reason: SimReason;
  readonly details: SimStatusDetails | undefined;

  constructor(code: number, reason: SimReason, message: string, details?: SimStatusDetails) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): StatusBody {
    const body: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details !== undefined) body.details = this.details;
    // Keep `code` last, as kube-apiserver's encoder does.
    const { code, ...rest } = body;
    return { ...rest, code };
  }
}

/** `configmaps "x" not found`, with the group-qualified resource like kube-apiserver prints it. */
export function notFound(resource: string, name: string, group = ''): SimError {
  const qualified = group === '' ? resource : `${resource}.${group}`;
  return new SimError(404, 'NotFound', `${qualified} "${name}" not found`, { name, group: group || undefined, kind: resource });
}

export function alreadyExists(resource: string, name: string, group = ''): SimError {
  const qualified = group === '' ? resource : `${resource}.${group}`;
  return new SimError(409, 'AlreadyExists', `${qualified} "${name}" already exists`, { name, group: group || undefined, kind: resource });
}

export function conflict(
  resource: string,
  name: string,
  group = '',
  why = 'the object has been modified; please apply your changes to the latest version and try again',
): SimError {
  const qualified = group === '' ? resource : `${resource}.${group}`;
  return new SimError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified} "${name}": ${why}`, { name, group: group || undefined, kind: resource });
}

export function badRequest(message: string): SimError {
  return new SimError(400, 'BadRequest', message);
}

export function invalid(kind: string, name: string, field: string, message: string, group = ''): SimError {
  return new SimError(422, 'Invalid', `${kind} "${name}" is invalid: ${field}: ${message}`, {
    name,
    group: group || undefined,
    kind,
    causes: [{ reason: 'FieldValueInvalid', message, field }],
  });
}

export function methodNotAllowed(message = 'the server does not allow this method on the requested resource'): SimError {
  return new SimError(405, 'MethodNotAllowed', message);
}

export function pathNotFound(): SimError {
  return new SimError(404, 'NotFound', 'the server could not find the requested resource');
}
