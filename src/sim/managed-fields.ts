// Field ownership for server-side apply, as leaf paths in the FieldsV1 vocabulary (`f:data`, `k:{"name":"a"}`).
// Good enough for kubectl's apply --server-side: ownership per manager, conflicts, removal of fields a
// manager stopped applying, and ownership taken over by plain updates.
import type { Json } from './patch.ts';
import { now } from './shard-state.ts';
import type { KubeObject, ManagedFieldsEntry } from './types.ts';

export type FieldPath = string[];

/** List fields whose items are identified by a key, as in strategic merge patch. */
export const listKeys: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  conditions: 'type',
  imagePullSecrets: 'name',
};

const ignoredMetadata = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
]);

function isObject(value: unknown): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Every leaf an object sets, skipping identity fields kube never records as owned. */
export function leafPaths(object: Record<string, unknown>): FieldPath[] {
  const paths: FieldPath[] = [];
  const walk = (value: unknown, path: FieldPath, field: string) => {
    if (isObject(value) && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) {
        if (path.length === 0 && (k === 'apiVersion' || k === 'kind')) continue;
        if (path.length === 1 && path[0] === 'f:metadata' && ignoredMetadata.has(k)) continue;
        if (path.length === 2 && path[0] === 'f:metadata' && path[1] === 'f:annotations' && k === 'kcp.io/cluster') continue;
        walk(v, [...path, `f:${k}`], k);
      }
      return;
    }
    const key = listKeys[field];
    if (Array.isArray(value) && key !== undefined && value.every((item) => isObject(item) && item[key] !== undefined)) {
      for (const item of value as Array<Record<string, Json>>) {
        const token = `k:${JSON.stringify({ [key]: item[key] })}`;
        const rest = { ...item };
        delete rest[key];
        paths.push([...path, token, `f:${key}`]);
        if (Object.keys(rest).length > 0) walk(rest, [...path, token], '');
      }
      return;
    }
    if (path.length > 0) paths.push(path);
  };
  walk(object, [], '');
  return paths;
}

function step(node: unknown, token: string): unknown {
  if (token.startsWith('f:')) return isObject(node) ? node[token.slice(2)] : undefined;
  if (token.startsWith('k:') && Array.isArray(node)) {
    const wanted = JSON.parse(token.slice(2)) as Record<string, Json>;
    return node.find((item) => isObject(item) && Object.entries(wanted).every(([k, v]) => item[k] === v));
  }
  return undefined;
}

export function valueAt(object: unknown, path: FieldPath): unknown {
  let node = object;
  for (const token of path) node = step(node, token);
  return node;
}

export function removeAt(object: Record<string, unknown>, path: FieldPath): void {
  const parent = valueAt(object, path.slice(0, -1));
  const last = path[path.length - 1] ?? '';
  if (last.startsWith('f:') && isObject(parent)) delete parent[last.slice(2)];
  if (last.startsWith('k:')) {
    const grand = valueAt(object, path.slice(0, -2));
    const listField = path[path.length - 2] ?? '';
    const list = isObject(grand) ? grand[listField.slice(2)] : undefined;
    const item = step(list, last);
    if (Array.isArray(list) && isObject(grand)) grand[listField.slice(2)] = list.filter((i) => i !== item);
  }
}

export function toFieldsV1(paths: FieldPath[]): Record<string, unknown> {
  const tree: Record<string, unknown> = {};
  for (const path of paths) {
    let node = tree;
    for (const token of path) {
      node[token] ??= {};
      node = node[token] as Record<string, unknown>;
    }
  }
  return tree;
}

export function fromFieldsV1(tree: Record<string, unknown>, prefix: FieldPath = []): FieldPath[] {
  const paths: FieldPath[] = [];
  for (const [token, child] of Object.entries(tree)) {
    if (token === '.') continue;
    const childKeys = isObject(child) ? Object.keys(child).filter((k) => k !== '.') : [];
    if (childKeys.length === 0) paths.push([...prefix, token]);
    else paths.push(...fromFieldsV1(child as Record<string, unknown>, [...prefix, token]));
  }
  return paths;
}

export function samePath(a: FieldPath, b: FieldPath): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/** One path covers another when it is the same field or an ancestor of it. */
export function overlaps(a: FieldPath, b: FieldPath): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function entry(manager: string, operation: 'Apply' | 'Update', apiVersion: string, paths: FieldPath[], subresource?: string): ManagedFieldsEntry {
  return {
    manager,
    operation,
    apiVersion,
    time: now(),
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(paths),
    ...(subresource !== undefined && subresource !== '' ? { subresource } : {}),
  };
}

/** After a non-apply write: the writer owns every leaf it changed, taken away from whoever owned it. */
export function recordUpdate(before: KubeObject | undefined, after: KubeObject, manager: string, subresource: string): void {
  const apiVersion = after.apiVersion ?? 'v1';
  const afterPaths = leafPaths(after as Record<string, unknown>);
  const changed = afterPaths.filter((p) => before === undefined || JSON.stringify(valueAt(before, p)) !== JSON.stringify(valueAt(after, p)));
  const entries = (before?.metadata.managedFields ?? []).map((e) => ({ e, paths: fromFieldsV1(e.fieldsV1) }));
  const kept: ManagedFieldsEntry[] = [];
  let mine = new Array<FieldPath>();
  for (const { e, paths } of entries) {
    const stillThere = paths.filter((p) => valueAt(after, p) !== undefined && !changed.some((c) => samePath(c, p)));
    if (e.manager === manager && e.operation === 'Update' && (e.subresource ?? '') === subresource) {
      mine = stillThere;
      continue;
    }
    if (stillThere.length > 0) kept.push({ ...e, fieldsV1: toFieldsV1(stillThere) });
  }
  for (const p of changed) if (!mine.some((m) => samePath(m, p))) mine.push(p);
  if (mine.length > 0) kept.push(entry(manager, 'Update', apiVersion, mine, subresource));
  after.metadata.managedFields = kept;
}

/** kube-apiserver's default manager name: the user agent's program name. */
export function managerName(fieldManager: string | null, userAgent: string | undefined): string {
  if (fieldManager !== null && fieldManager !== '') return fieldManager;
  return (userAgent ?? 'unknown').split('/')[0] ?? 'unknown';
}
