// Extension points for the behaviour beyond plain storage (tenancy, APIExports, exec): each is a plugin
// started with the shard and stopped with it.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { AuthConfig } from './authenticate.ts';
import type { ApiClient } from './client.ts';
import type { ViewResolver } from './router.ts';
import type { ShardState } from './shard-state.ts';

export type UpgradeHandler = (shard: ShardState, auth: AuthConfig, req: IncomingMessage, socket: Socket, head: Buffer) => boolean;

export interface ShardServices {
  /** A client to another shard of the stack, as this shard's privileged identity. */
  peerClient(url: string): Promise<ApiClient>;
  setViewResolver(resolver: ViewResolver): void;
  onUpgrade(handler: UpgradeHandler): void;
}

export interface ShardPlugin {
  name: string;
  start(shard: ShardState, services: ShardServices): () => void;
}
