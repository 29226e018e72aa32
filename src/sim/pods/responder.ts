// What listens on a pod's declared ports: a tiny HTTP responder naming the pod and port, so
// `kubectl port-forward pod/x 8080:80` then `curl localhost:8080` gets an answer. Each request is
// written to the pod's log, as a web server's access log would be.
import { createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { PodStreamRequest } from './request.ts';

export function respondOn(connection: Duplex, request: PodStreamRequest, port: number): void {
  const server = createServer({ keepAlive: false }, (req, res) => {
    const body = `hello from pod ${request.podName} port ${port}: ${req.method ?? ''} ${req.url ?? ''}\n`;
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
    request.runtime.log.write(`"${req.method ?? ''} ${req.url ?? ''} HTTP/${req.httpVersion}" 200 port ${port}`);
  });
  server.emit('connection', connection);
}
