// What a resource handler gets: the shard, the caller, the addressed kind and object, and which logical
// clusters the request may see (all of them on a shard; only bound ones through an APIExport view).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ShardState } from '../shard-state.ts';
import type { Identity, KubeObject, ResourceType } from '../types.ts';

export interface ResourceRequest {
  shard: ShardState;
  identity: Identity;
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  type: ResourceType;
  /** Resolved logical cluster name, or `*`. */
  cluster: string;
  namespace: string;
  name: string;
  subresource: string;
  /** Which clusters' objects the request may see when `cluster` is `*`. */
  visible: (cluster: string) => boolean;
  /** Hook for views that must shape objects on the way out (the virtual workspace keeps them as they are). */
  /** Must not change its argument: watch events hand every watcher the stored object itself. */
  present: (cluster: string, object: KubeObject) => KubeObject;
}

export function dryRun(query: URLSearchParams): boolean {
  return query.getAll('dryRun').includes('All');
}
