// CustomResourceDefinitions: a CRD created in a logical cluster (or in the plain cluster) makes its kind
// served there, with its status subresource and printer columns, and is marked Established at once. The
// sync worker's service cluster needs this: the copies are CRD objects there, as Crossplane's claims are.
import { evaluateJsonPath } from './json-path.ts';
import { updateObject } from './objects.ts';
import type { ShardPlugin } from './plugin.ts';
import type { ShardState } from './shard-state.ts';
import type { KubeObject, PrinterColumn, ResourceType } from './types.ts';

export const crdGR = 'customresourcedefinitions.apiextensions.k8s.io';
const crud = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

interface CrdVersion {
  name: string;
  served?: boolean;
  subresources?: { status?: unknown };
  schema?: { openAPIV3Schema?: Record<string, unknown> };
  additionalPrinterColumns?: { name: string; type: string; jsonPath: string; description?: string; priority?: number; format?: string }[];
}

interface CrdSpec {
  group: string;
  scope: 'Namespaced' | 'Cluster';
  names: { plural: string; singular?: string; kind: string; shortNames?: string[]; categories?: string[] };
  versions: CrdVersion[];
}

function columnType(type: string): PrinterColumn['type'] {
  return type === 'integer' || type === 'number' || type === 'boolean' || type === 'date' ? type : 'string';
}

export function typesFromCrd(crd: KubeObject): ResourceType[] {
  const spec = crd['spec'] as CrdSpec | undefined;
  if (spec?.group === undefined || spec.names?.plural === undefined || !Array.isArray(spec.versions)) return [];
  return spec.versions
    .filter((v) => v.served !== false)
    .map((v) => {
      const type: ResourceType = {
        group: spec.group,
        version: v.name,
        resource: spec.names.plural,
        kind: spec.names.kind,
        singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
        namespaced: spec.scope !== 'Cluster',
        verbs: crud,
      };
      if (spec.names.shortNames !== undefined) type.shortNames = spec.names.shortNames;
      if (spec.names.categories !== undefined) type.categories = spec.names.categories;
      if (v.subresources?.status !== undefined) type.subresources = ['status'];
      if (v.schema?.openAPIV3Schema !== undefined) type.schema = v.schema.openAPIV3Schema;
      if (v.additionalPrinterColumns !== undefined) {
        type.columns = v.additionalPrinterColumns.map((c) => {
          const column: PrinterColumn = { name: c.name, type: columnType(c.type), value: (o) => evaluateJsonPath(o, c.jsonPath) };
          if (c.description !== undefined) column.description = c.description;
          if (c.priority !== undefined) column.priority = c.priority;
          return column;
        });
      }
      return type;
    });
}

export const crdPlugin: ShardPlugin = {
  name: 'customresourcedefinitions',
  start(shard: ShardState) {
    const refresh = (cluster: string) => {
      const types = shard.store.list(cluster, crdGR).flatMap(({ object }) => typesFromCrd(object));
      if (types.length === 0) shard.definedTypes.delete(cluster);
      else shard.definedTypes.set(cluster, types);
    };
    // Started on existing data (a restart): the kinds it defines are served again at once.
    for (const cluster of new Set(shard.store.list('*', crdGR).map((item) => item.cluster))) refresh(cluster);
    return shard.store.hub.follow((event) => {
      if (event.gr !== crdGR) return;
      const { cluster, object } = event;
      queueMicrotask(() => {
        refresh(cluster);
        if (event.type !== 'ADDED') return;
        const current = shard.store.get(cluster, crdGR, '', object.metadata.name ?? '');
        if (current === undefined) return;
        const spec = current['spec'] as CrdSpec | undefined;
        const now = new Date().toISOString();
        updateObject(
          shard,
          cluster,
          shard.builtinType('apiextensions.k8s.io', 'customresourcedefinitions'),
          {
            ...current,
            status: {
              acceptedNames: spec?.names ?? {},
              storedVersions: (spec?.versions ?? []).map((v) => v.name).slice(0, 1),
              conditions: [
                { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', lastTransitionTime: now },
                { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', lastTransitionTime: now },
              ],
            },
          },
          '',
          current.metadata.name ?? '',
          { subresource: 'status' },
        );
      });
    });
  },
};
