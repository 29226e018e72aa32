// A TCP forwarder on a free loopback port, for cutting one client off a server while the others keep
// their connections: `hold()` drops the forwarded connections and refuses new ones until `release()`.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Drops every forwarded connection; new ones are closed at once until release(). */
  hold(): void;
  release(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let held = false;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    if (held) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    const pair = [client, upstream];
    const end = (): void => {
      for (const s of pair) {
        s.destroy();
        open.delete(s);
      }
    };
    for (const s of pair) {
      open.add(s);
      s.on('error', end).on('close', end);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    hold() {
      held = true;
      for (const s of [...open]) s.destroy();
      open.clear();
    },
    release() {
      held = false;
    },
    async [Symbol.asyncDispose]() {
      held = true;
      for (const s of [...open]) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
