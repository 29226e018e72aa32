// Copies one logical cluster's objects from a shard to another through the API, as an operator would
// with kcp: discovery tells which kinds the cluster serves; every object is listed on the source and
// created on the target with its name, labels, annotations, finalizers, spec, data and status. The
// target gives new uids, so owner references are rewritten to the new owners' uids (owners are created
// first), or the garbage collector would take the dependents for orphans. Re-running it skips what is
// already there, which is what makes a copy resumable.
import { isConflict, isNotFound, KubeApiError, type KubeObject, type RestClient } from '../kube/rest-client.ts';

export interface ClusterResource {
  /** `/api/v1` or `/apis/<group>/<version>` */
  prefix: string;
  resource: string;
  namespaced: boolean;
  status: boolean;
}

/** Kinds the cluster itself manages, or that describe it rather than live in it. */
const skipped = new Set(['logicalclusters', 'events', 'selfsubjectreviews', 'selfsubjectaccessreviews', 'tokenreviews', 'subjectaccessreviews']);
/**
 * What other kinds need first: namespaces hold objects, a token Secret needs its ServiceAccount (kube's
 * token controller deletes one whose ServiceAccount is missing), definitions and bindings make kinds servable.
 */
const firstKinds = ['namespaces', 'serviceaccounts', 'customresourcedefinitions', 'apiresourceschemas', 'apiexports', 'apibindings'];

const serviceAccountTokenType = 'kubernetes.io/service-account-token';
/** Names the ServiceAccount uid a legacy token was minted for: the source's, which the target does not have. */
const serviceAccountUidAnnotation = 'kubernetes.io/service-account.uid';

interface ApiResource {
  name: string;
  namespaced: boolean;
  verbs: string[];
}

export async function discoverResources(client: RestClient, cluster: string): Promise<ClusterResource[]> {
  const base = `/clusters/${cluster}`;
  const versions: string[] = ['/api/v1'];
  const groups = await client.request<{ groups: { preferredVersion?: { groupVersion: string } }[] }>('GET', `${base}/apis`);
  for (const g of groups.groups) if (g.preferredVersion !== undefined) versions.push(`/apis/${g.preferredVersion.groupVersion}`);
  const out: ClusterResource[] = [];
  for (const prefix of versions) {
    const list = await client.request<{ resources: ApiResource[] }>('GET', `${base}${prefix}`);
    const names = new Set(list.resources.map((r) => r.name));
    for (const r of list.resources) {
      if (r.name.includes('/') || skipped.has(r.name) || !r.verbs.includes('list') || !r.verbs.includes('create')) continue;
      out.push({ prefix, resource: r.name, namespaced: r.namespaced, status: names.has(`${r.name}/status`) });
    }
  }
  const rank = (r: ClusterResource) => (firstKinds.includes(r.resource) ? firstKinds.indexOf(r.resource) : firstKinds.length);
  return out.sort((a, b) => rank(a) - rank(b));
}

function collectionPath(cluster: string, r: ClusterResource, namespace: string | undefined): string {
  return `/clusters/${cluster}${r.prefix}${r.namespaced && namespace !== undefined ? `/namespaces/${namespace}` : ''}/${r.resource}`;
}

export async function listAll(client: RestClient, cluster: string, r: ClusterResource): Promise<KubeObject[]> {
  const items: KubeObject[] = [];
  let cont: string | undefined;
  do {
    const page = await client.request<{ metadata: { continue?: string }; items: KubeObject[] }>('GET', collectionPath(cluster, r, undefined), {
      query: { limit: 5000, continue: cont },
    });
    items.push(...page.items);
    cont = page.metadata.continue === '' ? undefined : page.metadata.continue;
  } while (cont !== undefined);
  return items;
}

