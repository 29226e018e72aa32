// Load for a rolling restart, seen from the client side: a shard stand-in with an event log, short
// requests over HTTP/1.1 and HTTP/2 that count every failure, and watches that resume from the last
// resourceVersion they saw when their stream ends, as client-go's reflector does.
//
// Retry, and why it is fair: a short GET is sent again only when it failed before any byte of an answer
// arrived (connection refused, reset or closed, HTTP/2 GOAWAY or REFUSED_STREAM). Go's net/http does
// this for idempotent requests on a reused connection, its HTTP/2 transport for streams a GOAWAY or
// REFUSED_STREAM turned away, and so do Node's and browsers' clients. An answer that began and broke
// off, or any status ≥ 500, is a failure and is never retried.
import type { ServerResponse } from 'node:http';
import { connect as http2Connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { Agent, request } from 'node:https';
import type { ShardHandler } from '../gateway/fixtures.ts';

/** Events with resourceVersion 1, 2, 3… ; a watch from N gets every event after N, then each new one. */
export class EventLog {
  readonly #watchers = new Set<ServerResponse>();
  last = 0;

  static line(rv: number): string {
    return `${JSON.stringify({ type: 'ADDED', object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: `v${rv}`, resourceVersion: String(rv) } } })}\n`;
  }

  readonly handler: ShardHandler = (_req, res, seen) => {
    const query = new URLSearchParams(seen.url.slice(seen.url.indexOf('?') + 1));
    res.writeHead(200, { 'content-type': 'application/json' });
    if (query.get('watch') === '1') {
      const from = Number(query.get('resourceVersion') ?? '0');
      for (let rv = from + 1; rv <= this.last; rv++) res.write(EventLog.line(rv));
      this.#watchers.add(res);
      res.once('close', () => this.#watchers.delete(res));
      return;
    }
    // A list that takes a moment to produce: a process killed meanwhile breaks an answer already begun.
    res.write(`{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"${this.last}"},"items":[`);
    setTimeout(() => res.end(']}'), 15);
  };

  append(): void {
    this.last++;
    const line = EventLog.line(this.last);
    for (const res of this.#watchers) res.write(line);
  }
}

export interface LoadTarget {
  port: number;
  caPem: string;
  token: string;
}

export interface Tally {
  ok: number;
  failed: string[];
  /** Sends repeated because the first try got no byte of an answer. */
  retried: number;
}

class NoAnswer extends Error {}

/** HTTP/1.1 over a keep-alive agent: one GET, its whole body read. */
function getHttp1(target: LoadTarget, agent: Agent, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: target.port, path, agent, servername: 'localhost', headers: { authorization: `Bearer ${target.token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('answer broke off')));
    });
    req.on('error', (err) => reject(new NoAnswer(err.message)));
    req.end();
  });
}

/** HTTP/2 on a session kept while it lives; a session that got GOAWAY or closed is replaced. */
class Http2Client {
  #session: ClientHttp2Session | undefined;
  readonly #target: LoadTarget;
  constructor(target: LoadTarget) {
    this.#target = target;
  }

  session(): ClientHttp2Session {
    const s = this.#session;
    if (s !== undefined && !s.closed && !s.destroyed) return s;
    const fresh = http2Connect(`https://127.0.0.1:${this.#target.port}`, { ca: this.#target.caPem, servername: 'localhost' });
    fresh.on('error', () => undefined);
    fresh.on('goaway', () => fresh.close());
    this.#session = fresh;
    return fresh;
  }

  get(path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      let answered = false;
      let stream;
      try {
        stream = this.session().request({ ':path': path, authorization: `Bearer ${this.#target.token}` }, { endStream: true });
      } catch (err) {
        reject(new NoAnswer((err as Error).message));
        return;
      }
      let status = 0;
      let body = '';
      stream.setEncoding('utf8');
      stream.on('response', (headers: IncomingHttpHeaders) => {
        answered = true;
        status = Number(headers[':status']);
      });
      stream.on('data', (c: string) => (body += c));
      stream.on('end', () => (answered ? resolve({ status, body }) : reject(new NoAnswer('stream ended before its headers'))));
      stream.on('error', (err: Error) => reject(answered ? err : new NoAnswer(err.message)));
      stream.on('close', () => {
        if (stream.rstCode !== undefined && stream.rstCode !== 0) reject(answered ? new Error(`reset ${stream.rstCode}`) : new NoAnswer(`refused ${stream.rstCode}`));
        else if (!answered) reject(new NoAnswer('closed before its headers'));
      });
    });
  }

  close(): void {
    this.#session?.destroy();
  }
}

/** Sequential short GETs until `running()` turns false, each a success only if 200 with a whole list. */
export async function shortRequests(target: LoadTarget, protocol: 'h1' | 'h2', path: string, running: () => boolean, tally: Tally): Promise<void> {
  const agent = new Agent({ keepAlive: true, ca: target.caPem, maxSockets: 1 });
  const h2 = new Http2Client(target);
  const once1 = (): Promise<{ status: number; body: string }> => (protocol === 'h1' ? getHttp1(target, agent, path) : h2.get(path));
  try {
    while (running()) {
      for (let attempt = 1; ; attempt++) {
        try {
          const { status, body } = await once1();
          if (status === 200 && body.endsWith(']}')) tally.ok++;
          else tally.failed.push(`${protocol} ${status} ${body.slice(0, 200)}`);
          break;
        } catch (err) {
          if (err instanceof NoAnswer && attempt < 5) {
            tally.retried++;
            continue;
          }
          tally.failed.push(`${protocol} ${(err as Error).message}`);
          break;
        }
      }
    }
  } finally {
    agent.destroy();
    h2.close();
  }
}

export interface ResumingWatch {
  /** resourceVersions seen, in the order they arrived, over every stream of this watch. */
  readonly seen: number[];
  /** Streams opened (1 + resumptions). */
  opened: number;
  /** Answers other than a 200 (a watch refused is a failure, not a resumption). */
  readonly failed: string[];
  stop(): void;
  done: Promise<void>;
}

/** A watch that, whenever its stream ends, is opened again from the last resourceVersion it saw. */
export function resumingWatch(target: LoadTarget, protocol: 'h1' | 'h2', path: string): ResumingWatch {
  const watch: ResumingWatch = { seen: [], opened: 0, failed: [], stop: () => undefined, done: Promise.resolve() };
  let stopped = false;
  let cancel: () => void = () => undefined;
  watch.stop = () => {
    stopped = true;
    cancel();
  };
  const onLine = (line: string): void => {
    if (line === '') return;
    const event = JSON.parse(line) as { object: { metadata: { resourceVersion: string } } };
    watch.seen.push(Number(event.object.metadata.resourceVersion));
  };
  // One stream: resolves when it ends, however it ends.
  const openOnce = (): Promise<void> =>
    new Promise((resolve) => {
      const from = watch.seen.at(-1) ?? 0;
      const full = `${path}?watch=1&resourceVersion=${from}`;
      let buffered = '';
      const feed = (chunk: string): void => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        lines.forEach(onLine);
      };
      watch.opened++;
      if (protocol === 'h1') {
        const req = request(
          { host: '127.0.0.1', port: target.port, path: full, agent: false, ca: target.caPem, servername: 'localhost', headers: { authorization: `Bearer ${target.token}` } },
          (res) => {
            if (res.statusCode !== 200) watch.failed.push(`h1 watch ${res.statusCode}`);
            res.setEncoding('utf8');
            res.on('data', feed);
            res.on('close', () => resolve());
          },
        );
        cancel = () => req.destroy();
        req.on('error', () => resolve());
        req.end();
        return;
      }
      const session = http2Connect(`https://127.0.0.1:${target.port}`, { ca: target.caPem, servername: 'localhost' });
      session.on('error', () => undefined);
      cancel = () => session.destroy();
      const stream = session.request({ ':path': full, authorization: `Bearer ${target.token}` }, { endStream: true });
      stream.setEncoding('utf8');
      stream.on('response', (headers: IncomingHttpHeaders) => {
        if (Number(headers[':status']) !== 200) watch.failed.push(`h2 watch ${headers[':status']}`);
      });
      stream.on('data', feed);
      stream.on('error', () => undefined);
      stream.on('close', () => {
        session.close();
        resolve();
      });
    });
  watch.done = (async () => {
    while (!stopped) await openOnce();
  })();
  return watch;
}
