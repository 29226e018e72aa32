// Strategic merge patch metadata read from a kind's OpenAPI schema, as kube's PatchMetaFromOpenAPI does.
import type { PatchMeta } from '../patch.ts';
import type { ResourceType } from '../types.ts';
import { kindSchema, resolveSchema, type Schema } from './index.ts';

function metaOf(schema: Schema | undefined): PatchMeta | undefined {
  const node = resolveSchema(schema);
  if (node?.properties === undefined) return undefined;
  const properties = node.properties;
  return {
    field: (name) => metaOf(properties[name]),
    list: (name) => {
      const field = properties[name];
      if (field === undefined) return undefined;
      const list = resolveSchema(field) ?? field;
      const mergeKey = field['x-kubernetes-patch-merge-key'] ?? list['x-kubernetes-patch-merge-key'];
      const strategy = field['x-kubernetes-patch-strategy'] ?? list['x-kubernetes-patch-strategy'] ?? '';
      return { ...(mergeKey === undefined ? {} : { mergeKey }), strategies: strategy.split(',').filter((s) => s !== ''), items: metaOf(list.items) };
    },
  };
}

/** Patch metadata of a built-in kind; custom kinds have none (kube refuses strategic merge patch for them). */
export function patchMetaFor(type: ResourceType): PatchMeta | undefined {
  if (type.schema !== undefined) return undefined;
  return metaOf(kindSchema(type)?.schema);
}
