// The OpenAPI schema of every kind a logical cluster serves: the built-ins' hand-written schemas, and each
// CRD's or APIResourceSchema's openAPIV3Schema wrapped as kube-apiserver publishes it.
import type { ResourceType } from '../types.ts';
import { objectMetaName, ref, refPrefix, type Schema } from './builders.ts';
import { coreSchemas } from './core.ts';
import { kcpSchemas } from './kcp.ts';
import { metaSchemas } from './meta.ts';
import { rbacSchemas } from './rbac.ts';

export type { Schema } from './builders.ts';
export { refPrefix } from './builders.ts';

export const builtinSchemas: Readonly<Record<string, Schema>> = { ...metaSchemas, ...coreSchemas, ...rbacSchemas, ...kcpSchemas };

const builtinByGVK = new Map<string, string>();
for (const [name, schema] of Object.entries(builtinSchemas)) {
  for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) builtinByGVK.set(`${gvk.group}/${gvk.version}/${gvk.kind}`, name);
}

/** kube-apiserver names a custom kind's schema by its reversed group: `com.example.v1.Widget`. */
function customName(type: ResourceType): string {
  return [...type.group.split('.').reverse(), type.version, type.kind].join('.');
}

function customSchema(type: ResourceType, schema: Schema): Schema {
  const properties = { ...(schema.properties ?? {}) };
  properties['apiVersion'] ??= { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' };
  properties['kind'] ??= { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' };
  properties['metadata'] = ref(
    objectMetaName,
    "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
  );
  return { ...schema, type: 'object', properties, 'x-kubernetes-group-version-kind': [{ group: type.group, version: type.version, kind: type.kind }] };
}

/** The component name and schema of one served kind; undefined for a kind without a schema. */
export function kindSchema(type: ResourceType): { name: string; schema: Schema } | undefined {
  if (type.schema !== undefined) return { name: customName(type), schema: customSchema(type, type.schema as Schema) };
  const name = builtinByGVK.get(`${type.group}/${type.version}/${type.kind}`);
  const schema = name === undefined ? undefined : builtinSchemas[name];
  return name === undefined || schema === undefined ? undefined : { name, schema };
}

/** Names every `$ref` in a schema points at. */
function referencedNames(schema: unknown, into: Set<string>): void {
  if (Array.isArray(schema)) {
    for (const item of schema) referencedNames(item, into);
  } else if (schema !== null && typeof schema === 'object') {
    for (const [key, value] of Object.entries(schema)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith(refPrefix)) into.add(value.slice(refPrefix.length));
      else referencedNames(value, into);
    }
  }
}

/** The kinds' schemas plus every shared schema they refer to, by component name. */
export function componentsFor(types: ResourceType[]): Record<string, Schema> {
  const components: Record<string, Schema> = {};
  const pending: string[] = [];
  const visit = (schema: Schema) => {
    const names = new Set<string>();
    referencedNames(schema, names);
    pending.push(...names);
  };
  for (const type of types) {
    const found = kindSchema(type);
    if (found === undefined) continue;
    components[found.name] = found.schema;
    visit(found.schema);
  }
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const schema = builtinSchemas[name];
    if (components[name] !== undefined || schema === undefined) continue;
    components[name] = schema;
    visit(schema);
  }
  return components;
}

/** A schema node with `allOf: [{$ref}]` and `$ref` followed to the schema they name. */
export function resolveSchema(schema: Schema | undefined, components: Readonly<Record<string, Schema>> = builtinSchemas): Schema | undefined {
  let node = schema;
  for (let depth = 0; node !== undefined && depth < 8; depth++) {
    if (node.$ref !== undefined) node = components[node.$ref.slice(refPrefix.length)];
    else if (node.allOf?.length === 1 && node.properties === undefined) node = node.allOf[0];
    else return node;
  }
  return node;
}
