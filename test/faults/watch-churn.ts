// Watch churn against a `kcp-edge serve` process: clients open watches and reset them (HTTP/2 streams
// cancelled, HTTP/1.1 connections dropped), some as soon as the request left, some once the watch is
// open. What it leaves behind is read from outside: the shard's open requests, the gateway's
// /metrics, and the gateway process's resident memory.
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { ClientHttp2Session } from 'node:http2';
import { constants } from 'node:http2';
import { openHttp1, openHttp2, type Target } from './clients.ts';

export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

const token = 'alice-token';

/** An HTTP/2 watch, reset at once or after its response headers. */
async function churnHttp2(session: ClientHttp2Session, path: string, early: boolean): Promise<void> {
  const stream = session.request({ ':path': path, authorization: `Bearer ${token}` }, { endStream: true });
  stream.on('error', () => undefined);
  if (!early) await Promise.race([once(stream, 'response'), once(stream, 'close')]);
  stream.close(constants.NGHTTP2_CANCEL);
}

/** An HTTP/1.1 watch on a connection of its own, dropped at once or after the first bytes of the answer. */
async function churnHttp1(target: Target, path: string, early: boolean): Promise<void> {
  const socket = await openHttp1(target);
  await new Promise<void>((resolve) => socket.write(`GET ${path} HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer ${token}\r\n\r\n`, () => resolve()));
  if (!early) await Promise.race([once(socket, 'data'), once(socket, 'close')]);
  socket.destroy();
}

export interface ChurnOptions {
  count: number;
  /** Share of opens made over HTTP/1.1 (the rest over HTTP/2). */
  http1Share: number;
  /** Opens in flight at once. */
  concurrency: number;
  path: (i: number) => string;
}

/** `count` watch opens and resets, every fourth reset before any answer. */
export async function churnWatches(target: Target, options: ChurnOptions): Promise<void> {
  // A connection may reset 200 streams at once and 20 a second after that before the gateway cuts it
  // (the rapid-reset bound). However fast this box runs the churn, no connection resets more than the
  // burst: the churn comes over many connections, as it would from many clients.
  const sessionCount = Math.max(4, Math.ceil(options.count / 180));
  const sessions = await Promise.all(Array.from({ length: sessionCount }, () => openHttp2(target)));
  let next = 0;
  const h1Every = options.http1Share > 0 ? Math.round(1 / options.http1Share) : 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < options.count; i = next++) {
      const early = i % 4 === 0;
      if (h1Every > 0 && i % h1Every === 1) await churnHttp1(target, options.path(i), early);
      else await churnHttp2(sessions[i % sessions.length]!, options.path(i), early);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  for (const s of sessions) s.close();
}

/** Opens `count` HTTP/2 watches, `perSession` per connection, and resolves once all are answered. */
export async function holdWatches(target: Target, count: number, perSession: number, path: (i: number) => string): Promise<{ close(): void; statuses: number[] }> {
  const sessions = await Promise.all(Array.from({ length: Math.ceil(count / perSession) }, () => openHttp2(target)));
  for (const s of sessions) s.setMaxListeners?.(0);
  const statuses = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const stream = sessions[Math.floor(i / perSession)]!.request({ ':path': path(i), authorization: `Bearer ${token}` }, { endStream: true });
      stream.on('error', () => undefined);
      stream.resume();
      const [headers] = (await once(stream, 'response')) as [Record<string, unknown>];
      return Number(headers[':status']);
    }),
  );
  return { statuses, close: () => sessions.forEach((s) => s.destroy()) };
}
