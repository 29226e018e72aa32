// GETs of discovery documents and key sets: a bounded time, a bounded size, and the realm's own CA
// bundle (Keycloak behind a private CA is the common case). One undici Agent per distinct bundle.
import { Agent, request, type Dispatcher } from 'undici';

export interface JsonFetcherOptions {
  timeoutMs: number;
  maxResponseBytes: number;
}

export class JsonFetcher {
  readonly #agents = new Map<string, Agent>();
  readonly #options: JsonFetcherOptions;

  constructor(options: JsonFetcherOptions) {
    this.#options = options;
  }

  #agent(ca: string | undefined): Dispatcher {
    const key = ca ?? '';
    let agent = this.#agents.get(key);
    if (agent === undefined) {
      const { timeoutMs } = this.#options;
      agent = new Agent({
        connect: { ...(ca !== undefined ? { ca } : {}), timeout: timeoutMs },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        connections: 4,
      });
      this.#agents.set(key, agent);
    }
    return agent;
  }

  /** Resolves to the parsed JSON body of a 200 answer; rejects with a message naming the URL otherwise. */
  async get(url: string, ca: string | undefined): Promise<unknown> {
    const { statusCode, body } = await request(url, {
      method: 'GET',
      headers: { accept: 'application/json' },
      dispatcher: this.#agent(ca),
      signal: AbortSignal.timeout(this.#options.timeoutMs),
    });
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > this.#options.maxResponseBytes) throw new Error(`GET ${url}: response larger than ${this.#options.maxResponseBytes} bytes`);
        chunks.push(chunk);
      }
    } finally {
      if (!body.destroyed) body.destroy();
    }
    if (statusCode !== 200) throw new Error(`GET ${url}: HTTP ${statusCode}`);
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    } catch {
      throw new Error(`GET ${url}: response is not JSON`);
    }
  }

  async close(): Promise<void> {
    const agents = [...this.#agents.values()];
    this.#agents.clear();
    await Promise.all(agents.map((a) => a.close()));
  }
}
