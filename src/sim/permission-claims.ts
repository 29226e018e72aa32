// APIExport permission claims: the provider asks for access to built-in kinds (Secrets, Namespaces, the
// LogicalCluster) in consumer workspaces, and the export's virtual workspace then serves those kinds too.
// That is how a sync agent writes a connection Secret back and reads a workspace's path.
import type { ShardState } from './shard-state.ts';
import type { KubeObject, ResourceType } from './types.ts';

interface PermissionClaim {
  group?: string;
  resource?: string;
}

export function claimedTypes(shard: ShardState, exported: KubeObject): ResourceType[] {
  const claims = (exported['spec'] as { permissionClaims?: PermissionClaim[] } | undefined)?.permissionClaims ?? [];
  const all = shard.typesFor('*').filter((t) => t.boundFrom === undefined);
  return claims.flatMap((c) => all.filter((t) => t.group === (c.group ?? '') && t.resource === c.resource));
}
