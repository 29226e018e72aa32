// The pod streaming endpoints as the kubelet (behind kube-apiserver) answers them: exec and attach over
// WebSocket (channel.k8s.io) or SPDY/3.1, port-forward over SPDY/3.1 or SPDY tunnelled in WebSocket.
// Also starts the stand-in kubelet that writes a new pod's first log lines.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws';
import { SimError } from '../errors.ts';
import type { ShardPlugin } from '../plugin.ts';
import { startKubelet } from './kubelet.ts';
import { portForwardProtocol, portForwardTunnelProtocol, servePortForward } from './port-forward.ts';
import { readPodStreamRequest, rejectUpgrade, type PodStreamRequest } from './request.ts';
import { serveSpdyChannels, spdyChannelProtocols } from './spdy-channels.ts';
import { channelProtocols, serveChannels } from './websocket-channels.ts';

const tunnelToken = 'spdy-3.1-portforward-tunnel';

/** The client's preferred protocol the server also speaks, from repeated or comma-joined headers. */
function negotiate(offered: string | string[] | undefined, supported: readonly string[]): string | undefined {
  const list = (Array.isArray(offered) ? offered : [offered ?? ''])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  return list.find((p) => supported.includes(p));
}

function upgradeToSpdy(req: IncomingMessage, socket: Socket, head: Buffer, request: PodStreamRequest): void {
  const supported = request.kind === 'portforward' ? [portForwardProtocol] : spdyChannelProtocols;
  const protocol = negotiate(req.headers['x-stream-protocol-version'], supported);
  if (protocol === undefined) {
    rejectUpgrade(
      socket,
      new SimError(
        403,
        'Forbidden',
        `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(req.headers['x-stream-protocol-version'] ?? [])}, server supports ${JSON.stringify(supported)}`,
      ),
    );
    return;
  }
  socket.setNoDelay(true);
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
  if (head.length > 0) socket.unshift(head);
  if (request.kind === 'portforward') servePortForward(socket, request);
  else serveSpdyChannels(socket, request, protocol);
}

export const podStreamsPlugin: ShardPlugin = {
  name: 'pod-streams',
  start(shard, services) {
    const stopKubelet = startKubelet(shard);
    const spdySockets = new Set<Socket>();
    /** The checked request of each WebSocket handshake in progress, for subprotocol negotiation. */
    const pending = new WeakMap<IncomingMessage, PodStreamRequest>();
    const wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (offered, req) => (pending.get(req)?.kind === 'portforward' ? [tunnelToken] : channelProtocols).find((p) => offered.has(p)) ?? false,
    });
    wss.on('headers', (headers: string[]) => {
      const i = headers.indexOf(`Sec-WebSocket-Protocol: ${tunnelToken}`);
      if (i !== -1) headers[i] = `Sec-WebSocket-Protocol: ${portForwardTunnelProtocol}`;
    });
    services.onUpgrade((state, auth, req, socket, head) => {
      let request: PodStreamRequest | undefined;
      try {
        request = readPodStreamRequest(state, auth, req);
      } catch (err) {
        rejectUpgrade(socket, err instanceof SimError ? err : new SimError(500, 'InternalError', String(err)));
        return true;
      }
      if (request === undefined) return false;
      const podStream = request;
      if ((req.headers.upgrade ?? '').toLowerCase().startsWith('spdy/3.1')) {
        spdySockets.add(socket);
        socket.once('close', () => spdySockets.delete(socket));
        upgradeToSpdy(req, socket, head, podStream);
        return true;
      }
      if (podStream.kind === 'portforward' && negotiate(req.headers['sec-websocket-protocol'], [portForwardTunnelProtocol]) === undefined) {
        // Without the tunnel subprotocol the client would not be speaking SPDY inside the WebSocket.
        rejectUpgrade(socket, new SimError(400, 'BadRequest', `port-forward over WebSocket needs the ${portForwardTunnelProtocol} subprotocol`));
        return true;
      }
      if (podStream.kind === 'portforward') {
        // `ws` refuses subprotocols that are not RFC 7230 tokens, and this one has a '/': the handshake
        // negotiates a stand-in token, and the 'headers' hook answers with the real name.
        req.headers['sec-websocket-protocol'] = tunnelToken;
      }
      pending.set(req, podStream);
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        if (podStream.kind !== 'portforward') {
          serveChannels(ws, podStream);
          return;
        }
        const carrier = createWebSocketStream(ws);
        carrier.on('error', () => carrier.destroy());
        servePortForward(carrier, podStream);
      });
      return true;
    });
    return () => {
      stopKubelet();
      for (const socket of spdySockets) socket.destroy();
      for (const client of wss.clients) client.terminate();
      wss.close();
    };
  },
};
