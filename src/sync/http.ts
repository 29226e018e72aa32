// The worker's own small HTTP surface: /livez, /readyz (every endpoint's initial list is done) and
// /metrics. Plain HTTP on a loopback or pod address; nothing here is tenant data.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SyncWorker } from './worker.ts';

export async function serveSyncHttp(worker: SyncWorker, listen: { host: string; port: number }): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ready = worker.ready;
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ready ? 'ok\n' : `waiting for the initial list of ${worker.endpoints.length === 0 ? 'the endpoint slice' : 'every endpoint'}\n`);
    } else if (path === '/metrics') {
      worker.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': worker.metrics.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
