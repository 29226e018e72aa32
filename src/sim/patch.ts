// The three classic patch types kube-apiserver accepts: JSON patch (RFC 6902), JSON merge patch
// (RFC 7386) and strategic merge patch (merge patch plus list merging by key and `$patch` directives).
import { SimError } from './errors.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function unescapePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function invalidPatch(message: string): SimError {
  return new SimError(422, 'Invalid', message);
}

export function jsonPatch(document: Json, operations: unknown): Json {
  if (!Array.isArray(operations)) throw new SimError(400, 'BadRequest', 'json patch must be an array of operations');
  let doc = structuredClone(document);
  for (const op of operations as Array<{ op?: string; path?: string; from?: string; value?: Json }>) {
    const read = (path: string): Json | undefined => {
      let node: Json | undefined = doc;
      for (const token of path.split('/').slice(1).map(unescapePointer)) {
        if (Array.isArray(node)) node = node[Number(token)];
        else if (isObject(node)) node = node[token];
        else return undefined;
      }
      return node;
    };
    const parentOf = (path: string): { parent: Json; key: string } => {
      const tokens = path.split('/').slice(1).map(unescapePointer);
      const key = tokens.pop() ?? '';
      const parent = read(
        '/' +
          tokens
            .map((t) => t.replace(/~/g, '~0').replace(/\//g, '~1'))
            .join('/')
            .replace(/^\/$/, ''),
      );
      if (parent === undefined || typeof parent !== 'object' || parent === null)
        throw invalidPatch(`the server rejected our request due to an error in our request: doc is missing path: "${path}"`);
      return { parent, key };
    };
    const remove = (path: string): Json | undefined => {
      const { parent, key } = parentOf(path);
      if (Array.isArray(parent)) return parent.splice(Number(key), 1)[0];
      if (isObject(parent)) {
        if (!(key in parent)) throw invalidPatch(`the server rejected our request due to an error in our request: unable to remove nonexistent key: ${key}: missing value`);
        const old = parent[key];
        delete parent[key];
        return old;
      }
      return undefined;
    };
    const add = (path: string, value: Json) => {
      if (path === '') {
        doc = value;
        return;
      }
      const { parent, key } = parentOf(path);
      if (Array.isArray(parent)) parent.splice(key === '-' ? parent.length : Number(key), 0, value);
      else if (isObject(parent)) parent[key] = value;
    };
    const path = op.path ?? '';
    switch (op.op) {
      case 'add':
        add(path, structuredClone(op.value ?? null));
        break;
      case 'remove':
        remove(path);
        break;
      case 'replace':
        if (read(path) === undefined)
          throw invalidPatch(`the server rejected our request due to an error in our request: replace operation does not apply: doc is missing key: ${path}: missing value`);
        remove(path);
        add(path, structuredClone(op.value ?? null));
        break;
      case 'move': {
        const value = remove(op.from ?? '');
        add(path, value ?? null);
        break;
      }
      case 'copy':
        add(path, structuredClone(read(op.from ?? '') ?? null));
        break;
      case 'test':
        if (JSON.stringify(read(path)) !== JSON.stringify(op.value))
          throw invalidPatch(`the server rejected our request due to an error in our request: testing value ${path} failed: test failed`);
        break;
      default:
        throw new SimError(400, 'BadRequest', `unexpected json patch operation "${String(op.op)}"`);
    }
  }
  return doc;
}

/**
 * What strategic merge patch knows about the patched type at one level, from its schema's
 * `x-kubernetes-patch-merge-key` / `x-kubernetes-patch-strategy` (the Go types' patch tags).
 * Without it (custom kinds) lists are replaced, as merge patch does.
 */
export interface PatchMeta {
  field(name: string): PatchMeta | undefined;
  list(name: string): { mergeKey?: string; strategies: string[]; items: PatchMeta | undefined } | undefined;
}

export function strategicMergePatch(target: Json | undefined, patch: Json, meta?: PatchMeta): Json {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch['$patch'] === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch['$patch'] === 'delete') return null;
  const result: Record<string, Json> = isObject(target) ? { ...target } : {};
  const retainKeys = patch['$retainKeys'];
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$retainKeys' || key === '$patch') continue;
    if (key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const name = key.slice('$deleteFromPrimitiveList/'.length);
      const current = result[name];
      if (Array.isArray(current) && Array.isArray(value)) result[name] = current.filter((v) => !value.some((d) => JSON.stringify(d) === JSON.stringify(v)));
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const current = result[key];
    if (Array.isArray(value)) {
      const listMeta = meta?.list(key);
      const merged = mergeList(listMeta, Array.isArray(current) ? current : undefined, value);
      const order = patch[`$setElementOrder/${key}`];
      result[key] = Array.isArray(order) ? inElementOrder(merged, order, listMeta?.mergeKey) : merged;
    } else {
      const merged = strategicMergePatch(current, value, meta?.field(key));
      if (merged === null) delete result[key];
      else result[key] = merged;
    }
  }
  if (Array.isArray(retainKeys)) {
    for (const key of Object.keys(result)) if (!retainKeys.includes(key)) delete result[key];
  }
  return result;
}

function mergeList(meta: ReturnType<PatchMeta['list']>, current: Json[] | undefined, patch: Json[]): Json[] {
  const replaced = () => patch.filter((p) => !(isObject(p) && p['$patch'] !== undefined)).map(stripDirectives);
  if (meta === undefined || !meta.strategies.includes('merge') || current === undefined) return replaced();
  const key = meta.mergeKey;
  if (key === undefined) {
    // A list of primitives with strategy merge is a set: patch items are added to the live ones.
    const merged = [...current];
    for (const v of patch) if (!merged.some((m) => JSON.stringify(m) === JSON.stringify(v))) merged.push(v);
    return merged;
  }
  const merged = [...current];
  for (const item of patch) {
    if (!isObject(item)) continue;
    if (item['$patch'] === 'replace') return replaced();
    const index = item[key] === undefined ? -1 : merged.findIndex((m) => isObject(m) && JSON.stringify(m[key]) === JSON.stringify(item[key]));
    if (item['$patch'] === 'delete') {
      if (index >= 0) merged.splice(index, 1);
    } else if (index >= 0) {
      merged[index] = strategicMergePatch(merged[index], item, meta.items);
    } else {
      merged.push(stripDirectives(item));
    }
  }
  return merged;
}

/**
 * `$setElementOrder/<list>` (what kubectl apply sends) gives the order of the items the patch knows:
 * those come first in that order, items only the server had keep theirs after them.
 */
function inElementOrder(items: Json[], order: Json[], mergeKey: string | undefined): Json[] {
  const identity = (item: Json | undefined) => JSON.stringify(mergeKey !== undefined && isObject(item) ? item[mergeKey] : item);
  const position = new Map(order.map((entry, i) => [identity(entry), i]));
  const ranked = items.map((item, i) => ({ item, rank: position.get(identity(item)) ?? order.length + i }));
  return ranked.sort((a, b) => a.rank - b.rank).map((r) => r.item);
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) if (!k.startsWith('$')) out[k] = stripDirectives(v);
  return out;
}

export type { Json };
