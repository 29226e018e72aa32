// Gate 1, candidate A: Bun.serve({ http2: true }) with mTLS required. Answers each request with what the
// handler can learn about the client certificate. Run with bun; argv[2] = JSON { ca, cert, key }.
const o = JSON.parse(process.argv[2]);
const server = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  http2: true,
  tls: { cert: o.cert, key: o.key, ca: o.ca, requestCert: true, rejectUnauthorized: true },
  fetch(req, srv) {
    // Every place a peer certificate could surface on this API.
    const seen = {
      serverHasGetPeerCertificate: typeof srv.getPeerCertificate === 'function',
      requestKeys: Object.keys(req).concat(Object.getOwnPropertyNames(Object.getPrototypeOf(req))).filter((k) => /cert|tls|socket|peer/i.test(k)),
      serverKeys: Object.getOwnPropertyNames(Object.getPrototypeOf(srv)).filter((k) => /cert|tls|socket|peer/i.test(k)),
      requestIP: srv.requestIP(req),
    };
    return Response.json({ runtime: `bun ${Bun.version}`, api: 'Bun.serve', peerSubject: null, seen });
  },
});
process.stdout.write(JSON.stringify({ port: server.port }) + '\n');
