// Related objects that come back to the consumer: e.g. the connection Secret Crossplane writes next to
// the copy. The consumer-side object is created by us, with our agent label and the origin annotation of
// the object it belongs to (and the published resource it is of); one without them belongs to the
// consumer (or to another object) and is never overwritten or deleted.
import { isConflict, isNotFound, KubeApiError, type KubeList, type KubeObject, type RestClient } from '../kube/rest-client.ts';
import { jsonEqual } from './merge-patch.ts';
import { readPath } from './copy-object.ts';
import { annotations, corePath, labels, type RelatedResource } from './types.ts';

export interface RelatedContext {
  agent: string;
  service: RestClient;
  consumer: RestClient;
  cluster: string;
  /** Namespace of the copy on the service cluster. */
  serviceNamespace: string;
  /** Namespace of the consumer object; empty when it is cluster-scoped. */
  consumerNamespace: string;
  originKey: string;
  /** resourceId() of the published resource the origin is of. */
  originResource: string;
}

/**
 * Where a rule's objects live in the consumer workspace: the object's own namespace, or for a
 * cluster-scoped object the rule's configured one. Undefined: nowhere, the rule cannot apply.
 */
export function relatedNamespace(rule: RelatedResource, consumerNamespace: string): string | undefined {
  return consumerNamespace !== '' ? consumerNamespace : rule.namespace;
}

/** Payload fields of Secrets and ConfigMaps that we copy. */
function payload(object: KubeObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['type', 'data', 'stringData', 'binaryData', 'immutable']) {
    if (object[key] !== undefined) out[key] = object[key];
  }
  return out;
}

/**
 * Did we create this consumer-side object for this origin? One written before objects named their
 * resource counts as ours by label and origin alone, and is given the resource on its next sync.
 */
function createdFor(object: KubeObject, ctx: Pick<RelatedContext, 'agent' | 'originKey' | 'originResource'>): boolean {
  const a = object.metadata.annotations ?? {};
  if (a[annotations.originResource] !== undefined && a[annotations.originResource] !== ctx.originResource) return false;
  return object.metadata.labels?.[labels.agent] === ctx.agent && a[annotations.origin] === ctx.originKey;
}

/** Returns how many consumer-side objects were written. */
export async function syncRelated(ctx: RelatedContext, copy: KubeObject, rules: readonly RelatedResource[]): Promise<number> {
  let written = 0;
  for (const rule of rules) {
    const namespace = relatedNamespace(rule, ctx.consumerNamespace);
    if (namespace === undefined) continue; // the caller reports it: a config problem, not worth a retry
    const name = readPath(copy, rule.nameFrom);
    if (typeof name !== 'string' || name === '') continue;
    const source = await ctx.service.getOrNull(corePath(rule.kind, ctx.serviceNamespace, name));
    if (source === null) continue; // not written yet; the copy's next status change brings us back
    const base = `/clusters/${ctx.cluster}`;
    const path = base + corePath(rule.kind, namespace, name);
    const existing = await ctx.consumer.getOrNull(path);
    const wanted = payload(source);
    if (existing === null) {
      const body: KubeObject = {
        apiVersion: 'v1',
        kind: rule.kind,
        metadata: {
          name,
          namespace,
          labels: { [labels.agent]: ctx.agent },
          annotations: { [annotations.origin]: ctx.originKey, [annotations.originResource]: ctx.originResource },
        },
        ...wanted,
      };
      try {
        await ctx.consumer.create(base + corePath(rule.kind, namespace), body);
        written++;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
      continue;
    }
    if (!createdFor(existing, ctx)) continue; // the consumer's own object, or another object's
    const named = existing.metadata.annotations?.[annotations.originResource] !== undefined;
    if (named && jsonEqual(payload(existing), wanted)) continue;
    // Replace, not merge: keys removed on the service side must disappear here too.
    const metadata = { ...existing.metadata, annotations: { ...existing.metadata.annotations, [annotations.originResource]: ctx.originResource } };
    await ctx.consumer.update(path, { ...existing, metadata, data: undefined, stringData: undefined, binaryData: undefined, ...wanted } as KubeObject);
    written++;
  }
  return written;
}

/**
 * The consumer object is going: deletes what we copied back for it. Found by our label and checked for
 * its origin, so a renamed connection Secret goes too and nobody else's is touched; the preconditions
 * make sure the object deleted is the one inspected. Returns how many were deleted.
 */
export async function deleteRelated(ctx: Omit<RelatedContext, 'service' | 'serviceNamespace'>, rules: readonly RelatedResource[]): Promise<number> {
  let deleted = 0;
  const base = `/clusters/${ctx.cluster}`;
  const places = new Map<string, { kind: RelatedResource['kind']; namespace: string }>();
  for (const rule of rules) {
    const namespace = relatedNamespace(rule, ctx.consumerNamespace);
    if (namespace !== undefined) places.set(`${rule.kind} ${namespace}`, { kind: rule.kind, namespace });
  }
  for (const { kind, namespace } of places.values()) {
    let list: KubeList;
    try {
      list = await ctx.consumer.list(base + corePath(kind, namespace), { labelSelector: `${labels.agent}=${ctx.agent}` });
    } catch (err) {
      // Not ours to see (the permission claim was never accepted, or was withdrawn): nothing we can
      // delete, and holding the consumer object's deletion for it would hold it for ever.
      if (err instanceof KubeApiError && (err.status === 403 || err.status === 404)) continue;
      throw err;
    }
    for (const object of list.items) {
      if (!createdFor(object, ctx)) continue;
      try {
        await ctx.consumer.delete(base + corePath(kind, namespace, object.metadata.name), {
          preconditions: { uid: object.metadata.uid, resourceVersion: object.metadata.resourceVersion },
        });
        deleted++;
      } catch (err) {
        if (!isNotFound(err)) throw err; // 409: changed since the list; the retry looks again
      }
    }
  }
  return deleted;
}
