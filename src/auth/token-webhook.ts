// A bearer token the other authenticators did not accept, asked of a remote service the way
// kube-apiserver's webhook token authenticator asks it: POST a TokenReview (authentication.k8s.io/v1)
// with spec.token; status.authenticated and status.user are the answer. Answers are cached by the
// token's SHA-256, positive ones for cacheTtlMs and negative ones for negativeCacheTtlMs (kube-apiserver
// uses --authentication-token-webhook-cache-ttl, 2 minutes, for both). A webhook that errs, answers
// anything but 2xx or takes longer than timeoutMs refuses the token (fails closed) and that is not
// cached: the next request asks again.
import { LRUCache } from 'lru-cache';
import { Agent, request } from 'undici';
import { GatewayError } from '../kube/gateway-error.ts';
import { AuthFailure, authFailureOf } from './auth-failure.ts';
import type { Authenticator, Credentials, Identity } from './identity.ts';
import type { AuthMetrics } from './metrics.ts';
import { tokenKey } from './token-key.ts';
import type { WebhookEndpoint } from './webhook-kubeconfig.ts';

export interface TokenWebhookSettings {
  endpoint: WebhookEndpoint;
  cacheTtlMs: number;
  negativeCacheTtlMs: number;
  timeoutMs: number;
  maxTokenBytes: number;
}

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  error?: string;
}

type Answer = { identity: Identity } | { denied: string };

const maxResponseBytes = 1024 * 1024;

export class TokenWebhookAuthenticator implements Authenticator {
  readonly #settings: TokenWebhookSettings;
  readonly #agent: Agent;
  readonly #metrics: AuthMetrics | undefined;
  readonly #answers = new LRUCache<string, Answer>({ max: 10_000 });
  readonly #pending = new Map<string, Promise<Answer>>();

  constructor(settings: TokenWebhookSettings, metrics?: AuthMetrics) {
    this.#settings = settings;
    this.#metrics = metrics;
    const { endpoint, timeoutMs } = settings;
    this.#agent = new Agent({
      connect: {
        ...(endpoint.ca === undefined ? {} : { ca: endpoint.ca }),
        ...(endpoint.cert === undefined ? {} : { cert: endpoint.cert, key: endpoint.key }),
        rejectUnauthorized: !endpoint.insecureSkipTlsVerify,
        timeout: timeoutMs,
      },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connections: 16,
    });
  }

  async authenticate(credentials: Credentials): Promise<Identity | undefined> {
    const token = credentials.token;
    if (token === undefined) return undefined;
    try {
      if (token.length > this.#settings.maxTokenBytes) throw new AuthFailure('token_too_large', `${token.length} bytes`);
      const answer = await this.#answer(token);
      if ('denied' in answer) throw new AuthFailure('webhook_denied', answer.denied);
      return answer.identity;
    } catch (err) {
      const failure = authFailureOf(err);
      this.#metrics?.failure(failure.reason);
      throw new GatewayError('UNAUTHORIZED', 'Unauthorized', { internalReason: `token webhook: ${failure.message}`, cause: failure });
    }
  }

  #answer(token: string): Promise<Answer> {
    const key = tokenKey(token);
    const cached = this.#answers.get(key);
    if (cached !== undefined) {
      if ('identity' in cached) this.#metrics?.success('hit');
      return Promise.resolve(cached);
    }
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = this.#review(token)
        .then((answer) => {
          const ttl = 'identity' in answer ? this.#settings.cacheTtlMs : this.#settings.negativeCacheTtlMs;
          if (ttl > 0) this.#answers.set(key, answer, { ttl });
          if ('identity' in answer) this.#metrics?.success('miss');
          return answer;
        })
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  async #review(token: string): Promise<Answer> {
    const { endpoint, timeoutMs } = this.#settings;
    const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { creationTimestamp: null }, spec: { token }, status: { user: {} } };
    let statusCode: number;
    let text: string;
    try {
      const response = await request(endpoint.server, {
        method: 'POST',
        dispatcher: this.#agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(endpoint.token === undefined ? {} : { authorization: `Bearer ${endpoint.token}` }),
        },
        body: JSON.stringify(review),
        signal: AbortSignal.timeout(timeoutMs),
      });
      statusCode = response.statusCode;
      text = await readLimited(response.body);
    } catch (err) {
      throw new AuthFailure('webhook_unavailable', err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    }
    if (statusCode < 200 || statusCode > 299) throw new AuthFailure('webhook_unavailable', `HTTP ${statusCode}`);
    let status: TokenReviewStatus;
    try {
      status = (JSON.parse(text) as { status?: TokenReviewStatus }).status ?? {};
    } catch {
      throw new AuthFailure('webhook_unavailable', 'the answer is not a JSON TokenReview');
    }
    if (status.authenticated !== true) return { denied: status.error ?? 'not authenticated' };
    const username = status.user?.username;
    if (typeof username !== 'string' || username === '') return { denied: 'authenticated without a username' };
    const groups = (status.user?.groups ?? []).filter((g): g is string => typeof g === 'string');
    const extra: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(status.user?.extra ?? {})) if (Array.isArray(v)) extra[k] = v.filter((x): x is string => typeof x === 'string');
    return { identity: Object.freeze({ user: username, groups: Object.freeze(groups) as string[], extra: Object.freeze(extra) }) };
  }

  async close(): Promise<void> {
    this.#answers.clear();
    await this.#agent.close();
  }
}

async function readLimited(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxResponseBytes) {
      body.destroy();
      throw new Error(`answer larger than ${maxResponseBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
