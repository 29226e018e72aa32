// Follows the APIExportEndpointSlice of the export: its `status.endpoints[].url` lists one virtual
// workspace URL per shard serving consumers; shards come and go, and the worker follows.
import type { KubeObject, RestClient } from '../kube/rest-client.ts';
import { Reflector } from '../kube/reflector.ts';
import { syncWatchBackoff } from './watch-backoff.ts';

export interface EndpointSliceRef {
  /** Logical cluster (or workspace path) holding the slice. */
  cluster: string;
  name: string;
}

export function endpointUrls(slice: KubeObject | undefined): string[] {
  const status = slice?.status as { endpoints?: { url?: unknown }[] } | undefined;
  const urls = (status?.endpoints ?? []).map((e) => e.url).filter((u): u is string => typeof u === 'string' && u !== '');
  return [...new Set(urls.map((u) => u.replace(/\/+$/, '')))].sort();
}

export function followEndpointSlice(client: RestClient, ref: EndpointSliceRef, onEndpoints: (urls: string[]) => void, onError: (err: unknown) => void): Reflector {
  const reflector = new Reflector({
    client,
    path: `/clusters/${ref.cluster}/apis/apis.kcp.io/v1alpha1/apiexportendpointslices`,
    keyOf: (o) => o.metadata.name,
    onChange: (key, object) => {
      if (key === ref.name) onEndpoints(endpointUrls(object));
    },
    onSynced: () => {
      if (!reflector.store.has(ref.name)) onEndpoints([]);
    },
    onError,
    backoff: syncWatchBackoff,
  });
  reflector.start();
  return reflector;
}
