// port-forward (portforward.k8s.io) over a SPDY connection: for each forwarded connection the client
// opens an error stream and a data stream with the same `requestid` and `port` headers. The data stream
// reaches what "listens" on that port in the pod (the responder, on declared container ports); anything
// else is refused with a message on the error stream, as the kubelet reports a failed dial. The same
// handler serves SPDY tunnelled in WebSocket (kubectl 1.31+): only the carrier differs.
import type { Duplex } from 'node:stream';
import { SpdyConnection, type SpdyStream } from '../spdy/connection.ts';
import type { PodStreamRequest } from './request.ts';
import { respondOn } from './responder.ts';

export const portForwardProtocol = 'portforward.k8s.io';
export const portForwardTunnelProtocol = 'SPDY/3.1+portforward.k8s.io';

interface Pair {
  error?: SpdyStream;
  data?: SpdyStream;
}

export function servePortForward(carrier: Duplex, request: PodStreamRequest): SpdyConnection {
  const pairs = new Map<string, Pair>();
  return new SpdyConnection(carrier, (stream) => {
    const type = stream.header('streamtype');
    // Clients before requestid existed paired streams by id: the error stream is the one before the data one.
    const id = stream.header('requestid') ?? String(type === 'error' ? stream.id : stream.id - 2);
    if (type !== 'error' && type !== 'data') {
      stream.destroy();
      return;
    }
    const pair = pairs.get(id) ?? {};
    pairs.set(id, pair);
    pair[type] = stream;
    if (pair.error === undefined || pair.data === undefined) return;
    pairs.delete(id);
    forward(pair.error, pair.data, stream.header('port') ?? '', request);
  });
}

function forward(error: SpdyStream, data: SpdyStream, portHeader: string, request: PodStreamRequest): void {
  error.resume();
  const port = Number(portHeader);
  if (!/^\d+$/.test(portHeader) || port < 1 || port > 65535) {
    error.end(`invalid port ${JSON.stringify(portHeader)}`);
    data.end();
    return;
  }
  if (!request.ports.includes(port)) {
    error.end(
      `error forwarding port ${port} to pod ${request.podName}: failed to connect to localhost:${port} inside namespace of pod ${request.podName}: connect: connection refused`,
    );
    data.end();
    return;
  }
  data.once('close', () => {
    if (!error.destroyed) error.end();
  });
  respondOn(data, request, port);
}
