// The APIExport virtual workspace, `/services/apiexport/<export cluster>/<export>/clusters/{*|<cluster>}/…`:
// serves only the export's kinds, and only objects of logical clusters on this shard bound to the export.
// Objects keep their `kcp.io/cluster` annotation so a provider knows where each one lives.
import { boundClusters, exportKey } from './apiexports.ts';
import { SimError } from './errors.ts';
import type { Scope } from './request-path.ts';
import type { ResolvedScope, ViewResolver } from './router.ts';
import type { ShardState } from './shard-state.ts';
import type { Identity, ResourceType } from './types.ts';

export function exportView(shard: ShardState, exportTypes: Map<string, ResourceType[]>): ViewResolver {
  return (scope: Scope, identity: Identity): ResolvedScope => {
    const view = scope.view;
    if (view === undefined) throw new SimError(404, 'NotFound', 'the server could not find the requested resource');
    const types = exportTypes.get(exportKey(view.exportCluster, view.exportName)) ?? [];
    const bound = () => boundClusters(shard, view.exportCluster, view.exportName);
    if (scope.cluster !== '*' && !bound().has(scope.cluster)) {
      throw new SimError(403, 'Forbidden', `User "${identity.user}" cannot access cluster "${scope.cluster}" through APIExport "${view.exportName}": not bound`);
    }
    return {
      cluster: scope.cluster,
      types,
      visible: (cluster) => bound().has(cluster),
      present: (_cluster, object) => object,
    };
  };
}
