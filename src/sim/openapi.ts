// Just enough OpenAPI v3 for kubectl: one document per served group version whose PATCH operations
// declare the `fieldValidation` parameter (so kubectl validates server-side instead of downloading
// schemas) and which carries no schemas (so kubectl computes strategic merge patches from its built-in
// types). There is no v2 document: kubectl treats its absence as "no schema" and carries on.
import { groupVersion, type ResourceType } from './types.ts';

export function openapiV3Index(types: ResourceType[], prefix: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const t of types) {
    const gvPath = t.group === '' ? `api/${t.version}` : `apis/${t.group}/${t.version}`;
    paths[gvPath] = { serverRelativeURL: `${prefix}/openapi/v3/${gvPath}?hash=sim` };
  }
  return { paths };
}

export function openapiV3Document(types: ResourceType[], gvPath: string): Record<string, unknown> | undefined {
  const selected = types.filter((t) => (t.group === '' ? `api/${t.version}` : `apis/${t.group}/${t.version}`) === gvPath);
  if (selected.length === 0) return undefined;
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: groupVersion(selected[0] ?? { group: '', version: 'v1' }) },
    paths: Object.fromEntries(selected.map((t) => [resourcePath(t), {
      patch: {
        'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
        parameters: ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
      },
    }])),
    components: { schemas: {} },
  };
}

function resourcePath(t: ResourceType): string {
  const base = t.group === '' ? `/api/${t.version}` : `/apis/${t.group}/${t.version}`;
  return `${base}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.resource}/{name}`;
}
