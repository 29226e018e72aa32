// A loopback port free now, for a listener that starts later: the shards must know the gateway's URL
// (their external URL, reported in every Workspace's spec.URL) before the gateway can start.
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';

export async function reserveLoopbackPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
