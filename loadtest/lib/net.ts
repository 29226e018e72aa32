// Loopback plumbing: free ports, waiting for a listener, and one HTTPS request (HTTP/1.1 or HTTP/2) with a
// chosen trust root.
import { connect as connectHttp2 } from 'node:http2';
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

export async function waitForPort(
  port: number,
  { timeoutMs = 15_000, what = `port ${port}`, alive }: { timeoutMs?: number; what?: string; alive?: () => boolean } = {},
): Promise<void> {
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
export function httpsGet(
  port: number,
  path: string,
  { ca, headers = {}, servername = 'localhost', timeoutMs = 10_000 }: { ca: string; headers?: Record<string, string>; servername?: string; timeoutMs?: number },
): Promise<Fetched> {
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

export interface FetchedH2 extends Fetched {
  /** The protocol ALPN settled on: 'h2', or the connection would have failed. */
  alpnProtocol: string | false;
}

/** One GET over a fresh HTTP/2 connection (ALPN offers h2 only), trusting only `ca`. */
export function http2Get(
  port: number,
  path: string,
  { ca, headers = {}, servername = 'localhost', timeoutMs = 10_000 }: { ca: string; headers?: Record<string, string>; servername?: string; timeoutMs?: number },
): Promise<FetchedH2> {
  return new Promise((resolve, reject) => {
    const session = connectHttp2(`https://${LOOPBACK}:${port}`, { ca, servername });
    const timer = setTimeout(() => session.destroy(new Error(`HTTP/2 GET ${path} on port ${port} timed out`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    };
    session.on('error', fail);
    const req = session.request({ ':method': 'GET', ':path': path, ...headers });
    req.on('error', fail);
    req.on('response', (responseHeaders) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        clearTimeout(timer);
        const alpnProtocol = session.alpnProtocol ?? false;
        session.close();
        resolve({ status: Number(responseHeaders[':status']), body: Buffer.concat(chunks), headers: responseHeaders, alpnProtocol });
      });
    });
    req.end();
  });
}
