// Moves one workspace's logical cluster to another shard. Each step is recorded in the routing table
// before it is taken, so a mover that dies anywhere leaves a state the next run resumes (or `abort`
// rolls back):
//   copying  the logical cluster is created on the target and every object copied while the source still
//            takes writes; then the route says Moving (the edge serves reads from the source and answers
//            writes with 429 + Retry-After) for a catch-up with what changed during the copy;
//   cutover  the target holds everything: the Workspace is pointed at the target and the route flips;
//   done     the source's copy of the logical cluster is deleted.
import { isNotFound, RestClient, type KubeObject } from '../kube/rest-client.ts';
import { catchUp, copyCluster, type CopyProgress } from './cluster-copy.ts';
import { MoveRecords, type MoveRecord } from './move-record.ts';
import type { RedisRouteStore } from './redis-route-store.ts';
import type { Shard } from './types.ts';

/** Where kcp records the shard a Workspace's logical cluster was scheduled to. */
const workspaceShardAnnotation = 'internal.tenancy.kcp.io/shard';

export interface MoveCredentials {
  certPem: string;
  keyPem: string;
  caPem?: string;
}

export interface MoveOptions {
  store: RedisRouteStore;
  credentials: MoveCredentials;
  path: string;
  to?: string;
  /** Told after every object copied; a throw stops the move where it stands, as a crash would. */
  onProgress?(progress: CopyProgress & { phase: MoveRecord['phase'] }): void;
  /** How long a new logical cluster may take to turn Ready on the target. */
  readyTimeoutMs?: number;
  /**
   * How long the source keeps its copy after the route flips: every gateway replica must have carried
   * its watches over to the target first, or their clients would see the source's deletions.
   */
  cutoverGraceMs?: number;
  /** How long after the cutover the edge answers 410 Expired to a resourceVersion from the source. */
  fenceMs?: number;
}

export class MoveError extends Error {}

const lcPath = (cluster: string) => `/clusters/${cluster}/apis/core.kcp.io/v1alpha1/logicalclusters`;

function clientFor(shard: Shard, credentials: MoveCredentials): RestClient {
  const ca = shard.ca ?? credentials.caPem;
  return new RestClient(
    { server: shard.url, certPem: credentials.certPem, keyPem: credentials.keyPem, ...(ca === undefined ? {} : { caPem: ca }) },
    { connections: 32, userAgent: 'kcp-edge-move' },
  );
}

async function shardOf(store: RedisRouteStore, name: string): Promise<Shard> {
  const shard = await store.getShard(name);
  if (shard === undefined) throw new MoveError(`shard "${name}" is not registered`);
  return shard;
}

