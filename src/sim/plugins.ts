// Everything a shard runs beyond storage and the core controllers, in start order.
import { apiExportsPlugin } from './apiexports.ts';
import { crdPlugin } from './crds.ts';
import { execPlugin } from './exec.ts';
import type { ShardPlugin } from './plugin.ts';
import { serviceAccountsPlugin } from './service-accounts.ts';
import { shardReplicationPlugin } from './shard-replication.ts';
import { tenancyPlugin } from './tenancy.ts';

export const shardPlugins: ShardPlugin[] = [crdPlugin, tenancyPlugin, apiExportsPlugin, execPlugin, serviceAccountsPlugin, shardReplicationPlugin];
