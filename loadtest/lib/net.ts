// Loopback plumbing: free ports, waiting for a listener, and one HTTPS request with a chosen trust root.
import { request } from 'node:https';
import { createServer, connect } from 'node:net';

export const LOOPBACK = '127.0.0.1';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function waitForPort(port: number, { timeoutMs = 15_000, what = `port ${port}`, alive }: { timeoutMs?: number; what?: string; alive?: () => boolean } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, LOOPBACK);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (alive !== undefined && !alive()) throw new Error(`${what} exited before listening`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface Fetched {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/** One GET over a fresh TLS connection, trusting only `ca`. */
export function httpsGet(port: number, path: string, { ca, headers = {}, servername = 'localhost', timeoutMs = 10_000 }: { ca: string; headers?: Record<string, string>; servername?: string; timeoutMs?: number }): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = request({ host: LOOPBACK, port, path, method: 'GET', ca, servername, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} on port ${port} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
