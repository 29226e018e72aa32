// The sync worker's vocabulary: what is published, and the labels and annotations that tie a copy on the
// service cluster to its origin without any local state.

export interface RelatedResource {
  kind: 'Secret' | 'ConfigMap';
  /** Dot path in the copy naming the object on the service cluster, e.g. `spec.writeConnectionSecretToRef.name`. */
  nameFrom: string;
  /**
   * Namespace in the consumer workspace for the related objects of a cluster-scoped object, which has no
   * namespace of its own to put them in (api-syncagent likewise refuses without one). Objects that have
   * a namespace always use it.
   */
  namespace?: string;
}

export interface PublishedResource {
  group: string;
  version: string;
  /** Plural resource name, as in the URL. */
  resource: string;
  kind: string;
  /** Last part of the workspace namespace name on the service cluster (`ws-<workspace>-<hash>-<suffix>`). */
  namespaceSuffix: string;
  labelSelector?: string;
  related: readonly RelatedResource[];
}

const prefix = 'sync.kcp-edge.io';

export const labels = {
  agent: `${prefix}/agent`,
  cluster: `${prefix}/cluster`,
  suffix: `${prefix}/suffix`,
} as const;

export const annotations = {
  /** `<cluster>|<namespace>/<name>` of the consumer object; the copy's way home. */
  origin: `${prefix}/origin`,
  originCluster: `${prefix}/origin-cluster`,
  originNamespace: `${prefix}/origin-namespace`,
  originName: `${prefix}/origin-name`,
  workspacePath: `${prefix}/workspace-path`,
  /**
   * `<resource>.<group>` of the origin, on copied-back related objects: the origin key alone does not
   * say which published resource an object belongs to, and a VirtualMachine and a Database may share a
   * name.
   */
  originResource: `${prefix}/origin-resource`,
  /** JSON of the content we last wrote, for three-way patches that leave others' fields alone. */
  lastApplied: `${prefix}/last-applied`,
} as const;

/** The logical cluster of an object served by a virtual workspace. */
export const clusterAnnotation = 'kcp.io/cluster';
export const pathAnnotation = 'kcp.io/path';

/** `<resource>.<group>`: how metrics and copied-back objects name a published resource. */
export function resourceId(r: Pick<PublishedResource, 'resource' | 'group'>): string {
  return `${r.resource}.${r.group}`;
}

export function finalizerName(agentName: string): string {
  return `${prefix}/${agentName}`;
}

export function collectionPath(r: PublishedResource, namespace?: string): string {
  const ns = namespace === undefined || namespace === '' ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `/apis/${r.group}/${r.version}${ns}/${r.resource}`;
}

export function objectPath(r: PublishedResource, namespace: string | undefined, name: string): string {
  const ns = namespace === undefined || namespace === '' ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `/apis/${r.group}/${r.version}${ns}/${r.resource}/${encodeURIComponent(name)}`;
}

/** `namespace` undefined means across all namespaces; an empty one is a caller's bug, never a `//` in a URL. */
export function corePath(kind: 'Secret' | 'ConfigMap' | 'Namespace' | 'Event', namespace: string | undefined, name?: string): string {
  const plural = { Secret: 'secrets', ConfigMap: 'configmaps', Namespace: 'namespaces', Event: 'events' }[kind];
  if (namespace === '') throw new Error(`no namespace for ${plural}${name === undefined ? '' : `/${name}`}`);
  const ns = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `/api/v1${ns}/${plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}
