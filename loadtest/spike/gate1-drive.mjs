// Gate 1 driver (run with Node, so the client side is not the runtime under test):
//   node loadtest/spike/gate1-drive.mjs <bun binary> <server script> [attempts]
// 1. a trusted client certificate, over HTTP/1.1 and over h2: does its subject reach the handler?
// 2. `attempts` connections presenting a certificate from an untrusted CA, and `attempts` presenting none:
//    each sends a GET and counts as accepted if any HTTP response comes back. Must be 0 every time.
import { spawn } from 'node:child_process';
import { connect as h2connect } from 'node:http2';
import { request } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { createInterface } from 'node:readline';
import { makePki } from './pki.mjs';

const [bun, script, attemptsArg] = process.argv.slice(2);
const attempts = Number(attemptsArg ?? 1000);
const pki = makePki();
const child = spawn(bun, [script, JSON.stringify({ ca: pki.ca, ...pki.server })], { stdio: ['ignore', 'pipe', 'inherit'] });
const { port } = await new Promise((resolve, reject) => {
  createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line)));
  child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
});

function h1(identity) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/probe', ca: pki.ca, servername: 'localhost', agent: false, ...identity }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', (err) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

function h2(identity) {
  return new Promise((resolve) => {
    const session = h2connect(`https://127.0.0.1:${port}`, { ca: pki.ca, servername: 'localhost', ...identity });
    session.on('error', (err) => resolve({ error: err.code ?? err.message }));
    const stream = session.request({ ':path': '/probe' });
    let body = '';
    let status;
    stream.on('response', (h) => (status = h[':status']));
    stream.on('data', (c) => (body += c)).on('end', () => {
      session.close();
      resolve({ status, alpn: session.alpnProtocol, body });
    });
    stream.on('error', (err) => resolve({ error: err.code ?? err.message }));
  });
}

/** One raw TLS connection + GET; 'accepted' if an HTTP status line comes back before the connection ends. */
function attempt(identity) {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: pki.ca, servername: 'localhost', ALPNProtocols: ['http/1.1'], ...identity });
    let data = '';
    const done = (outcome) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(10_000, () => done('timeout'));
    socket.on('secureConnect', () => socket.write('GET /probe HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n'));
    socket.on('data', (c) => {
      data += c;
      if (data.startsWith('HTTP/')) done('accepted');
    });
    socket.on('error', () => done('rejected'));
    socket.on('close', () => done(data.startsWith('HTTP/') ? 'accepted' : 'rejected'));
  });
}

async function many(identity, n, concurrency = 16) {
  const counts = { accepted: 0, rejected: 0, timeout: 0 };
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        counts[await attempt(identity)]++;
      }
    }),
  );
  return counts;
}

const result = { script, port };
result.trustedH1 = await h1(pki.client);
result.trustedH2 = await h2(pki.client);
let t = Date.now();
result.untrusted = { attempts, ...(await many(pki.intruder, attempts)), ms: Date.now() - t };
t = Date.now();
result.noCertificate = { attempts, ...(await many({}, attempts)), ms: Date.now() - t };
child.kill('SIGTERM');
process.stdout.write(JSON.stringify(result, null, 2) + '\n');
