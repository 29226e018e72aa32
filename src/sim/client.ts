// A tiny HTTPS client with a client certificate: how shards talk to each other (they share one CA) and
// how tests create workspaces, bindings and objects through the API instead of reaching into memory.
import { Agent, request } from 'node:https';
import type { KeyPair } from './pki.ts';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

export interface ApiClient {
  readonly baseUrl: string;
  request<T = unknown>(method: string, path: string, options?: { body?: unknown; contentType?: string; headers?: Record<string, string> }): Promise<ApiResponse<T>>;
  /** Opens a watch (the path must ask for it, e.g. `?watch=1`) and yields its events as they arrive. */
  watch(path: string, options?: { headers?: Record<string, string> }): Promise<WatchStream>;
  close(): void;
}

export interface WatchEvent<T = Record<string, unknown>> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface WatchStream {
  status: number;
  /** Resolves with the next event, or undefined once the server ended the stream. */
  next(timeoutMs?: number): Promise<WatchEvent | undefined>;
  /** Every event received so far. */
  readonly received: WatchEvent[];
  readonly ended: boolean;
  close(): void;
}

export function createApiClient(baseUrl: string, caPem: string, credentials: KeyPair): ApiClient {
  const agent = new Agent({ keepAlive: true, ca: caPem, cert: credentials.certPem, key: credentials.keyPem });
  return {
    baseUrl,
    request<T>(method: string, path: string, options: { body?: unknown; contentType?: string; headers?: Record<string, string> } = {}) {
      const url = new URL(baseUrl.replace(/\/$/, '') + path);
      const payload = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      return new Promise<ApiResponse<T>>((resolve, reject) => {
        const req = request(
          url,
          {
            method,
            agent,
            headers: {
              accept: 'application/json',
              ...(payload !== undefined ? { 'content-type': options.contentType ?? 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
              ...options.headers,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let body: unknown = text;
              try {
                body = text === '' ? undefined : JSON.parse(text);
              } catch {
                // not JSON: keep the text
              }
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body as T, text });
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    watch(path, options = {}) {
      const url = new URL(baseUrl.replace(/\/$/, '') + path);
      return new Promise<WatchStream>((resolve, reject) => {
        const req = request(url, { method: 'GET', agent, headers: { accept: 'application/json', ...options.headers } }, (res) => {
          const received: WatchEvent[] = [];
          const waiters: Array<() => void> = [];
          let cursor = 0;
          let ended = false;
          let buffered = '';
          const wake = () => waiters.splice(0).forEach((w) => w());
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffered += chunk;
            let newline: number;
            while ((newline = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, newline).trim();
              buffered = buffered.slice(newline + 1);
              if (line !== '') received.push(JSON.parse(line) as WatchEvent);
            }
            wake();
          });
          const finish = () => {
            ended = true;
            wake();
          };
          res.on('end', finish);
          res.on('close', finish);
          res.on('error', finish);
          resolve({
            status: res.statusCode ?? 0,
            received,
            get ended() {
              return ended;
            },
            async next(timeoutMs = 5000) {
              const deadline = Date.now() + timeoutMs;
              while (cursor >= received.length) {
                if (ended) return undefined;
                const left = deadline - Date.now();
                if (left <= 0) throw new Error(`no watch event within ${timeoutMs} ms on ${path}`);
                await new Promise<void>((wakeUp) => {
                  const timer = setTimeout(wakeUp, left);
                  waiters.push(() => {
                    clearTimeout(timer);
                    wakeUp();
                  });
                });
              }
              return received[cursor++];
            },
            close: () => {
              req.destroy();
              finish();
            },
          });
        });
        req.on('error', reject);
        req.end();
      });
    },
    close: () => agent.destroy(),
  };
}