/** What the target must be given: the object as its owner wrote it, less what the server assigns. */
function forCreate(object: KubeObject, uids: Map<string, string>): KubeObject {
  const {
    uid: _uid,
    resourceVersion: _rv,
    creationTimestamp: _ct,
    managedFields: _mf,
    generation: _g,
    selfLink: _sl,
    deletionTimestamp: _dt,
    deletionGracePeriodSeconds: _dg,
    ...meta
  } = object.metadata;
  const legacyToken = object['type'] === serviceAccountTokenType;
  const annotations = Object.fromEntries(
    Object.entries(object.metadata.annotations ?? {}).filter(([k]) => k !== 'kcp.io/cluster' && !(legacyToken && k === serviceAccountUidAnnotation)),
  );
  const owners = (object.metadata['ownerReferences'] as { uid: string }[] | undefined)?.map((o) => ({ ...o, uid: uids.get(o.uid) ?? o.uid }));
  const { status: _status, ...rest } = object;
  const copy: KubeObject = { ...rest, metadata: { ...meta, annotations, ...(owners === undefined ? {} : { ownerReferences: owners }) } };
  if (legacyToken) {
    // The token names the source's ServiceAccount uid and is signed by the source: the target's token
    // controller issues a new one for its own ServiceAccount once the Secret arrives without it.
    const { token: _token, ...data } = (object['data'] as Record<string, string> | undefined) ?? {};
    copy['data'] = data;
  }
  return copy;
}

export interface CopyProgress {
  copied: number;
  skipped: number;
}

/** What a copy did, for the catch-up pass after it: new uids by old, and the source version copied of each object. */
export interface CopyState {
  uids: Map<string, string>;
  versions: Map<string, string>;
}

