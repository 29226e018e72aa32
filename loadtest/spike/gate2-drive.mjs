// Gate 2 driver (Node): node loadtest/spike/gate2-drive.mjs <bun binary> <relay script>
// A TLS backend (Node) answers `Upgrade: SPDY/3.1` and `Upgrade: websocket` with 101, sends all 256 byte
// values, then echoes. The client upgrades through the relay, sends 1 MiB of random bytes in 16 KiB writes
// and checks that what comes back is the 256-byte preamble followed by exactly what it sent.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, connect } from 'node:tls';
import { createInterface } from 'node:readline';
import { makePki } from './pki.mjs';

const [bun, script] = process.argv.slice(2);
const pki = makePki();
const PREAMBLE = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

const backend = createServer({ ...pki.server }, (socket) => {
  let head = Buffer.alloc(0);
  const onData = (chunk) => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    socket.off('data', onData);
    const request = head.subarray(0, end).toString();
    const upgrade = /^upgrade: *(.+)$/im.exec(request)?.[1] ?? '';
    const key = /^sec-websocket-key: *(.+)$/im.exec(request)?.[1];
    const accept = key ? `Sec-WebSocket-Accept: ${createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')}\r\n` : '';
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${upgrade}\r\n${accept}\r\n`);
    socket.write(PREAMBLE);
    const rest = head.subarray(end + 4);
    if (rest.length) socket.write(rest);
    socket.pipe(socket);
  };
  socket.on('data', onData);
  socket.on('error', () => {});
});
await new Promise((resolve) => backend.listen(0, '127.0.0.1', resolve));

const child = spawn(bun, [script, JSON.stringify({ ca: pki.ca, ...pki.server, backendPort: backend.address().port })], { stdio: ['ignore', 'pipe', 'inherit'] });
const { port } = await new Promise((resolve, reject) => {
  createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line)));
  child.once('exit', (code) => reject(new Error(`relay exited ${code}`)));
});

function upgradeThrough(protocol, extraHeaders) {
  return new Promise((resolve) => {
    const sent = randomBytes(1 << 20);
    const socket = connect({ host: '127.0.0.1', port, ca: pki.ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
    let buf = Buffer.alloc(0);
    let status = null;
    let headerEnd = -1;
    const timer = setTimeout(() => finish('timeout'), 20_000);
    const finish = (why) => {
      clearTimeout(timer);
      socket.destroy();
      const body = headerEnd >= 0 ? buf.subarray(headerEnd) : Buffer.alloc(0);
      const expected = Buffer.concat([PREAMBLE, sent]);
      resolve({ protocol, status, why, received: body.length, expected: expected.length, identical: body.equals(expected) });
    };
    socket.on('secureConnect', () => {
      socket.write(`GET /api/v1/namespaces/default/pods/p/exec?command=sh HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\n${extraHeaders}\r\n`);
    });
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (headerEnd < 0) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        headerEnd = end + 4;
        status = buf.subarray(0, buf.indexOf('\r\n')).toString();
        if (!status.includes(' 101 ')) return finish('not switched');
        for (let i = 0; i < sent.length; i += 16384) socket.write(sent.subarray(i, i + 16384));
      }
      if (buf.length - headerEnd >= PREAMBLE.length + sent.length) finish('complete');
    });
    socket.on('error', (err) => finish(`error ${err.code ?? err.message}`));
    socket.on('close', () => finish('closed'));
  });
}

const results = [
  await upgradeThrough('SPDY/3.1', 'X-Stream-Protocol-Version: v4.channel.k8s.io\r\n'),
  await upgradeThrough('websocket', 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n'),
];
child.kill('SIGTERM');
backend.close();
process.stdout.write(JSON.stringify({ script, results }, null, 2) + '\n');
process.exit(0);
