// Gate 2 relay on Bun's node:http2 secure server (allowHTTP1, as kcp-edge serves): an HTTP/1.1 Upgrade
// request (SPDY/3.1 or websocket) is relayed to the backend over TLS, the backend's 101 and every byte
// after it piped back untouched, both ways. Run with bun; argv[2] = JSON { ca, cert, key, backendPort }.
import { createSecureServer } from 'node:http2';
import { connect } from 'node:tls';

const o = JSON.parse(process.argv[2]);
const server = createSecureServer({ cert: o.cert, key: o.key, allowHTTP1: true });
const events = { request: 0, upgrade: 0 };
server.on('request', (req, res) => {
  events.request++;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ events, upgradeHeader: req.headers.upgrade ?? null }));
});
server.on('upgrade', (req, socket, head) => {
  events.upgrade++;
  const upstream = connect({ host: '127.0.0.1', port: o.backendPort, ca: o.ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] }, () => {
    let lines = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
    upstream.write(lines + '\r\n');
    if (head?.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on('error', () => socket.destroy());
  socket.on('error', () => upstream.destroy());
});
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
