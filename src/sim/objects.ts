// Kubernetes object semantics on top of the store: names, uids, generation, optimistic concurrency,
// status subresource rules, finalizers and deletionTimestamp, namespace termination.
import { randomBytes, randomUUID } from 'node:crypto';
import { alreadyExists, conflict, invalid, notFound, SimError } from './errors.ts';
import { grOf, now, type ShardState } from './shard-state.ts';
import { groupVersion, type KubeObject, type ResourceType } from './types.ts';

export interface WriteOptions {
  dryRun?: boolean;
  subresource?: string;
  /**
   * The input is the caller's to give away (a request body it just parsed) and the result is only read
   * (serialised into the answer): neither is deep-copied. Two fewer copies per write on the request path.
   */
  handOver?: boolean;
}

const dnsSubdomain = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function stripVolatile(object: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, ...rest } = object;
  return rest;
}

/** Sets kind and apiVersion, first in key order as kube-apiserver encodes them. */
export function typeMeta(type: ResourceType, object: KubeObject): KubeObject {
  const typed = { kind: type.kind, apiVersion: groupVersion(type) } as unknown as KubeObject;
  return Object.assign(typed, object, { kind: type.kind, apiVersion: groupVersion(type) });
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

function hasStatus(type: ResourceType): boolean {
  return type.subresources?.includes('status') ?? false;
}

function requireNamespace(shard: ShardState, cluster: string, type: ResourceType, namespace: string): void {
  if (!type.namespaced) return;
  const ns = shard.store.peek(cluster, 'namespaces', '', namespace);
  if (ns === undefined) throw notFound('namespaces', namespace);
  if (ns.metadata.deletionTimestamp !== undefined) {
    throw new SimError(403, 'Forbidden', `${type.resource} "${''}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`);
  }
}

/** Defaults a freshly created object of a built-in kind the way its kube-apiserver strategy would. */
function defaultsOnCreate(type: ResourceType, object: KubeObject): void {
  if (type.group !== '') return;
  if (type.resource === 'namespaces') {
    object['spec'] = { finalizers: ['kubernetes'] };
    object['status'] = { phase: 'Active' };
  }
  if (type.resource === 'pods') {
    // No kubelet here: pods start Running at once so `kubectl exec` has something to talk to.
    const containers = (object['spec'] as { containers?: Array<{ name?: string; image?: string }> } | undefined)?.containers ?? [];
    object['status'] = {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: containers.map((c) => ({ name: c.name, image: c.image, ready: true, restartCount: 0, started: true, state: { running: { startedAt: now() } } })),
    };
  }
  if (type.resource === 'secrets' && object['type'] === undefined) object['type'] = 'Opaque';
}

export function createObject(shard: ShardState, cluster: string, type: ResourceType, input: KubeObject, namespace: string, options: WriteOptions = {}): KubeObject {
  const object = typeMeta(type, options.handOver === true ? input : structuredClone(input));
  const meta = object.metadata ?? (object.metadata = {});
  if (type.namespaced) {
    if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
      throw new SimError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    meta.namespace = namespace;
  } else {
    delete meta.namespace;
  }
  if ((meta.name === undefined || meta.name === '') && meta.generateName !== undefined && meta.generateName !== '') {
    meta.name = `${meta.generateName}${randomSuffix()}`;
  }
  const name = meta.name ?? '';
  if (name === '') throw invalid(type.kind, '', 'metadata.name', 'Required value: name or generateName is required', type.group);
  if (type.group === 'rbac.authorization.k8s.io') {
    // RBAC names are path segments (kube's ValidateRBACName), so `system:discovery` is a valid role name.
    if (name === '.' || name === '..' || /[/%]/.test(name))
      throw invalid(type.kind, name, 'metadata.name', `Invalid value: "${name}": may not be '.' or '..' and may not contain '/' or '%'`, type.group);
  } else if (!dnsSubdomain.test(name) || name.length > 253) {
    throw invalid(
      type.kind,
      name,
      'metadata.name',
      `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`,
      type.group,
    );
  }
  requireNamespace(shard, cluster, type, namespace);
  const gr = grOf(type);
  if (shard.store.peek(cluster, gr, meta.namespace ?? '', name) !== undefined) throw alreadyExists(type.resource, name, type.group);

  meta.uid = randomUUID();
  meta.creationTimestamp = now();
  meta.generation = 1;
  delete meta.resourceVersion;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  if (hasStatus(type)) delete object['status'];
  defaultsOnCreate(type, object);
  shard.decorate(cluster, object);
  if (options.dryRun === true) return object;
  return shard.store.put(cluster, gr, object, { copy: options.handOver !== true });
}

/** Full replacement (PUT) of an object or of its status. */
export function updateObject(shard: ShardState, cluster: string, type: ResourceType, input: KubeObject, namespace: string, name: string, options: WriteOptions = {}): KubeObject {
  const gr = grOf(type);
  const current = shard.store.get(cluster, gr, namespace, name);
  if (current === undefined) throw notFound(type.resource, name, type.group);
  const incoming = typeMeta(type, options.handOver === true ? input : structuredClone(input));
  incoming.metadata ??= {};
  if (incoming.metadata.name !== undefined && incoming.metadata.name !== name) {
    throw new SimError(400, 'BadRequest', `the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`);
  }
  const rv = incoming.metadata.resourceVersion;
  if (rv !== undefined && rv !== '' && rv !== current.metadata.resourceVersion) throw conflict(type.resource, name, type.group);

  let next: KubeObject;
  if (options.subresource === 'status') {
    next = { ...current, status: incoming['status'] };
  } else {
    next = incoming;
    next.metadata = { ...incoming.metadata, name, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp };
    if (type.namespaced) next.metadata.namespace = namespace;
    else delete next.metadata.namespace;
    if (current.metadata.deletionTimestamp !== undefined) {
      next.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
      next.metadata.deletionGracePeriodSeconds = current.metadata.deletionGracePeriodSeconds ?? 0;
      const added = (next.metadata.finalizers ?? []).filter((f) => !(current.metadata.finalizers ?? []).includes(f));
      if (added.length > 0) {
        throw invalid(
          type.kind,
          name,
          'metadata.finalizers',
          `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
          type.group,
        );
      }
    } else {
      delete next.metadata.deletionTimestamp;
    }
    if (hasStatus(type) || type.resource === 'namespaces') next['status'] = current['status'];
    if (type.resource === 'namespaces') next['spec'] = current['spec'];
    const specChanged = JSON.stringify(stripVolatile(next)) !== JSON.stringify(stripVolatile(current));
    next.metadata.generation = (current.metadata.generation ?? 1) + (specChanged ? 1 : 0);
  }
  shard.decorate(cluster, next);
  delete next.metadata.resourceVersion;
  if (options.dryRun === true) return { ...next, metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion } };

  if (next.metadata.deletionTimestamp !== undefined && (next.metadata.finalizers ?? []).length === 0 && !holdsNamespace(shard, cluster, type, next)) {
    return shard.store.remove(cluster, gr, namespace, name) ?? next;
  }
  return shard.store.put(cluster, gr, next, { copy: options.handOver !== true });
}

export interface DeleteOptions {
  dryRun?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export function deleteObject(shard: ShardState, cluster: string, type: ResourceType, namespace: string, name: string, options: DeleteOptions = {}): KubeObject {
  const gr = grOf(type);
  const current = shard.store.get(cluster, gr, namespace, name);
  if (current === undefined) throw notFound(type.resource, name, type.group);
  const pre = options.preconditions;
  if (pre?.uid !== undefined && pre.uid !== current.metadata.uid) {
    throw conflict(type.resource, name, type.group, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
  }
  if (pre?.resourceVersion !== undefined && pre.resourceVersion !== current.metadata.resourceVersion) {
    throw conflict(
      type.resource,
      name,
      type.group,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ''}`,
    );
  }
  if (options.dryRun === true) return current;
  if (type.group === '' && type.resource === 'namespaces') return terminateNamespace(shard, cluster, current);
  if ((current.metadata.finalizers ?? []).length > 0) {
    if (current.metadata.deletionTimestamp !== undefined) return current;
    current.metadata.deletionTimestamp = now();
    current.metadata.deletionGracePeriodSeconds = 0;
    return shard.store.put(cluster, gr, current);
  }
  return shard.store.remove(cluster, gr, namespace, name) ?? current;
}

/** A terminating namespace stays until everything in it is gone, as the namespace controller ensures. */
function holdsNamespace(shard: ShardState, cluster: string, type: ResourceType, object: KubeObject): boolean {
  if (type.group !== '' || type.resource !== 'namespaces') return false;
  return namespaceContents(shard, cluster, object.metadata.name ?? '').length > 0;
}

function namespaceContents(shard: ShardState, cluster: string, namespace: string): Array<{ type: ResourceType; object: KubeObject }> {
  const found: Array<{ type: ResourceType; object: KubeObject }> = [];
  for (const type of shard.typesFor(cluster)) {
    if (!type.namespaced || type.ephemeral === true) continue;
    for (const { object } of shard.store.list(cluster, grOf(type), namespace)) found.push({ type, object });
  }
  return found;
}

function terminateNamespace(shard: ShardState, cluster: string, namespace: KubeObject): KubeObject {
  const name = namespace.metadata.name ?? '';
  let current = namespace;
  if (current.metadata.deletionTimestamp === undefined) {
    current.metadata.deletionTimestamp = now();
    current.metadata.deletionGracePeriodSeconds = 0;
    current['status'] = { phase: 'Terminating' };
    current = shard.store.put(cluster, 'namespaces', current);
  }
  for (const { type, object } of namespaceContents(shard, cluster, name)) {
    if (object.metadata.deletionTimestamp === undefined) deleteObject(shard, cluster, type, name, object.metadata.name ?? '');
  }
  return finishNamespaceIfEmpty(shard, cluster, name) ?? current;
}

/** Removes a terminating namespace once it is empty; called after every removal inside it. */
export function finishNamespaceIfEmpty(shard: ShardState, cluster: string, name: string): KubeObject | undefined {
  const ns = shard.store.get(cluster, 'namespaces', '', name);
  if (ns === undefined || ns.metadata.deletionTimestamp === undefined) return undefined;
  if (namespaceContents(shard, cluster, name).length > 0) return undefined;
  return shard.store.remove(cluster, 'namespaces', '', name);
}
