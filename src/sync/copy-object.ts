// What the copy of a consumer object looks like on the service cluster, and how to tell whose it is.
import type { KubeObject } from '../kube/rest-client.ts';
import type { Json } from './merge-patch.ts';
import { annotations, labels } from './types.ts';

export interface Origin {
  key: string;
  cluster: string;
  namespace: string;
  name: string;
}

/** The fields that travel to the copy: everything but identity, metadata and status. */
export function desiredContent(consumer: KubeObject): { [key: string]: Json } {
  const content: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(consumer)) {
    if (key === 'apiVersion' || key === 'kind' || key === 'metadata' || key === 'status' || value === undefined) continue;
    content[key] = value as Json;
  }
  return content;
}

export function originLabels(agent: string, origin: Origin, suffix: string): Record<string, string> {
  return { [labels.agent]: agent, [labels.cluster]: origin.cluster, [labels.suffix]: suffix };
}

export function originAnnotations(origin: Origin): Record<string, string> {
  return {
    [annotations.origin]: origin.key,
    [annotations.originCluster]: origin.cluster,
    [annotations.originNamespace]: origin.namespace,
    [annotations.originName]: origin.name,
  };
}

export function originOf(copy: KubeObject): string | undefined {
  return copy.metadata.annotations?.[annotations.origin];
}

export function buildCopy(consumer: KubeObject, origin: Origin, target: { namespace: string; name: string }, agent: string, suffix: string): KubeObject {
  const content = desiredContent(consumer);
  return {
    apiVersion: consumer.apiVersion,
    kind: consumer.kind,
    metadata: {
      name: target.name,
      namespace: target.namespace,
      labels: originLabels(agent, origin, suffix),
      annotations: { ...originAnnotations(origin), [annotations.lastApplied]: JSON.stringify(content) },
    },
    ...content,
  };
}

export function lastApplied(copy: KubeObject): Json | undefined {
  const raw = copy.metadata.annotations?.[annotations.lastApplied];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as Json;
  } catch {
    return undefined;
  }
}

/** Reads a dot path (`spec.writeConnectionSecretToRef.name`) out of an object. */
export function readPath(object: unknown, path: string): unknown {
  let value: unknown = object;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