/** Runs (or resumes) a move to completion; returns the finished record. */
export async function moveWorkspace(options: MoveOptions): Promise<MoveRecord> {
  const { store, path } = options;
  const records = new MoveRecords(store.client, store.keys);
  const route = await store.getRoute(path);
  if (route === undefined) throw new MoveError(`workspace "${path}" is not in the routing table`);
  let record = await records.get(path);
  if (record === undefined || record.phase === 'done' || record.phase === 'aborted') {
    const to = options.to;
    if (to === undefined) throw new MoveError('--to SHARD is missing');
    if (to === route.shard) throw new MoveError(`workspace "${path}" is already on ${to}`);
    const target = await shardOf(store, to);
    if (target.state !== 'active') throw new MoveError(`shard "${to}" is ${target.state}; it takes no workspaces`);
    const now = new Date().toISOString();
    record = await records.put({ path, cluster: route.cluster, from: route.shard, to, phase: 'copying', startedAt: now, updatedAt: now, copied: 0 });
  } else if (options.to !== undefined && options.to !== record.to) {
    throw new MoveError(`workspace "${path}" is being moved to ${record.to}; finish or abort that move first`);
  }
  const from = clientFor(await shardOf(store, record.from), options.credentials);
  const toShard = await shardOf(store, record.to);
  const to = clientFor(toShard, options.credentials);
  try {
    if (record.phase === 'copying') {
      await ensureLogicalCluster(from, to, record.cluster, options.readyTimeoutMs ?? 10_000);
      const current = record;
      const report = (p: CopyProgress) => options.onProgress?.({ ...p, phase: current.phase });
      // The bulk of the copy while the source still takes writes; then writes pause (the edge answers them
      // 429 while reads still go to the source) for a catch-up with what changed meanwhile.
      const bulk = await copyCluster(from, to, record.cluster, report);
      await store.putRoute({ path, shard: record.from, cluster: record.cluster, phase: 'Moving' });
      const caught = await catchUp(from, to, record.cluster, bulk, report);
      const progress = { copied: bulk.copied + caught.copied, skipped: bulk.skipped };
      const missing = caught.missing;
      if (missing.length > 0) throw new MoveError(`the target lacks ${missing.length} object(s) after the copy, e.g. ${missing[0]}; re-run to resume`);
      record = await records.put({ ...record, phase: 'cutover', copied: progress.copied + progress.skipped });
    }
    if (record.phase === 'cutover') {
      // The shards count resourceVersions apart: before the route flips, the edge is told to refuse, for a
      // while, any the source issued (everything the target issues from now on is above targetRV).
      if (record.targetRV === undefined) record = await records.put({ ...record, targetRV: await currentResourceVersion(to, record.cluster) });
      const targetRV = record.targetRV!;
      const until = Date.now() + (options.fenceMs ?? defaultFenceMs);
      await store.setRouteFence(path, { shard: record.to, targetRV, until });
      await pointWorkspaceAt(store, options.credentials, record);
      await store.putRoute({ path, shard: record.to, cluster: record.cluster, phase: 'Ready' });
      // Only now, with the target serving everything and the watches carried over, does the source copy go.
      await new Promise((resolve) => setTimeout(resolve, options.cutoverGraceMs ?? 1_500));
      // The source hands out no resourceVersion of this workspace any more: the highest it did is known.
      const sourceRV = await currentResourceVersion(from, record.cluster).catch(() => undefined);
      if (sourceRV !== undefined) {
        await store.setRouteFence(path, { shard: record.to, targetRV, sourceRV, until });
        record = await records.put({ ...record, sourceRV });
      }
      try {
        await from.request('DELETE', `${lcPath(record.cluster)}/cluster`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      record = await records.put({ ...record, phase: 'done' });
    }
    return record;
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
}

/** Rolls back a move that has not cut over: the target's copy goes and the source serves writes again. */
export async function abortMove(options: Pick<MoveOptions, 'store' | 'credentials' | 'path'>): Promise<MoveRecord | undefined> {
  const { store, path } = options;
  const records = new MoveRecords(store.client, store.keys);
  const record = await records.get(path);
  if (record === undefined || record.phase === 'done' || record.phase === 'aborted') return record;
  if (record.phase === 'cutover') throw new MoveError(`workspace "${path}" is past its cutover (writes may have reached ${record.to}); re-run the move to finish it`);
  const to = clientFor(await shardOf(store, record.to), options.credentials);
  try {
    await to.request('DELETE', `${lcPath(record.cluster)}/cluster`);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  } finally {
    await to.close();
  }
  await store.putRoute({ path, shard: record.from, cluster: record.cluster, phase: 'Ready' });
  return records.put({ ...record, phase: 'aborted' });
}

/** Clients that still hold a resourceVersion from before a move have re-listed well within this. */
const defaultFenceMs = 15 * 60_000;

/** The shard's resourceVersion now (a shard counts them across all its logical clusters). */
async function currentResourceVersion(client: RestClient, cluster: string): Promise<string> {
  const list = await client.request<{ metadata?: { resourceVersion?: string } }>('GET', `/clusters/${cluster}/api/v1/namespaces`, { query: { limit: 1 } });
  const rv = list.metadata?.resourceVersion;
  if (rv === undefined || rv === '') throw new MoveError(`the shard gave no resourceVersion for ${cluster}`);
  return rv;
}

async function ensureLogicalCluster(from: RestClient, to: RestClient, cluster: string, timeoutMs: number): Promise<void> {
  const source = await from.request<KubeObject>('GET', `${lcPath(cluster)}/cluster`);
  try {
    await to.request('POST', lcPath(cluster), {
      body: {
        apiVersion: 'core.kcp.io/v1alpha1',
        kind: 'LogicalCluster',
        metadata: { name: 'cluster', annotations: Object.fromEntries(Object.entries(source.metadata.annotations ?? {}).filter(([k]) => k !== 'kcp.io/cluster')) },
        spec: source['spec'] ?? {},
      },
    });
  } catch (err) {
    if (!(err instanceof Error && 'status' in err && (err as { status: number }).status === 409)) throw err;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lc = await to.request<KubeObject>('GET', `${lcPath(cluster)}/cluster`);
    if ((lc['status'] as { phase?: string } | undefined)?.phase === 'Ready') return;
    if (Date.now() > deadline) throw new MoveError(`logical cluster ${cluster} did not turn Ready on the target within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * kcp's Workspace (in the parent's logical cluster) records the shard its cluster lives on in the
 * internal.tenancy.kcp.io/shard annotation (spec.URL is the front door's address, the same wherever the
 * cluster is): make it name the target.
 */
async function pointWorkspaceAt(store: RedisRouteStore, credentials: MoveCredentials, record: MoveRecord): Promise<void> {
  const cut = record.path.lastIndexOf(':');
  if (cut < 0) return; // root has no Workspace
  const parent = await store.getRoute(record.path.slice(0, cut));
  if (parent === undefined) throw new MoveError(`the parent of "${record.path}" is not in the routing table`);
  const client = clientFor(await shardOf(store, parent.shard), credentials);
  try {
    await client.request('PATCH', `/clusters/${parent.cluster}/apis/tenancy.kcp.io/v1alpha1/workspaces/${record.path.slice(cut + 1)}`, {
      body: { metadata: { annotations: { [workspaceShardAnnotation]: record.to } } },
      contentType: 'application/merge-patch+json',
    });
  } finally {
    await client.close();
  }
}
