// Reads one object from the shard that owns a logical cluster, over the gateway's own mTLS pool to
// that shard, as a configured privileged identity (requestheader: the shard trusts the gateway's
// certificate to say who asks). The service-account authenticator asks it whether a token's
// ServiceAccount, Secret or Pod still exists, as kcp's front-proxy asks the shards' informers.
import type { LookedUpObject, LookedUpResource, ShardObjectLookup } from '../auth/service-account-authenticator.ts';
import type { RoutingTable, ShardHealth } from '../routing/types.ts';
import type { ShardPools } from './shard-pools.ts';

export interface ShardObjectReaderOptions {
  routing: RoutingTable;
  pools: ShardPools;
  /** Who the gateway says it is when asking; it needs get on serviceaccounts, secrets and pods in every workspace. */
  identity: { user: string; groups: string[] };
  timeoutMs: number;
  /** When given, a shard known to be down is not asked at all (the answer would be a timeout). */
  health?: ShardHealth | undefined;
}

const maxBodyBytes = 1024 * 1024;

export class ShardObjectReader implements ShardObjectLookup {
  readonly #options: ShardObjectReaderOptions;
  readonly #headers: string[];

  constructor(options: ShardObjectReaderOptions) {
    this.#options = options;
    this.#headers = ['accept', 'application/json', 'user-agent', 'kcp-edge/token-lookup', 'x-remote-user', options.identity.user];
    for (const group of options.identity.groups) this.#headers.push('x-remote-group', group);
  }

  async get(cluster: string, resource: LookedUpResource, namespace: string, name: string): Promise<LookedUpObject | undefined> {
    const resolution = await this.#options.routing.resolve(cluster);
    // A logical cluster the routing table does not know holds no service accounts any more.
    if (resolution === undefined) return undefined;
    const { shard } = resolution;
    if (shard.state === 'down' || this.#options.health?.isAvailable(shard.name) === false) throw new Error(`shard ${shard.name} is unavailable`);
    const path = `/clusters/${encodeURIComponent(resolution.route.cluster)}/api/v1/namespaces/${encodeURIComponent(namespace)}/${resource}/${encodeURIComponent(name)}`;
    const { timeoutMs } = this.#options;
    const { statusCode, body } = await this.#options.pools.poolFor(resolution.shard).request({
      method: 'GET',
      path,
      headers: this.#headers,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await readLimited(body);
    if (statusCode === 404) return undefined;
    if (statusCode !== 200) throw new Error(`GET ${path} on shard ${resolution.shard.name}: HTTP ${statusCode}`);
    const object = JSON.parse(text) as { metadata?: { uid?: unknown; deletionTimestamp?: unknown }; data?: { token?: unknown } };
    const uid = object.metadata?.uid;
    if (typeof uid !== 'string') throw new Error(`GET ${path} on shard ${resolution.shard.name}: no metadata.uid`);
    const token = object.data?.token;
    return {
      uid,
      deleting: object.metadata?.deletionTimestamp != null,
      token: typeof token === 'string' ? Buffer.from(token, 'base64').toString('utf8') : undefined,
    };
  }
}

async function readLimited(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBodyBytes) {
      body.destroy();
      throw new Error(`answer larger than ${maxBodyBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
