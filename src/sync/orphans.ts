// Copied-back related objects whose consumer object is gone. Deleting the consumer object normally
// deletes them first (our finalizer holds it until then), but a consumer who force-removes finalizers
// skips that step, and the Secret would stay for ever. A scan of one virtual-workspace endpoint finds,
// across its workspaces, the Secrets/ConfigMaps carrying our agent label, and deletes those whose origin
// annotation names an object of this resource that no longer exists. Only ours: the label, the origin,
// the resource and the place must all say so, and "no longer exists" is asked of the server itself.
import { isConflict, isNotFound, type KubeObject, type RestClient } from '../kube/rest-client.ts';
import { parseObjectKey } from './naming.ts';
import { relatedNamespace } from './related.ts';
import { annotations, clusterAnnotation, collectionPath, corePath, labels, resourceId, type PublishedResource, type RelatedResource } from './types.ts';

export interface OrphanScan {
  agent: string;
  resource: PublishedResource;
  /** The endpoint to scan; its workspaces are the ones whose objects it serves. */
  client: RestClient;
  /** Is the origin in the watch caches? Those are alive; only the others are asked about. */
  known(originKey: string): boolean;
}

/** Deletes the orphans found; returns their paths (under the endpoint). */
export async function collectOrphans(scan: OrphanScan): Promise<string[]> {
  const deleted: string[] = [];
  for (const kind of new Set(scan.resource.related.map((r) => r.kind))) {
    const rules = scan.resource.related.filter((r) => r.kind === kind);
    for (const object of await listOurs(scan, kind)) {
      const origin = originIfOurs(object, scan, rules);
      if (origin === undefined || scan.known(origin.key)) continue;
      if ((await originExists(scan, origin)) !== false) continue;
      const path = `/clusters/${origin.cluster}` + corePath(kind, object.metadata.namespace, object.metadata.name);
      try {
        // The preconditions make sure what goes is what was inspected.
        await scan.client.delete(path, { preconditions: { uid: object.metadata.uid, resourceVersion: object.metadata.resourceVersion } });
        deleted.push(path);
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err; // changed meanwhile: the next scan looks again
      }
    }
  }
  return deleted;
}

async function listOurs(scan: OrphanScan, kind: RelatedResource['kind']): Promise<KubeObject[]> {
  const items: KubeObject[] = [];
  let continueToken: string | undefined;
  do {
    const page = await scan.client.list(`/clusters/*${corePath(kind, undefined)}`, { labelSelector: `${labels.agent}=${scan.agent}`, limit: 500, continue: continueToken });
    items.push(...page.items);
    continueToken = page.metadata.continue || undefined;
  } while (continueToken !== undefined);
  return items;
}

interface Origin {
  key: string;
  cluster: string;
  namespace: string;
  name: string;
}

/** The origin of an object we wrote for this resource, in the workspace and namespace we would write it. */
function originIfOurs(object: KubeObject, scan: OrphanScan, rules: readonly RelatedResource[]): Origin | undefined {
  const a = object.metadata.annotations ?? {};
  const key = a[annotations.origin];
  if (object.metadata.labels?.[labels.agent] !== scan.agent || key === undefined) return undefined;
  // Objects written before they named their resource are left alone: with several resources published,
  // their origin alone cannot tell whose they are.
  if (a[annotations.originResource] !== resourceId(scan.resource)) return undefined;
  const origin = { key, ...parseObjectKey(key) };
  if (origin.cluster === '' || origin.cluster !== a[clusterAnnotation]) return undefined;
  if (!rules.some((rule) => relatedNamespace(rule, origin.namespace) === object.metadata.namespace)) return undefined;
  return origin;
}

/**
 * Asks the workspace for the origin by name. A list rather than a get: a 404 on a get may mean the kind
 * is not served right now (a shard still learning its bindings after a restart), while an empty list
 * proves the object is gone. Undefined when the server cannot say.
 */
async function originExists(scan: OrphanScan, origin: Origin): Promise<boolean | undefined> {
  const path = `/clusters/${origin.cluster}` + collectionPath(scan.resource, origin.namespace);
  try {
    // No limit: a server filtering a page may answer an empty page with a continue token.
    const list = await scan.client.list(path, { fieldSelector: `metadata.name=${origin.name}` });
    return list.items.length > 0;
  } catch {
    return undefined;
  }
}
