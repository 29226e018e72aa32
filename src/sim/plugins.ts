// Everything a shard runs beyond storage and the core controllers, in start order.
import { apiExportsPlugin } from './apiexports.ts';
import { crdPlugin } from './crds.ts';
import { podStreamsPlugin } from './pods/upgrades.ts';
import type { ShardPlugin } from './plugin.ts';
import { serviceAccountsPlugin } from './service-accounts.ts';
import { shardReplicationPlugin } from './shard-replication.ts';
import { tenancyPlugin } from './tenancy.ts';

export const shardPlugins: ShardPlugin[] = [crdPlugin, tenancyPlugin, apiExportsPlugin, podStreamsPlugin, serviceAccountsPlugin, shardReplicationPlugin];
