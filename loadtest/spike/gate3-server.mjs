// Gate 3 server: a plain node:http2 secure server with maxConcurrentStreams 100 whose handler holds every
// stream open (a watch) unless its path is /quick. The same file runs on Node (the control) and on Bun.
// With guard on, the application ends a session that opens over 200 streams a second. On SIGTERM it prints how many streams reached the handler and how many it held at the peak.
// argv[2] = JSON { cert, key, guard }.
import { createSecureServer } from 'node:http2';

const o = JSON.parse(process.argv[2]);
const server = createSecureServer({ cert: o.cert, key: o.key, settings: { maxConcurrentStreams: 100 } });
const stats = { runtime: typeof Bun === 'undefined' ? `node ${process.version}` : `bun ${Bun.version}`, streams: 0, open: 0, peakOpen: 0, sessions: 0, rstCodes: {} };
server.on('session', (s) => {
  stats.sessions++;
  s.on('error', () => {});
});
server.on('stream', (stream, headers) => {
  stats.streams++;
  // The application's own flood guard (o.guard): a session that opens more than 200 streams within a
  // second is told to calm down and closed. A handler cannot tell a reset stream from a finished one here
  // (rstCode is 0 for both once it has answered), so the guard counts stream openings.
  const session = stream.session;
  if (o.guard && session) {
    const now = Date.now();
    if (now - (session.windowStart ?? 0) > 1000) {
      session.windowStart = now;
      session.opened = 0;
    }
    if (++session.opened > 200 && !session.destroyed) {
      stats.guardTripped = (stats.guardTripped ?? 0) + 1;
      session.goaway(11);
      session.destroy();
      return;
    }
  }
  stats.open++;
  stats.peakOpen = Math.max(stats.peakOpen, stats.open);
  stream.on('close', () => {
    stats.open--;
  });
  stream.on('error', () => {});
  if (headers[':path'] === '/quick') {
    stream.respond({ ':status': 200 });
    stream.end('ok');
  }
});
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
process.on('SIGTERM', () => {
  process.stdout.write(JSON.stringify({ ...stats, cpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000) }) + '\n');
  process.exit(0);
});
