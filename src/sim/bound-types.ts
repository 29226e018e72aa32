// APIResourceSchema → the resource types a binding makes servable (one per served version).
import { evaluateJsonPath } from './json-path.ts';
import type { KubeObject, PrinterColumn, ResourceType } from './types.ts';

interface SchemaSpec {
  group: string;
  scope?: 'Namespaced' | 'Cluster';
  names: { plural: string; singular?: string; kind: string; shortNames?: string[]; categories?: string[] };
  versions: Array<{
    name: string;
    served?: boolean;
    subresources?: { status?: unknown };
    schema?: Record<string, unknown>;
    additionalPrinterColumns?: Array<{ name: string; type: string; jsonPath: string; priority?: number; description?: string }>;
  }>;
}

const columnTypes = new Set(['string', 'integer', 'number', 'boolean', 'date']);

/** kcp keeps the schema itself in `versions[].schema`; a CRD-style `{openAPIV3Schema: …}` wrapper is read too. */
function openAPIV3Schema(schema: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const wrapped = schema?.['openAPIV3Schema'];
  return wrapped !== null && typeof wrapped === 'object' && !Array.isArray(wrapped) ? (wrapped as Record<string, unknown>) : schema;
}

export function typesFromSchema(schema: KubeObject, from: NonNullable<ResourceType['boundFrom']>): ResourceType[] {
  const spec = schema['spec'] as SchemaSpec;
  return spec.versions
    .filter((v) => v.served !== false)
    .map((v) => ({
      group: spec.group,
      version: v.name,
      resource: spec.names.plural,
      kind: spec.names.kind,
      singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
      namespaced: (spec.scope ?? 'Namespaced') === 'Namespaced',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      ...(spec.names.shortNames !== undefined ? { shortNames: spec.names.shortNames } : {}),
      ...(spec.names.categories !== undefined ? { categories: spec.names.categories } : {}),
      ...(v.subresources?.status !== undefined ? { subresources: ['status' as const] } : {}),
      ...(openAPIV3Schema(v.schema) !== undefined ? { schema: openAPIV3Schema(v.schema) } : {}),
      columns: (v.additionalPrinterColumns ?? []).map((c): PrinterColumn => ({
        name: c.name,
        type: (columnTypes.has(c.type) ? c.type : 'string') as PrinterColumn['type'],
        // Printer columns use JSONPath filters (`[?(@.type=="Ready")]`), not only plain field paths.
        value: (o) => evaluateJsonPath(o, c.jsonPath),
        ...(c.priority !== undefined ? { priority: c.priority } : {}),
      })),
      boundFrom: from,
    }));
}
