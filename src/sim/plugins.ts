// Everything a shard runs beyond storage and the core controllers, in start order.
import type { ShardPlugin } from './plugin.ts';

export const shardPlugins: ShardPlugin[] = [];
