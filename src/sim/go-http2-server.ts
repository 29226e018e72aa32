// What a Go HTTP/2 server (kube-apiserver, kcp) does that node:http2 does not by default, for the
// stand-ins that play one. A reset stream cancels its handler, whatever the error code: node:http2
// closes a reset stream only once its response is flushed, which after a reset with NO_ERROR (what
// undici and Node clients send on close) never happens while data is still buffered for it. And a
// client resetting many streams is not cut off: Go's rapid-reset defence bounds the handlers running
// at once (to the stream limit) instead, while nghttp2 ends a connection after 1 000 resets in a burst,
// which a front proxy carrying the resets of thousands of clients over a few connections reaches.
import type { Http2SecureServer, SecureServerOptions, ServerHttp2Stream } from 'node:http2';

/** Server options that switch nghttp2's reset-rate cut-off out of reach. */
export const goResetTolerance: Pick<SecureServerOptions, 'streamResetBurst' | 'streamResetRate'> = { streamResetBurst: 1_000_000_000, streamResetRate: 1_000_000_000 };

export function cancelHandlersOnReset(server: Http2SecureServer): void {
  server.on('stream', (stream: ServerHttp2Stream) => stream.on('aborted', destroyStream));
}

function destroyStream(this: ServerHttp2Stream): void {
  this.destroy();
}
