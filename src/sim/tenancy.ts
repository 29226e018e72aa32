// tenancy.kcp.io Workspaces and core.kcp.io LogicalClusters, the way kcp schedules them: the Workspace
// lives in its parent's logical cluster; the scheduler picks a shard by `spec.location.selector` (shard
// labels), records it in an internal annotation, `spec.cluster`, and `spec.URL` (the external URL clients
// reach the workspace at: the front door's, never the shard's), and creates the LogicalCluster (named
// `cluster`, annotated with its `kcp.io/path`) on that shard, through that shard's API when it is another one.
// Phases: Scheduling → Initializing → Ready.
import type { ApiClient } from './client.ts';
import { reconcileQueue } from './controller-loop.ts';
import { createObject, deleteObject, updateObject } from './objects.ts';
import type { ShardPlugin, ShardServices } from './plugin.ts';
import { ownerAnnotation, ownerBinding } from './rbac/workspace-owner.ts';
import { schedulableShards, shardGR, type LabelSelector } from './shard-objects.ts';
import { logicalClusterGR, newClusterName, now, pathAnnotation, type ShardState } from './shard-state.ts';
import type { KubeObject } from './types.ts';

export const workspaceGR = 'workspaces.tenancy.kcp.io';
const workspaceFinalizer = 'tenancy.kcp.io/logicalcluster';
/** Which shard a Workspace was scheduled to, as kcp records it; spec.URL says where clients go, not this. */
export const shardAnnotation = 'internal.tenancy.kcp.io/shard';

interface WorkspaceSpec {
  type?: { name?: string; path?: string };
  location?: { selector?: LabelSelector };
  cluster?: string;
  URL?: string;
}

function ownerOf(ws: KubeObject): Record<string, string> {
  const owner = ws.metadata.annotations?.[ownerAnnotation];
  return owner !== undefined ? { [ownerAnnotation]: owner } : {};
}

/**
 * As kcp: the Shard objects whose labels match `spec.location.selector`, less the cordoned ones. This
 * shard when it is among them (the stand-in keeps a workspace near its parent), else the first by name.
 */
function chooseShard(shard: ShardState, spec: WorkspaceSpec): string | undefined {
  const candidates = schedulableShards(shard, spec.location?.selector);
  return (candidates.find((s) => s.name === shard.settings.name) ?? candidates[0])?.name;
}

/** The API URL of the shard a Workspace was scheduled to (this one or a peer). */
function scheduledShardUrl(shard: ShardState, ws: KubeObject): string | undefined {
  const name = ws.metadata.annotations?.[shardAnnotation];
  if (name === undefined) return undefined;
  return name === shard.settings.name ? shard.url : shard.settings.peers().find((p) => p.name === name)?.url;
}

const lcPath = (cluster: string) => `/clusters/${cluster}/apis/core.kcp.io/v1alpha1/logicalclusters/cluster`;

