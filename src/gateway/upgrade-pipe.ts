// Upgraded connections (WebSocket v5.channel.k8s.io for exec/attach/port-forward, SPDY/3.1) are a raw
// byte pipe between the client's socket and a fresh mTLS socket to the shard. The shard's answer
// (101 or a Status error) goes back untouched. When either side fails, both are destroyed.
import type { Socket } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import type { Shard } from '../routing/types.ts';
import type { ShardHealth } from '../routing/types.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { GatewayError } from '../kube/gateway-error.ts';
import type { RequestContext, UpgradeTarget, UpstreamExchange } from './context.ts';
import { upstreamError } from './forward-handler.ts';
import type { ShardPools } from './shard-pools.ts';
import { respondWithError } from './respond.ts';

export interface UpgradeDeps {
  pools: ShardPools;
  metrics: GatewayMetrics;
  health: ShardHealth | undefined;
}

export function pipeUpgrade(ctx: RequestContext, shard: Shard, path: string, headers: readonly string[], deps: UpgradeDeps): void {
  const target = ctx.upgrade!;
  const url = new URL(shard.url);
  const port = Number(url.port === '' ? 443 : url.port);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const upstream = connect({
    ...deps.pools.tlsOptions(shard),
    host,
    port,
    servername: isIp(host) ? undefined : host,
    ALPNProtocols: ['http/1.1'],
  });
  // Upgraded sessions are interactive and chatty (a SPDY client waits for a reply to each stream it
  // opens): Nagle's algorithm would hold each small frame back for the peer's delayed ACK.
  upstream.setNoDelay(true);
  const pipe = new UpgradePipe(ctx, target, upstream, shard.name, deps);
  ctx.upstream = pipe;
  upstream.setTimeout(deps.pools.connectTimeoutMs);
  upstream.once('timeout', pipe.onConnectTimeout);
  upstream.once('secureConnect', () => {
    upstream.setTimeout(0);
    let head = `${ctx.req.method} ${path} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    upstream.write(head + '\r\n');
    if (target.head.length > 0) upstream.write(target.head);
    pipe.connected();
  });
}

class UpgradePipe implements UpstreamExchange {
  readonly #ctx: RequestContext;
  readonly #client: UpgradeTarget['socket'];
  readonly #upstream: TLSSocket;
  readonly #shard: string;
  readonly #deps: UpgradeDeps;
  #answered = false;
  #failedBeforeAnswer = false;
  #counted = false;

  constructor(ctx: RequestContext, target: UpgradeTarget, upstream: TLSSocket, shard: string, deps: UpgradeDeps) {
    this.#ctx = ctx;
    this.#client = target.socket;
    this.#upstream = upstream;
    this.#shard = shard;
    this.#deps = deps;
    upstream.on('error', this.onUpstreamError);
    upstream.on('close', this.onUpstreamClose);
    this.#client.on('error', this.onClientFailure);
  }

  connected(): void {
    this.#deps.metrics.upgradeOpened(this.#shard);
    this.#counted = true;
    (this.#client as Partial<Pick<Socket, 'setNoDelay'>>).setNoDelay?.(true);
    this.#upstream.once('data', this.onFirstBytes);
    this.#upstream.pipe(this.#client);
    this.#client.pipe(this.#upstream);
  }

  readonly onFirstBytes = (chunk: Buffer): void => {
    this.#answered = true;
    this.#deps.health?.reportSuccess(this.#shard);
    // "HTTP/1.1 101 …": the status code sits at bytes 9–11.
    this.#ctx.statusCode = Number(chunk.subarray(9, 12).toString('latin1')) || 0;
    this.#ctx.responded = true;
  };

  readonly onConnectTimeout = (): void => {
    const err = Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' });
    this.#upstream.destroy(err);
  };

  readonly onUpstreamError = (err: Error): void => {
    if (this.#answered) {
      this.#close();
      return;
    }
    // Nothing reached the client yet: it can still get a proper Status.
    this.#answered = true;
    this.#failedBeforeAnswer = true;
    this.#deps.health?.reportFailure(this.#shard);
    this.#client.unpipe?.(this.#upstream);
    respondWithError(this.#ctx, upstreamError(err, this.#shard));
    this.#release();
  };

  readonly onUpstreamClose = (): void => {
    if (this.#failedBeforeAnswer) return;
    if (!this.#answered) {
      this.onUpstreamError(Object.assign(new Error('shard closed the connection before answering'), { code: 'UND_ERR_SOCKET' }));
      return;
    }
    this.#close();
  };

  readonly onClientFailure = (): void => this.#close();

  stop(): void {
    this.#close();
  }

  /** Before the shard answered, the client gets the Status; after, both sides are cut. */
  fail(err: GatewayError): void {
    if (this.#answered) {
      this.#close();
      return;
    }
    this.onUpstreamError(err);
    this.#upstream.destroy();
  }

  #close(): void {
    this.#upstream.destroy();
    this.#client.destroy();
    this.#release();
  }

  #release(): void {
    if (!this.#counted) return;
    this.#counted = false;
    this.#deps.metrics.upgradeClosed(this.#shard);
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