const keyOf = (r: ClusterResource, o: KubeObject) => `${r.prefix}/${r.resource}|${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/**
 * Copies every object of the source cluster that the target lacks, `concurrency` at a time. `onObject`
 * is told after each one (progress; a throw there stops the copy as a crash would).
 */
export async function copyCluster(
  source: RestClient,
  target: RestClient,
  cluster: string,
  onObject: (progress: CopyProgress) => void = () => undefined,
  concurrency = 16,
  state: CopyState = { uids: new Map(), versions: new Map() },
  only?: (r: ClusterResource, o: KubeObject) => boolean,
): Promise<CopyProgress & CopyState> {
  const progress: CopyProgress = { copied: 0, skipped: 0 };
  const { uids, versions } = state;
  const early: { r: ClusterResource; object: KubeObject }[] = [];
  let pending: { r: ClusterResource; object: KubeObject }[] = [];
  for (const r of await discoverResources(source, cluster)) {
    for (const object of await listAll(source, cluster, r)) {
      if (only === undefined || only(r, object)) (firstKinds.includes(r.resource) ? early : pending).push({ r, object });
    }
  }
  const sourceUids = new Set([...early, ...pending].map((p) => p.object.metadata.uid).filter((u): u is string => u !== undefined));
  const copyOne = async ({ r, object }: { r: ClusterResource; object: KubeObject }) => {
    const created = await ensureObject(target, cluster, r, object, uids);
    if (object.metadata.resourceVersion !== undefined) versions.set(keyOf(r, object), object.metadata.resourceVersion);
    if (object.metadata.uid !== undefined && created.object.metadata.uid !== undefined) uids.set(object.metadata.uid, created.object.metadata.uid);
    if (created.fresh) progress.copied++;
    else progress.skipped++;
    onObject(progress);
  };
  // Namespaces, definitions and bindings one by one and in order: everything else needs them.
  for (const item of early) await copyOne(item);
  // A kind a definition or binding brings is served only once the target has set it up.
  await untilServed(
    target,
    cluster,
    pending.map((p) => p.r),
  );
  // Then in rounds, owners before their dependents; within a round, in parallel.
  for (let round = 0; pending.length > 0; round++) {
    const last = round >= 20; // a cycle, or owners that are not in the cluster: copy what is left as it is
    const ready = last
      ? pending
      : pending.filter((p) => !((p.object.metadata['ownerReferences'] as { uid: string }[] | undefined) ?? []).some((o) => sourceUids.has(o.uid) && !uids.has(o.uid)));
    pending = last ? [] : pending.filter((p) => !ready.includes(p));
    let next = 0;
    let failed = false;
    const results = await Promise.allSettled(
      Array.from({ length: Math.min(concurrency, ready.length) }, async () => {
        // A failure stops every worker before its next object, and the copy returns only once none is writing.
        for (let i = next++; i < ready.length && !failed; i = next++) {
          try {
            await copyOne(ready[i]!);
          } catch (err) {
            failed = true;
            throw err;
          }
        }
      }),
    );
    const failure = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
  }
  return { ...progress, uids, versions };
}

const resourceKey = (r: ClusterResource) => `${r.prefix}/${r.resource}`;

/** Waits (bounded) until the target's discovery lists every kind in `needed`. */
async function untilServed(target: RestClient, cluster: string, needed: ClusterResource[], timeoutMs = 30_000): Promise<void> {
  const wanted = new Set(needed.map(resourceKey));
  if (wanted.size === 0) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const served = new Set((await discoverResources(target, cluster).catch(() => [])).map(resourceKey));
    const missing = [...wanted].filter((k) => !served.has(k));
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`the target does not serve ${missing.join(', ')} after ${timeoutMs} ms (a binding or definition not ready there)`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The catch-up after a copy made while writes went on: whatever changed on the source since it was
 * copied is copied again, and whatever the target holds that the source no longer does is deleted (also
 * what a mover that died copied before its source was deleted). Costs a list per kind on each side plus
 * the changes, which is what keeps the write pause short.
 */
export async function catchUp(
  source: RestClient,
  target: RestClient,
  cluster: string,
  state: CopyState,
  onObject?: (progress: CopyProgress) => void,
): Promise<CopyProgress & { missing: string[] }> {
  const onSource = new Set<string>();
  const progress = await copyCluster(source, target, cluster, onObject, 16, state, (r, o) => {
    const key = keyOf(r, o);
    onSource.add(key);
    return state.versions.get(key) !== o.metadata.resourceVersion;
  });
  // The same lists tell whether the target now holds everything the source does.
  const onTarget = new Set<string>();
  for (const r of await discoverResources(source, cluster)) {
    for (const o of await listAll(target, cluster, r)) {
      onTarget.add(keyOf(r, o));
      if (onSource.has(keyOf(r, o)) || o.metadata.deletionTimestamp !== undefined) continue;
      try {
        await target.request('DELETE', `${collectionPath(cluster, r, o.metadata.namespace)}/${o.metadata.name}`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
  return { ...progress, missing: [...onSource].filter((k) => !onTarget.has(k)) };
}

async function ensureObject(
  target: RestClient,
  cluster: string,
  r: ClusterResource,
  object: KubeObject,
  uids: Map<string, string>,
): Promise<{ object: KubeObject; fresh: boolean }> {
  const collection = collectionPath(cluster, r, object.metadata.namespace);
  const item = `${collection}/${object.metadata.name}`;
  let created: KubeObject;
  let fresh = true;
  try {
    created = await target.request<KubeObject>('POST', collection, { body: forCreate(object, uids) });
  } catch (err) {
    if (!isConflict(err)) throw err;
    // There already (a resumed copy, or made by the target itself, like `default`): the source's copy wins.
    fresh = false;
    const existing = await target.request<KubeObject>('GET', item);
    const body = forCreate(object, uids);
    created = await target.request<KubeObject>('PUT', item, { body: { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata.resourceVersion } } });
  }
  if (r.status && object['status'] !== undefined) {
    try {
      // No resourceVersion: the target's controllers may have written to it since; the source's status wins.
      const { resourceVersion: _rv, ...meta } = created.metadata;
      created = await target.request<KubeObject>('PUT', `${item}/status`, { body: { ...created, metadata: meta, status: object['status'] } });
    } catch (err) {
      if (!(isNotFound(err) || (err instanceof KubeApiError && err.status === 405))) throw err;
    }
  }
  return { object: created, fresh };
}