export const tenancyPlugin: ShardPlugin = {
  name: 'tenancy',
  start(shard: ShardState, services: ShardServices) {
    if (!shard.kcp) return () => undefined;
    const wsType = shard.builtinType('tenancy.kcp.io', 'workspaces');
    const lcType = shard.builtinType('core.kcp.io', 'logicalclusters');

    const writeStatus = (cluster: string, ws: KubeObject, status: Record<string, unknown>) =>
      updateObject(shard, cluster, wsType, { ...ws, status: { ...(ws['status'] as object | undefined), ...status } }, '', ws.metadata.name ?? '', { subresource: 'status' });

    async function remoteLogicalCluster(url: string, cluster: string, body: KubeObject | undefined): Promise<KubeObject | undefined> {
      const client: ApiClient = await services.peerClient(url);
      if (body !== undefined) {
        const created = await client.request('POST', `/clusters/${cluster}/apis/core.kcp.io/v1alpha1/logicalclusters`, { body });
        if (created.status !== 201 && created.status !== 409) throw new Error(`creating logical cluster on ${url}: ${created.status} ${created.text}`);
      }
      const got = await client.request<KubeObject>('GET', lcPath(cluster));
      return got.status === 200 ? got.body : undefined;
    }

    async function reconcileWorkspace(key: string): Promise<'done' | 'retry'> {
      const [parent = '', name = ''] = key.split('/');
      let ws = shard.store.get(parent, workspaceGR, '', name);
      if (ws === undefined) return 'done';
      const spec = (ws['spec'] ?? {}) as WorkspaceSpec;
      const phase = (ws['status'] as { phase?: string } | undefined)?.phase;

      if (ws.metadata.deletionTimestamp !== undefined) {
        const target = scheduledShardUrl(shard, ws);
        if (spec.cluster !== undefined && target !== undefined) {
          if (target === shard.url) {
            if (shard.store.get(spec.cluster, logicalClusterGR, '', 'cluster') !== undefined) deleteObject(shard, spec.cluster, lcType, '', 'cluster');
          } else {
            const client = await services.peerClient(target);
            const res = await client.request('DELETE', lcPath(spec.cluster));
            if (res.status !== 200 && res.status !== 404 && res.status !== 202) return 'retry';
          }
        }
        ws = shard.store.get(parent, workspaceGR, '', name);
        if (ws === undefined) return 'done';
        updateObject(shard, parent, wsType, { ...ws, metadata: { ...ws.metadata, finalizers: (ws.metadata.finalizers ?? []).filter((f) => f !== workspaceFinalizer) } }, '', name);
        return 'done';
      }
      if (phase === 'Ready') return 'done';

      // Placed already (spec.cluster and spec.URL set, e.g. a Workspace re-created by a move): keep it there.
      if (spec.cluster === undefined || spec.URL === undefined) {
        const target = chooseShard(shard, spec);
        if (target === undefined) {
          // Written once: rewriting it would wake this reconcile again at once, a busy loop.
          const waiting = (ws['status'] as { conditions?: { reason?: string }[] } | undefined)?.conditions?.some((c) => c.reason === 'Unschedulable') === true;
          if (phase === 'Scheduling' && waiting) return 'retry';
          writeStatus(parent, ws, {
            phase: 'Scheduling',
            conditions: [
              { type: 'WorkspaceScheduled', status: 'False', reason: 'Unschedulable', message: 'No available shards to schedule the workspace', lastTransitionTime: now() },
            ],
          });
          return 'retry';
        }
        const cluster = spec.cluster ?? newClusterName();
        const path = `${shard.clusterPath(parent) ?? parent}:${name}`;
        // Without a front door configured, the workspace is reached at the shard that holds it.
        const external =
          shard.externalURL !== '' ? shard.externalURL : target === shard.settings.name ? shard.url : (shard.settings.peers().find((p) => p.name === target)?.url ?? shard.url);
        const nextSpec: WorkspaceSpec = { type: spec.type ?? { name: 'universal', path: 'root' }, ...spec, cluster, URL: `${external}/clusters/${path}` };
        const finalizers = [...new Set([...(ws.metadata.finalizers ?? []), workspaceFinalizer])];
        const annotations = { ...ws.metadata.annotations, [shardAnnotation]: target };
        ws = updateObject(shard, parent, wsType, { ...ws, metadata: { ...ws.metadata, finalizers, annotations }, spec: nextSpec }, '', name);
        ws = writeStatus(parent, ws, { phase: 'Scheduling', conditions: [{ type: 'WorkspaceScheduled', status: 'True', lastTransitionTime: now() }] });
      }
      const current = (ws['spec'] ?? {}) as WorkspaceSpec;
      const cluster = current.cluster ?? '';
      const targetUrl = scheduledShardUrl(shard, ws);
      if (targetUrl === undefined) return 'retry';
      const parentPath = shard.clusterPath(parent) ?? parent;
      const logicalCluster: KubeObject = {
        apiVersion: 'core.kcp.io/v1alpha1',
        kind: 'LogicalCluster',
        metadata: { name: 'cluster', annotations: { [pathAnnotation]: `${parentPath}:${name}`, ...ownerOf(ws) } },
        spec: { owner: { apiVersion: 'tenancy.kcp.io/v1alpha1', resource: 'workspaces', name, cluster: parent, uid: ws.metadata.uid } },
      };
      let lc: KubeObject | undefined;
      if (targetUrl === shard.url) {
        lc = shard.store.get(cluster, logicalClusterGR, '', 'cluster') ?? createObject(shard, cluster, lcType, logicalCluster, '');
      } else {
        lc = await remoteLogicalCluster(targetUrl, cluster, phase === 'Initializing' ? undefined : logicalCluster);
      }
      if ((ws['status'] as { phase?: string } | undefined)?.phase !== 'Initializing') ws = writeStatus(parent, ws, { phase: 'Initializing' });
      const lcPhase = (lc?.['status'] as { phase?: string } | undefined)?.phase;
      if (lcPhase !== 'Ready') return 'retry';
      writeStatus(parent, ws, {
        phase: 'Ready',
        conditions: [
          { type: 'WorkspaceScheduled', status: 'True', lastTransitionTime: now() },
          { type: 'Ready', status: 'True', lastTransitionTime: now() },
        ],
      });
      return 'done';
    }

    /** A new LogicalCluster gets its `default` namespace, then turns Ready; a deleted one takes its contents with it. */
    async function reconcileLogicalCluster(cluster: string): Promise<'done' | 'retry'> {
      const lc = shard.store.get(cluster, logicalClusterGR, '', 'cluster');
      if (lc === undefined) {
        shard.dropCluster(cluster);
        return 'done';
      }
      const phase = (lc['status'] as { phase?: string } | undefined)?.phase;
      if (phase === 'Ready') return 'done';
      if (phase === undefined) {
        updateObject(shard, cluster, lcType, { ...lc, status: { phase: 'Initializing', URL: `${shard.url}/clusters/${cluster}` } }, '', 'cluster', { subresource: 'status' });
        return 'retry';
      }
      if (shard.store.get(cluster, 'namespaces', '', 'default') === undefined)
        createObject(shard, cluster, shard.builtinType('', 'namespaces'), { metadata: { name: 'default' } }, '');
      const admin = ownerBinding(lc);
      if (admin !== undefined && shard.store.get(cluster, 'clusterrolebindings.rbac.authorization.k8s.io', '', 'workspace-admin') === undefined) {
        createObject(shard, cluster, shard.builtinType('rbac.authorization.k8s.io', 'clusterrolebindings'), admin, '');
      }
      const fresh = shard.store.get(cluster, logicalClusterGR, '', 'cluster');
      if (fresh !== undefined)
        updateObject(
          shard,
          cluster,
          lcType,
          { ...fresh, status: { ...(fresh['status'] as object), phase: 'Ready', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now() }] } },
          '',
          'cluster',
          { subresource: 'status' },
        );
      return 'done';
    }

    const workspaces = reconcileQueue(reconcileWorkspace);
    const clusters = reconcileQueue(reconcileLogicalCluster);
    const unfollow = shard.store.hub.follow((event) => {
      if (event.gr === workspaceGR) workspaces.enqueue(`${event.cluster}/${event.object.metadata.name ?? ''}`);
      if (event.gr === logicalClusterGR && event.cluster !== 'root') {
        clusters.enqueue(event.cluster);
        // Its workspace waits for it to turn Ready; tell it rather than leave it to its retries.
        const owner = (event.object['spec'] as { owner?: { cluster?: string; name?: string } } | undefined)?.owner;
        if (owner?.cluster !== undefined && owner.name !== undefined && shard.store.get(owner.cluster, workspaceGR, '', owner.name) !== undefined)
          workspaces.enqueue(`${owner.cluster}/${owner.name}`);
      }
      // As kcp: a shard appearing or changing its labels may make a waiting workspace schedulable.
      if (event.gr === shardGR && event.cluster === 'root') {
        for (const { cluster, object } of shard.store.list('*', workspaceGR)) {
          if ((object['status'] as { phase?: string } | undefined)?.phase !== 'Ready') workspaces.enqueue(`${cluster}/${object.metadata.name ?? ''}`);
        }
      }
    });
    // Started on existing data (a restart): whatever was half done carries on.
    for (const { cluster, object } of shard.store.list('*', workspaceGR)) workspaces.enqueue(`${cluster}/${object.metadata.name ?? ''}`);
    for (const cluster of shard.hostedClusters()) if (cluster !== 'root') clusters.enqueue(cluster);
    return () => {
      unfollow();
      workspaces.stop();
      clusters.stop();
    };
  },
};
