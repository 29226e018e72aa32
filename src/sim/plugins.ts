// Everything a shard runs beyond storage and the core controllers, in start order.
import { crdPlugin } from './crds.ts';
import type { ShardPlugin } from './plugin.ts';

export const shardPlugins: ShardPlugin[] = [crdPlugin];
