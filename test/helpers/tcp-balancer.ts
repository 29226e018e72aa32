// A TCP load balancer on a free loopback port, as a cloud L4 balancer or kube-proxy does it: each new
// connection goes to the next backend in turn; a backend that refuses the connection (its listener is
// closed) is skipped for the next one. Bytes are piped as they are, so TLS and ALPN stay end to end.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface TcpBalancer {
  readonly port: number;
  /** Connections handed to each backend port so far. */
  readonly accepted: Map<number, number>;
  add(port: number): void;
  remove(port: number): void;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startTcpBalancer(initial: number[] = []): Promise<TcpBalancer> {
  const backends = [...initial];
  const accepted = new Map<number, number>();
  const open = new Set<Socket>();
  let turn = 0;

  // Tries each backend once, starting with the next in turn; undefined when none accepts.
  const dial = async (): Promise<{ socket: Socket; port: number } | undefined> => {
    const order = backends.map((_, i) => backends[(turn + i) % backends.length]!);
    turn++;
    for (const port of order) {
      const socket = connect(port, '127.0.0.1');
      const ok = await new Promise<boolean>((resolve) => {
        socket.once('connect', () => resolve(true));
        socket.once('error', () => resolve(false));
      });
      if (ok) return { socket, port };
      socket.destroy();
    }
    return undefined;
  };

  const server = createServer((client) => {
    open.add(client);
    client.on('error', () => client.destroy());
    client.once('close', () => open.delete(client));
    // Unread bytes wait in the client socket (no 'data' listener yet) while a backend is chosen.
    void dial().then((picked) => {
      if (picked === undefined || client.destroyed) {
        picked?.socket.destroy();
        client.destroy();
        return;
      }
      const upstream = picked.socket;
      accepted.set(picked.port, (accepted.get(picked.port) ?? 0) + 1);
      open.add(upstream);
      const end = (): void => {
        client.destroy();
        upstream.destroy();
        open.delete(upstream);
      };
      upstream.on('error', end).once('close', end);
      client.on('error', end).once('close', end);
      client.pipe(upstream).pipe(client);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    accepted,
    add(port) {
      if (!backends.includes(port)) backends.push(port);
    },
    remove(port) {
      const at = backends.indexOf(port);
      if (at >= 0) backends.splice(at, 1);
    },
    async [Symbol.asyncDispose]() {
      for (const s of [...open]) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
