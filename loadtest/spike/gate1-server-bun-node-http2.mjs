// Gate 1, candidate B: Bun's node:http2 secure server (allowHTTP1) with mTLS required, answering with the
// subject of the client certificate as the handler sees it. Run with bun; argv[2] = JSON { ca, cert, key }.
import { createSecureServer } from 'node:http2';

const o = JSON.parse(process.argv[2]);
const server = createSecureServer({ cert: o.cert, key: o.key, ca: o.ca, requestCert: true, rejectUnauthorized: true, allowHTTP1: true });
server.on('request', (req, res) => {
  const socket = req.socket ?? req.stream?.session?.socket;
  let peer = null;
  let error = null;
  try {
    const c = socket?.getPeerCertificate?.();
    peer = c && c.subject ? { subject: c.subject, issuer: c.issuer, fingerprint256: c.fingerprint256 } : (c ?? null);
  } catch (err) {
    error = String(err);
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ runtime: `bun ${Bun.version}`, api: 'node:http2', httpVersion: req.httpVersion, authorized: socket?.authorized ?? null, peer, error }));
});
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
