// apis.kcp.io: APIExports get an identity and a default endpoint slice; APIBindings are resolved (locally
// or on a peer shard), their schemas fetched, and their kinds become servable in the binding's logical
// cluster; endpoint slices list the virtual-workspace URL of every shard that has bindings to the export.
import { createHash } from 'node:crypto';
import type { ApiClient } from './client.ts';
import { typesFromSchema } from './bound-types.ts';
import { reconcileQueue } from './controller-loop.ts';
import { createObject, updateObject } from './objects.ts';
import type { ShardPlugin, ShardServices } from './plugin.ts';
import { now, sameGVR, type ShardState } from './shard-state.ts';
import type { KubeObject, ResourceType } from './types.ts';
import { exportView } from './apiexport-view.ts';
import { claimedTypes } from './permission-claims.ts';

export const bindingGR = 'apibindings.apis.kcp.io';
export const exportGR = 'apiexports.apis.kcp.io';
export const schemaGR = 'apiresourceschemas.apis.kcp.io';
export const sliceGR = 'apiexportendpointslices.apis.kcp.io';
const apis = '/apis/apis.kcp.io/v1alpha1';

interface ExportRef {
  path?: string;
  name: string;
}

interface FoundExport {
  cluster: string;
  export: KubeObject;
  schemas: KubeObject[];
}

export function identityHash(exportObject: KubeObject): string {
  return createHash('sha256')
    .update(exportObject.metadata.uid ?? '')
    .digest('hex');
}

/** Export key used by views and caches: `<export cluster>/<export name>`. */
export const exportKey = (cluster: string, name: string) => `${cluster}/${name}`;

/** Bound clusters per export, valid while the bindings' generation in that store is `generation`. */
const boundCache = new WeakMap<ShardState['store'], { generation: number; byExport: Map<string, ReadonlySet<string>> }>();

/**
 * Which logical clusters of this shard have a Bound binding to the export. The virtual workspace asks on
 * every request and for every watch event, so the answer is kept until a binding changes.
 */
export function boundClusters(shard: ShardState, exportCluster: string, exportName: string): ReadonlySet<string> {
  const generation = shard.store.generation(bindingGR);
  let cache = boundCache.get(shard.store);
  if (cache === undefined || cache.generation !== generation) boundCache.set(shard.store, (cache = { generation, byExport: new Map() }));
  const key = exportKey(exportCluster, exportName);
  const cached = cache.byExport.get(key);
  if (cached !== undefined) return cached;
  const clusters = new Set<string>();
  for (const { cluster, object } of shard.store.scan(bindingGR)) {
    const status = object['status'] as { phase?: string; apiExportClusterName?: string } | undefined;
    const ref = (object['spec'] as { reference?: { export?: ExportRef } } | undefined)?.reference?.export;
    if (status?.phase === 'Bound' && status.apiExportClusterName === exportCluster && ref?.name === exportName) clusters.add(cluster);
  }
  cache.byExport.set(key, clusters);
  return clusters;
}

