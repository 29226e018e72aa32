// Related objects that come back to the consumer: e.g. the connection Secret Crossplane writes next to
// the copy. The consumer-side object is created by us, labelled so; one that exists without our label
// belongs to the consumer and is never overwritten.
import { isConflict, type KubeObject, type RestClient } from '../kube/rest-client.ts';
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
  /** Namespace of the consumer object. */
  consumerNamespace: string;
  originKey: string;
}

/** Payload fields of Secrets and ConfigMaps that we copy. */
function payload(object: KubeObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['type', 'data', 'stringData', 'binaryData', 'immutable']) {
    if (object[key] !== undefined) out[key] = object[key];
  }
  return out;
}

/** Returns how many consumer-side objects were written. */
export async function syncRelated(ctx: RelatedContext, copy: KubeObject, rules: readonly RelatedResource[]): Promise<number> {
  let written = 0;
  for (const rule of rules) {
    const name = readPath(copy, rule.nameFrom);
    if (typeof name !== 'string' || name === '') continue;
    const source = await ctx.service.getOrNull(corePath(rule.kind, ctx.serviceNamespace, name));
    if (source === null) continue; // not written yet; the copy's next status change brings us back
    const base = `/clusters/${ctx.cluster}`;
    const path = base + corePath(rule.kind, ctx.consumerNamespace, name);
    const existing = await ctx.consumer.getOrNull(path);
    const wanted = payload(source);
    if (existing === null) {
      const body: KubeObject = {
        apiVersion: 'v1',
        kind: rule.kind,
        metadata: {
          name,
          namespace: ctx.consumerNamespace,
          labels: { [labels.agent]: ctx.agent },
          annotations: { [annotations.origin]: ctx.originKey },
        },
        ...wanted,
      };
      try {
        await ctx.consumer.create(base + corePath(rule.kind, ctx.consumerNamespace), body);
        written++;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
      continue;
    }
    if (existing.metadata.labels?.[labels.agent] !== ctx.agent) continue; // the consumer's own object
    if (jsonEqual(payload(existing), wanted)) continue;
    // Replace, not merge: keys removed on the service side must disappear here too.
    await ctx.consumer.update(path, { ...existing, data: undefined, stringData: undefined, binaryData: undefined, ...wanted } as KubeObject);
    written++;
  }
  return written;
}
