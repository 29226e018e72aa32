// Small constructors for OpenAPI schemas, so the built-in kinds' schemas read like their Go types.
// References point at `#/components/schemas/<name>` (OpenAPI v3); the v2 document rewrites them.

export interface Schema {
  type?: string;
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  allOf?: Schema[];
  $ref?: string;
  enum?: string[];
  default?: unknown;
  'x-kubernetes-group-version-kind'?: Array<{ group: string; version: string; kind: string }>;
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  [extension: `x-${string}`]: unknown;
}

export const refPrefix = '#/components/schemas/';

export const str = (description: string, extra: Partial<Schema> = {}): Schema => ({ type: 'string', description, ...extra });
export const int = (description: string): Schema => ({ type: 'integer', format: 'int32', description });
export const int64 = (description: string): Schema => ({ type: 'integer', format: 'int64', description });
export const bool = (description: string): Schema => ({ type: 'boolean', description });
export const time = (description: string): Schema => ({ type: 'string', format: 'date-time', description });
export const intOrString = (description: string): Schema => ({ 'x-kubernetes-int-or-string': true, format: 'int-or-string', description });
export const stringMap = (description: string): Schema => ({ type: 'object', additionalProperties: { type: 'string', default: '' }, description });
export const strings = (description: string, listType: 'atomic' | 'set' = 'atomic'): Schema => ({
  type: 'array',
  items: { type: 'string', default: '' },
  description,
  'x-kubernetes-list-type': listType,
});
/** An object this stand-in does not describe field by field: any content is valid. */
export const loose = (description: string): Schema => ({ type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true });

/** A field of a named type; kube wraps the reference in allOf so the field keeps its own description. */
export const ref = (name: string, description: string, extra: Partial<Schema> = {}): Schema => ({ allOf: [{ $ref: refPrefix + name }], description, ...extra });

/** A list merged element by element on `key` by strategic merge patch (Go tag patchMergeKey/patchStrategy=merge). */
export const keyedList = (itemType: string, key: string, description: string, mapKeys: string[] = [key]): Schema => ({
  type: 'array',
  items: { $ref: refPrefix + itemType, default: {} },
  description,
  'x-kubernetes-patch-merge-key': key,
  'x-kubernetes-patch-strategy': 'merge',
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': mapKeys,
});

/** A list replaced as a whole by strategic merge patch. */
export const atomicList = (itemType: string, description: string): Schema => ({
  type: 'array',
  items: { $ref: refPrefix + itemType, default: {} },
  description,
  'x-kubernetes-list-type': 'atomic',
});

export function object(description: string, properties: Record<string, Schema>, required?: string[]): Schema {
  return { type: 'object', description, properties, ...(required === undefined ? {} : { required }) };
}

const apiVersionField = str(
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
);
const kindField = str(
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
);
export const objectMetaName = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** A top-level kind: apiVersion, kind, metadata, then its own fields, tagged with its group/version/kind. */
export function kind(group: string, version: string, kindName: string, description: string, properties: Record<string, Schema>): Schema {
  return {
    type: 'object',
    description,
    properties: {
      apiVersion: apiVersionField,
      kind: kindField,
      metadata: ref(objectMetaName, "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata", {
        default: {},
      }),
      ...properties,
    },
    'x-kubernetes-group-version-kind': [{ group, version, kind: kindName }],
  };
}