export const apiExportsPlugin: ShardPlugin = {
  name: 'apiexports',
  start(shard: ShardState, services: ShardServices) {
    if (!shard.kcp) return () => undefined;
    /** Kinds each export serves, learnt from local exports and from bindings: feeds the virtual workspace. */
    const exportTypes = new Map<string, ResourceType[]>();
    /** Kinds each binding added to its cluster: `<cluster>/<binding>` → types. */
    const bindingTypes = new Map<string, ResourceType[]>();
    services.setViewResolver(exportView(shard, exportTypes));

    const type = (resource: string) => shard.builtinType('apis.kcp.io', resource);

    function refreshBoundTypes(cluster: string): void {
      const types: ResourceType[] = [];
      for (const [key, list] of bindingTypes) {
        if (!key.startsWith(`${cluster}/`)) continue;
        for (const t of list) if (!types.some((x) => sameGVR(x, t))) types.push(t);
      }
      if (types.length === 0) shard.boundTypes.delete(cluster);
      else shard.boundTypes.set(cluster, types);
    }

    async function fetchExport(ref: ExportRef, bindingCluster: string): Promise<FoundExport | undefined> {
      const path = ref.path ?? shard.clusterPath(bindingCluster) ?? bindingCluster;
      const local = shard.resolveCluster(path);
      if (local !== undefined) {
        const exported = shard.store.get(local, exportGR, '', ref.name);
        if (exported === undefined) return undefined;
        const names = (exported['spec'] as { latestResourceSchemas?: string[] } | undefined)?.latestResourceSchemas ?? [];
        const schemas = names.map((n) => shard.store.get(local, schemaGR, '', n)).filter((s): s is KubeObject => s !== undefined);
        return schemas.length === names.length ? { cluster: local, export: exported, schemas } : undefined;
      }
      for (const peer of shard.settings.peers()) {
        const client: ApiClient = await services.peerClient(peer.url);
        const got = await client.request<KubeObject>('GET', `/clusters/${path}${apis}/apiexports/${ref.name}`);
        if (got.status !== 200) continue;
        const cluster = got.body.metadata.annotations?.['kcp.io/cluster'] ?? path;
        const names = (got.body['spec'] as { latestResourceSchemas?: string[] } | undefined)?.latestResourceSchemas ?? [];
        const schemas: KubeObject[] = [];
        for (const n of names) {
          const s = await client.request<KubeObject>('GET', `/clusters/${cluster}${apis}/apiresourceschemas/${n}`);
          if (s.status === 200) schemas.push(s.body);
        }
        return schemas.length === names.length ? { cluster, export: got.body, schemas } : undefined;
      }
      return undefined;
    }

    async function reconcileBinding(key: string): Promise<'done' | 'retry'> {
      const [cluster = '', name = ''] = key.split('/');
      const binding = shard.store.get(cluster, bindingGR, '', name);
      if (binding === undefined) {
        bindingTypes.delete(key);
        refreshBoundTypes(cluster);
        poke();
        return 'done';
      }
      // Bound before a restart: only its kinds have to be learnt again.
      const bound = (binding['status'] as { phase?: string } | undefined)?.phase === 'Bound';
      if (bound && bindingTypes.has(key)) return 'done';
      const ref = (binding['spec'] as { reference?: { export?: ExportRef } } | undefined)?.reference?.export;
      if (ref?.name === undefined) return 'done';
      const found = await fetchExport(ref, cluster);
      if (found === undefined && bound) return 'retry';
      if (found === undefined) {
        const current = shard.store.get(cluster, bindingGR, '', name);
        if (current !== undefined && (current['status'] as { phase?: string } | undefined)?.phase !== 'Binding') {
          updateObject(
            shard,
            cluster,
            type('apibindings'),
            {
              ...current,
              status: {
                phase: 'Binding',
                conditions: [
                  { type: 'APIExportValid', status: 'False', reason: 'APIExportNotFound', message: `APIExport ${ref.path ?? ''}:${ref.name} not found`, lastTransitionTime: now() },
                ],
              },
            },
            '',
            name,
            { subresource: 'status' },
          );
        }
        return 'retry';
      }
      const hash = identityHash(found.export);
      const from = { exportCluster: found.cluster, exportName: ref.name, identityHash: hash };
      const types = found.schemas.flatMap((s) => typesFromSchema(s, from));
      const taken = shard.typesFor(cluster).filter((t) => t.boundFrom === undefined || t.boundFrom.exportName !== ref.name || t.boundFrom.exportCluster !== found.cluster);
      const clash = types.find((t) => taken.some((x) => x.group === t.group && x.resource === t.resource));
      const current = shard.store.get(cluster, bindingGR, '', name);
      if (current === undefined) return 'done';
      if (clash !== undefined) {
        updateObject(
          shard,
          cluster,
          type('apibindings'),
          {
            ...current,
            status: {
              phase: 'Binding',
              conditions: [
                {
                  type: 'BindingUpToDate',
                  status: 'False',
                  reason: 'NamingConflicts',
                  message: `${clash.resource}.${clash.group} is already served in this workspace`,
                  lastTransitionTime: now(),
                },
              ],
            },
          },
          '',
          name,
          { subresource: 'status' },
        );
        return 'done';
      }
      bindingTypes.set(key, types);
      exportTypes.set(exportKey(found.cluster, ref.name), [...types, ...claimedTypes(shard, found.export)]);
      refreshBoundTypes(cluster);
      if (bound) {
        poke();
        return 'done';
      }
      updateObject(
        shard,
        cluster,
        type('apibindings'),
        {
          ...current,
          status: {
            phase: 'Bound',
            apiExportClusterName: found.cluster,
            boundResources: found.schemas.map((s) => {
              const spec = s['spec'] as { group: string; names: { plural: string }; versions: Array<{ name: string; storage?: boolean }> };
              return {
                group: spec.group,
                resource: spec.names.plural,
                schema: { name: s.metadata.name, UID: s.metadata.uid, identityHash: hash },
                storageVersions: spec.versions.filter((v) => v.storage === true).map((v) => v.name),
              };
            }),
            conditions: [
              { type: 'Ready', status: 'True', lastTransitionTime: now() },
              { type: 'InitialBindingCompleted', status: 'True', lastTransitionTime: now() },
            ],
          },
        },
        '',
        name,
        { subresource: 'status' },
      );
      poke();
      return 'done';
    }

    async function reconcileExport(key: string): Promise<'done' | 'retry'> {
      const [cluster = '', name = ''] = key.split('/');
      const exported = shard.store.get(cluster, exportGR, '', name);
      if (exported === undefined) return 'done';
      const names = (exported['spec'] as { latestResourceSchemas?: string[] } | undefined)?.latestResourceSchemas ?? [];
      const schemas = names.map((n) => shard.store.get(cluster, schemaGR, '', n)).filter((s): s is KubeObject => s !== undefined);
      const hash = identityHash(exported);
      exportTypes.set(exportKey(cluster, name), [
        ...schemas.flatMap((s) => typesFromSchema(s, { exportCluster: cluster, exportName: name, identityHash: hash })),
        ...claimedTypes(shard, exported),
      ]);
      if ((exported['status'] as { identityHash?: string } | undefined)?.identityHash !== hash) {
        updateObject(
          shard,
          cluster,
          type('apiexports'),
          { ...exported, status: { identityHash: hash, conditions: [{ type: 'IdentityValid', status: 'True', lastTransitionTime: now() }] } },
          '',
          name,
          { subresource: 'status' },
        );
      }
      // kcp creates an endpoint slice named after the export next to it.
      if (shard.store.get(cluster, sliceGR, '', name) === undefined) {
        createObject(shard, cluster, type('apiexportendpointslices'), { metadata: { name }, spec: { export: { path: shard.clusterPath(cluster) ?? cluster, name } } }, '');
      }
      return schemas.length === names.length ? 'done' : 'retry';
    }

    async function shardsWithBindings(exportCluster: string, exportName: string): Promise<string[]> {
      const urls: string[] = [];
      if (boundClusters(shard, exportCluster, exportName).size > 0) urls.push(shard.url);
      for (const peer of shard.settings.peers()) {
        const client = await services.peerClient(peer.url);
        const res = await client.request<{ items?: KubeObject[] }>('GET', `/clusters/*${apis}/apibindings`);
        const bound = (res.body.items ?? []).some((b) => {
          const status = b['status'] as { phase?: string; apiExportClusterName?: string } | undefined;
          const ref = (b['spec'] as { reference?: { export?: ExportRef } } | undefined)?.reference?.export;
          return status?.phase === 'Bound' && status.apiExportClusterName === exportCluster && ref?.name === exportName;
        });
        if (bound) urls.push(peer.url);
      }
      return urls;
    }

    async function reconcileSlice(key: string): Promise<'done' | 'retry'> {
      const [cluster = '', name = ''] = key.split('/');
      const slice = shard.store.get(cluster, sliceGR, '', name);
      if (slice === undefined) return 'done';
      const ref = (slice['spec'] as { export?: ExportRef } | undefined)?.export;
      if (ref?.name === undefined) return 'done';
      const found = await fetchExport(ref, cluster);
      if (found === undefined) return 'retry';
      const endpoints = (await shardsWithBindings(found.cluster, ref.name)).map((url) => ({ url: `${url}/services/apiexport/${found.cluster}/${ref.name}` }));
      const current = shard.store.get(cluster, sliceGR, '', name);
      if (current === undefined) return 'done';
      const status = current['status'] as { endpoints?: unknown[] } | undefined;
      if (JSON.stringify(status?.endpoints ?? []) !== JSON.stringify(endpoints) || status === undefined) {
        updateObject(
          shard,
          cluster,
          type('apiexportendpointslices'),
          { ...current, status: { endpoints, conditions: [{ type: 'EndpointsReady', status: 'True', lastTransitionTime: now() }] } },
          '',
          name,
          { subresource: 'status' },
        );
      }
      return 'done';
    }

    const bindings = reconcileQueue(reconcileBinding);
    const exportsQueue = reconcileQueue(reconcileExport);
    const slices = reconcileQueue(reconcileSlice);
    /** Bindings change on any shard: every slice here is re-checked now and then while slices exist. */
    const poke = () => {
      for (const { cluster, object } of shard.store.list('*', sliceGR)) slices.enqueue(`${cluster}/${object.metadata.name ?? ''}`);
    };
    const ticker = setInterval(poke, 500);
    const unfollow = shard.store.hub.follow((event) => {
      const key = `${event.cluster}/${event.object.metadata.name ?? ''}`;
      if (event.gr === bindingGR) bindings.enqueue(key);
      if (event.gr === exportGR || (event.gr === schemaGR && event.type !== 'DELETED')) {
        if (event.gr === exportGR) exportsQueue.enqueue(key);
        else for (const { object } of shard.store.list(event.cluster, exportGR)) exportsQueue.enqueue(`${event.cluster}/${object.metadata.name ?? ''}`);
      }
      if (event.gr === sliceGR && event.type === 'ADDED') slices.enqueue(key);
    });
    // Started on existing data (a restart): learn every export and binding again.
    for (const { cluster, object } of shard.store.list('*', exportGR)) exportsQueue.enqueue(`${cluster}/${object.metadata.name ?? ''}`);
    for (const { cluster, object } of shard.store.list('*', bindingGR)) bindings.enqueue(`${cluster}/${object.metadata.name ?? ''}`);
    poke();
    return () => {
      clearInterval(ticker);
      unfollow();
      bindings.stop();
      exportsQueue.stop();
      slices.stop();
    };
  },
};
