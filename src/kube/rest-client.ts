// A small REST client for Kubernetes-shaped APIs (kube-apiserver, KCP shards, virtual workspaces), written on
// undici because the server URL may carry a path (`/services/apiexport/…`), paths hold `/clusters/*`, and
// watches must stream event by event. It speaks JSON only and keeps objects unstructured.
import { createSecureContext } from 'node:tls';
import { Pool, type Dispatcher } from 'undici';
import type { KubeEndpoint } from './kubeconfig.ts';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface KubeList {
  metadata: { resourceVersion?: string; continue?: string };
  items: KubeObject[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

/** A non-2xx answer. `reason` is the Status reason when the server sent one. */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string | undefined;
  constructor(status: number, reason: string | undefined, message: string) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409;
}
export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && (err.status === 410 || err.reason === 'Expired' || err.reason === 'Gone');
}

export type PatchType = 'merge' | 'json';
const patchContentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
};

export type Query = Record<string, string | number | boolean | undefined>;

function queryString(query: Query | undefined): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

export interface RestClientOptions {
  /** Sockets to the server; watches hold one each, so leave room for requests. */
  connections?: number;
  /** Per-request timeout for everything but watches. */
  requestTimeoutMs?: number;
  /** Time a new connection (TCP and TLS handshake) may take (undici's default: 10 s). */
  connectTimeoutMs?: number;
  userAgent?: string;
}

export class RestClient {
  readonly server: string;
  readonly #pool: Pool;
  readonly #basePath: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(endpoint: KubeEndpoint, options: RestClientOptions = {}) {
    const url = new URL(endpoint.server);
    this.server = endpoint.server;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#headers = { accept: 'application/json', 'user-agent': options.userAgent ?? 'kcp-edge' };
    if (endpoint.token !== undefined) this.#headers.authorization = `Bearer ${endpoint.token}`;
    // One TLS context for every connection of the pool: building one parses the CA bundle and the key,
    // which otherwise happens again for each of the (up to `connections`) sockets a burst opens.
    const connect: Record<string, unknown> = {
      secureContext: createSecureContext({ ca: endpoint.caPem, cert: endpoint.certPem, key: endpoint.keyPem }),
    };
    if (endpoint.insecureSkipTLSVerify === true) connect.rejectUnauthorized = false;
    if (options.connectTimeoutMs !== undefined) connect.timeout = options.connectTimeoutMs;
    // HTTP/1.1 like the gateway's shard pools (undici would take h2 from kube-apiserver): one stream per
    // connection is what the watches here are written and tested against.
    // Idle connections are kept a minute (undici's default is 4 s): kube-apiserver keeps them 90 s and sends
    // no Keep-Alive hint, so at 4 s every lull in a steady flow cost a new TLS handshake per connection.
    this.#pool = new Pool(url.origin, { connections: options.connections ?? 64, connect, pipelining: 1, allowH2: false, keepAliveTimeout: 60_000 });
  }

  async request<T>(method: Dispatcher.HttpMethod, path: string, init: { query?: Query; body?: unknown; contentType?: string } = {}): Promise<T> {
    const headers: Record<string, string> = { ...this.#headers };
    let body: string | undefined;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] = init.contentType ?? 'application/json';
    }
    const res = await this.#pool.request({
      method,
      path: this.#basePath + path + queryString(init.query),
      headers,
      body,
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) throw errorFrom(res.statusCode, text, method, path);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  get(path: string, query?: Query): Promise<KubeObject> {
    return this.request('GET', path, { query });
  }

  async getOrNull(path: string): Promise<KubeObject | null> {
    try {
      return await this.get(path);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  list(path: string, query?: Query): Promise<KubeList> {
    return this.request('GET', path, { query });
  }

  create(path: string, object: KubeObject): Promise<KubeObject> {
    return this.request('POST', path, { body: object });
  }

  update(path: string, object: KubeObject): Promise<KubeObject> {
    return this.request('PUT', path, { body: object });
  }

  patch(path: string, patch: unknown, type: PatchType = 'merge'): Promise<KubeObject> {
    return this.request('PATCH', path, { body: patch, contentType: patchContentTypes[type] });
  }

  delete(path: string, options?: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan'; preconditions?: { uid?: string; resourceVersion?: string } }): Promise<unknown> {
    const body = options === undefined ? undefined : { kind: 'DeleteOptions', apiVersion: 'v1', ...options };
    return this.request('DELETE', path, { body });
  }

  /**
   * Streams watch events until the server closes the stream or `signal` aborts. An ERROR event is turned
   * into a thrown KubeApiError so callers handle 410 one way, whether it arrives as a status or an event.
   * `onOpen` is told when the server accepted the watch, which on a quiet collection may be long before
   * the first event.
   */
  async *watch(path: string, query: Query, signal: AbortSignal, onOpen?: () => void): AsyncGenerator<WatchEvent> {
    const res = await this.#pool.request({
      method: 'GET',
      path: this.#basePath + path + queryString({ ...query, watch: 1 }),
      headers: this.#headers,
      signal,
      headersTimeout: this.#timeoutMs,
      // A quiet watch is healthy; the server ends it (timeoutSeconds), not us.
      bodyTimeout: 0,
    });
    if (res.statusCode !== 200) {
      const text = await res.body.text();
      throw errorFrom(res.statusCode, text, 'WATCH', path);
    }
    onOpen?.();
    let pending = '';
    try {
      for await (const chunk of res.body) {
        pending += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line === '') continue;
          const event = JSON.parse(line) as WatchEvent;
          if (event.type === 'ERROR') {
            const status = event.object as unknown as { code?: number; reason?: string; message?: string };
            throw new KubeApiError(status.code ?? 500, status.reason, status.message ?? 'watch error');
          }
          yield event;
        }
      }
    } finally {
      res.body.destroy();
    }
  }

  close(): Promise<void> {
    return this.#pool.destroy();
  }
}

function errorFrom(status: number, text: string, method: string, path: string): KubeApiError {
  let reason: string | undefined;
  let message = text.slice(0, 500);
  try {
    const body = JSON.parse(text) as { kind?: string; reason?: string; message?: string };
    if (body.kind === 'Status') {
      reason = body.reason;
      message = body.message ?? message;
    }
  } catch {
    // not JSON: keep the text
  }
  return new KubeApiError(status, reason, `${method} ${path}: ${status} ${message}`);
}
