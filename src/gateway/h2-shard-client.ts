// The undici Client behind each HTTP/2 shard connection. undici lets a Client that has no live session
// run only `pipelining` requests (1 unless set) before it dials again, and it counts the streams still
// running on a session the shard has sent GOAWAY to (a restart, a graceful close). With watches open on
// that retiring session, a new request would wait in the Client until the last of those watches ended:
// minutes, and no header timeout runs meanwhile because no stream was opened. Once a connection has
// negotiated h2, the Client's pipelining is raised to the stream ceiling so it dials a fresh session at
// once. A connection that fell back to HTTP/1.1 keeps pipelining 1: a request pipelined behind a watch
// on one HTTP/1.1 connection would never be answered.
import type { TLSSocket } from 'node:tls';
import { Client, type buildConnector } from 'undici';

export function h2ShardClient(origin: URL, options: Client.Options, maxStreams: number): Client {
  const connector = options.connect as buildConnector.connector;
  let spokeH2 = false;
  const client = new Client(origin, {
    ...options,
    // Returns what the connector returns: undici cancels a pending attempt through that socket.
    connect: (connectOptions, callback) =>
      connector(connectOptions, (...args: Parameters<buildConnector.Callback>) => {
        // On an error the socket argument is absent, not null.
        const socket: unknown = args[1];
        spokeH2 = socket != null && (socket as TLSSocket).alpnProtocol === 'h2';
        callback(...args);
      }),
  });
  client.on('connect', () => {
    const pipelining = spokeH2 ? maxStreams : 1;
    if (client.pipelining !== pipelining) client.pipelining = pipelining;
  });
  return client;
}
