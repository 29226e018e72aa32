// OpenAPI as kube-apiserver publishes it: the v3 index and one v3 document per group version, and the
// single v2 document, each with the schemas of the kinds served (`kubectl explain`, client-side apply's
// patch merge keys, helm) and PATCH operations that declare `fieldValidation`, so clients leave
// validation to the server.
import { createHash } from 'node:crypto';
import { componentsFor, kindSchema, refPrefix, type Schema } from './schemas/index.ts';
import { groupVersion, type ResourceType } from './types.ts';

function gvPath(t: ResourceType): string {
  return t.group === '' ? `api/${t.version}` : `apis/${t.group}/${t.version}`;
}

/** Each entry's hash is that of its document, as kube-apiserver's: it changes when a schema does, so caches keyed on the URL stay right. */
export function openapiV3Index(types: ResourceType[], prefix: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const path of new Set(types.map(gvPath))) {
    const hash = createHash('sha512')
      .update(JSON.stringify(openapiV3Document(types, path)))
      .digest('hex')
      .slice(0, 128)
      .toUpperCase();
    paths[path] = { serverRelativeURL: `${prefix}/openapi/v3/${path}?hash=${hash}` };
  }
  return { paths };
}

const patchParameters = ['dryRun', 'fieldManager', 'fieldValidation', 'force'];

function operations(t: ResourceType, schemaRef: (name: string) => string, v2: boolean): Record<string, unknown> {
  const gvk = { group: t.group, version: t.version, kind: t.kind };
  const found = kindSchema(t);
  const body = found === undefined ? { type: 'object' } : { $ref: schemaRef(found.name) };
  const ok = v2 ? { description: 'OK', schema: body } : { description: 'OK', content: { 'application/json': { schema: body } } };
  // Strategic merge patch is for kinds with Go types only; kubectl computes one only when the operation lists it.
  const patchTypes = [
    'application/apply-patch+yaml',
    'application/json-patch+json',
    'application/merge-patch+json',
    ...(t.schema === undefined && t.boundFrom === undefined ? ['application/strategic-merge-patch+json'] : []),
  ];
  const patchBody = v2 ? { consumes: patchTypes } : { requestBody: { content: Object.fromEntries(patchTypes.map((type) => [type, { schema: { type: 'object' } }])) } };
  const parameter = (name: string) => (v2 ? { name, in: 'query', type: 'string', uniqueItems: true } : { name, in: 'query', schema: { type: 'string', uniqueItems: true } });
  return {
    get: { operationId: `read${t.kind}`, 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk, responses: { '200': ok } },
    patch: {
      operationId: `patch${t.kind}`,
      'x-kubernetes-action': 'patch',
      'x-kubernetes-group-version-kind': gvk,
      ...patchBody,
      parameters: patchParameters.map(parameter),
      responses: { '200': ok },
    },
  };
}

function resourcePath(t: ResourceType): string {
  const base = t.group === '' ? `/api/${t.version}` : `/apis/${t.group}/${t.version}`;
  return `${base}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.resource}/{name}`;
}

export function openapiV3Document(types: ResourceType[], path: string): Record<string, unknown> | undefined {
  const selected = types.filter((t) => gvPath(t) === path);
  if (selected.length === 0) return undefined;
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: groupVersion(selected[0] ?? { group: '', version: 'v1' }) },
    paths: Object.fromEntries(selected.map((t) => [resourcePath(t), operations(t, (name) => refPrefix + name, false)])),
    components: { schemas: componentsFor(selected) },
  };
}

/** v2 has no allOf wrappers around references: a field's `$ref` sits beside its description. */
function toV2(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toV2);
  if (schema === null || typeof schema !== 'object') return schema;
  const node = schema as Schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'allOf' && node.allOf?.length === 1 && node.allOf[0]?.$ref !== undefined) out['$ref'] = toV2(node.allOf[0].$ref);
    else if (key === '$ref' && typeof value === 'string') out[key] = `#/definitions/${value.slice(refPrefix.length)}`;
    else out[key] = toV2(value);
  }
  if (typeof out['$ref'] === 'string' && out['$ref'].startsWith(refPrefix)) out['$ref'] = `#/definitions/${out['$ref'].slice(refPrefix.length)}`;
  // A v2 reference carries no siblings but its description.
  if (out['$ref'] !== undefined) return out['description'] === undefined ? { $ref: out['$ref'] } : { description: out['description'], $ref: out['$ref'] };
  return out;
}

export function openapiV2Document(types: ResourceType[]): Record<string, unknown> {
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: 'v1.32.3' },
    paths: Object.fromEntries(types.map((t) => [resourcePath(t), operations(t, (name) => `#/definitions/${name}`, true)])),
    definitions: toV2(componentsFor(types)),
  };
}
