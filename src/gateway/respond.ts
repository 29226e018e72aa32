// The one writer of everything the gateway answers itself: Kubernetes Status errors and the small
// plain bodies of /livez, /readyz and /metrics. Works on HTTP/1.1, HTTP/2 and raw upgrade sockets.
import { STATUS_CODES } from 'node:http';
import { GatewayError, isGatewayError } from '../kube/gateway-error.ts';
import type { RequestContext } from './context.ts';

export function toGatewayError(err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  return new GatewayError('INTERNAL', 'Internal error occurred: the gateway failed to handle the request', {
    internalReason: err instanceof Error ? err.message : String(err),
    cause: err,
  });
}

/** Answers with the error's Status. If a response is already under way, it can only be cut off. */
export function respondWithError(ctx: RequestContext, err: GatewayError): void {
  ctx.error = err;
  const body = JSON.stringify(err.toStatus());
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'audit-id': ctx.auditId,
    'cache-control': 'no-cache, private',
    'x-content-type-options': 'nosniff',
  };
  if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
  respond(ctx, err.httpStatus, headers, body);
}

export function respond(ctx: RequestContext, code: number, headers: Record<string, string>, body: string): void {
  ctx.responded = true;
  ctx.statusCode = code;
  const res = ctx.res;
  if (res !== undefined) {
    if (res.headersSent) {
      destroyResponse(ctx);
      return;
    }
    res.writeHead(code, headers);
    res.end(body);
    return;
  }
  const socket = ctx.upgrade!.socket;
  if (socket.destroyed) return;
  let head = `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\nconnection: close\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  socket.end(head + '\r\n' + body);
}

/**
 * Cuts a response off mid-stream (the client sees a truncated body, never a wrong one): on HTTP/1.1
 * the socket goes without the terminating chunk, on HTTP/2 the stream is reset with INTERNAL_ERROR.
 * Not stream.close(code): with the writable side still open it sends END_STREAM before the
 * RST_STREAM, and the client takes the cut for a complete response (a watch that ended normally).
 */
export function destroyResponse(ctx: RequestContext): void {
  const res = ctx.res;
  if (res === undefined) ctx.upgrade!.socket.destroy();
  // destroy(err) resets with INTERNAL_ERROR; the stream's 'error' listener logs it at debug.
  else if ('stream' in res) res.stream.destroy(new Error('response cut off mid-stream'));
  else res.destroy();
}
