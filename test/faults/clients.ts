// Clients that behave as an impatient kubectl does under faults: open a watch and walk away (reset the
// HTTP/2 stream, drop the HTTP/1.1 connection) before any answer. Connections are opened first, so the
// request and its reset leave within microseconds of each other.
import { once } from 'node:events';
import { connect as http2Connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export interface Target {
  port: number;
  caPem: string;
}

/** A TLS connection speaking HTTP/1.1 to the gateway, not yet used. */
export async function openHttp1(target: Target): Promise<TLSSocket> {
  const socket = tlsConnect({ host: '127.0.0.1', port: target.port, ca: target.caPem, ALPNProtocols: ['http/1.1'], servername: 'localhost' });
  socket.on('error', () => undefined);
  await once(socket, 'secureConnect');
  return socket;
}

/** Sends a GET on `socket` and destroys the connection once the request has left this process. */
export function resetHttp1(socket: TLSSocket, path: string, token: string): Promise<void> {
  const head = `GET ${path} HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer ${token}\r\naccept: application/json\r\n\r\n`;
  return new Promise((resolve) => {
    socket.write(head, () => {
      socket.destroy();
      resolve();
    });
  });
}

export async function openHttp2(target: Target): Promise<ClientHttp2Session> {
  const session = http2Connect(`https://127.0.0.1:${target.port}`, { ca: target.caPem, servername: 'localhost' });
  session.on('error', () => undefined);
  await once(session, 'connect');
  return session;
}

/** Opens a stream with a GET and resets it (RST_STREAM CANCEL) right after its HEADERS. */
export function resetHttp2(session: ClientHttp2Session, path: string, token: string): void {
  const stream = session.request({ ':path': path, authorization: `Bearer ${token}`, accept: 'application/json' }, { endStream: true });
  stream.on('error', () => undefined);
  // The HEADERS frame is queued by request(); nghttp2 sends it before the RST_STREAM queued here.
  stream.close(constants.NGHTTP2_CANCEL);
}

/** A watch the client keeps: resolves with the stream once the response headers arrived. */
export async function openHttp2Watch(session: ClientHttp2Session, path: string, token: string): Promise<{ stream: ClientHttp2Stream; headers: IncomingHttpHeaders }> {
  const stream = session.request({ ':path': path, authorization: `Bearer ${token}`, accept: 'application/json' }, { endStream: true });
  stream.on('error', () => undefined);
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  return { stream, headers };
}
