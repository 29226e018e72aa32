// The one writer of everything the gateway answers itself: Kubernetes Status errors and the small
// plain bodies of /livez, /readyz and /metrics. Works on HTTP/1.1, HTTP/2 and raw upgrade sockets.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { GatewayError, isGatewayError } from '../kube/gateway-error.ts';
import { failureStatus, type StatusReason } from '../kube/status.ts';
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
    res.writeHead(code, withAdded(headers, ctx.addedResponseHeaders));
    res.end(body);
    return;
  }
  const socket = ctx.upgrade!.socket;
  if (socket.destroyed) return;
  let head = `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\nconnection: close\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  socket.end(head + '\r\n' + body);
}

/** The gateway's added headers under the answer's own (a copy: `headers` may be a shared constant). */
function withAdded(headers: Record<string, string>, added: readonly string[]): Record<string, string> {
  if (added.length === 0) return headers;
  const all = { ...headers };
  for (let i = 0; i < added.length; i += 2) all[added[i]!] ??= added[i + 1]!;
  return all;
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

const clientErrors: Record<string, { code: number; reason: StatusReason; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { code: 408, reason: 'Timeout', message: 'the request was not received in time' },
  HPE_HEADER_OVERFLOW: { code: 431, reason: 'BadRequest', message: 'the request headers are too large' },
};
const malformed = { code: 400, reason: 'BadRequest', message: 'the request is malformed' } as const;

/**
 * Node's 'clientError': an HTTP/1.1 request refused before it became a request (its head too slow,
 * too large or malformed). Answered with a Status and the connection closed, as Node itself would
 * answer but with a body kubectl can print; a connection already answering is only closed.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const answering = (socket as Duplex & { _httpMessage?: { headersSent: boolean } })._httpMessage?.headersSent === true;
  if (!socket.writable || answering) {
    socket.destroy();
    return;
  }
  const { code, reason, message } = clientErrors[err.code ?? ''] ?? malformed;
  const body = JSON.stringify(failureStatus(code, reason, message));
  socket.end(
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\nconnection: close\r\ncontent-type: application/json\r\n` + `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
