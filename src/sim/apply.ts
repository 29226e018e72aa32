// Server-side apply (`application/apply-patch+yaml`): the applier owns exactly the fields it sent, fields
// it stops sending are removed unless someone else owns them, and taking a field another manager owns
// with a different value is a 409 conflict unless `force=true`.
import { SimError } from './errors.ts';
import { entry, fromFieldsV1, leafPaths, listKeys, overlaps, removeAt, samePath, toFieldsV1, valueAt, type FieldPath } from './managed-fields.ts';
import type { Json } from './patch.ts';
import type { KubeObject, ManagedFieldsEntry } from './types.ts';

function isObject(value: unknown): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Deep merge of an applied configuration into the live object: maps merge, keyed lists merge by key, other lists replace. */
function mergeApplied(live: Json | undefined, applied: Json, field = ''): Json {
  if (isObject(applied)) {
    const result: Record<string, Json> = isObject(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(applied)) result[k] = mergeApplied(result[k], v, k);
    return result;
  }
  const key = listKeys[field];
  // Merged by key only when every item has it, as ownership was recorded (leafPaths); otherwise the list
  // is owned and replaced as a whole. A Service's `ports` carry no containerPort, so they are replaced.
  const keyed = (list: Json[]) => key !== undefined && list.every((item) => isObject(item) && item[key] !== undefined);
  if (Array.isArray(applied) && Array.isArray(live) && keyed(applied) && keyed(live)) {
    const merged = [...live];
    for (const item of applied) {
      const index = merged.findIndex((m) => isObject(m) && isObject(item) && JSON.stringify(m[key]) === JSON.stringify(item[key]));
      if (index >= 0) merged[index] = mergeApplied(merged[index], item);
      else merged.push(item);
    }
    return merged;
  }
  return structuredClone(applied);
}

function describe(path: FieldPath): string {
  return path
    .map((t) =>
      t.startsWith('f:')
        ? `.${t.slice(2)}`
        : `[${t
            .slice(2)
            .replace(/^\{|\}$/g, '')
            .replace(/"/g, '')
            .replace(':', '=')}]`,
    )
    .join('');
}

const clientSideApplyManager = 'kubectl-client-side-apply';

function parseLastApplied(object: KubeObject): unknown {
  const text = object.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export interface ApplyInput {
  live: KubeObject | undefined;
  applied: KubeObject;
  manager: string;
  force: boolean;
  subresource: string;
}

/** The object to write after applying, with managedFields updated. Throws a 409 on unforced conflicts. */
export function serverSideApply(input: ApplyInput): KubeObject {
  const { live, applied, manager, subresource } = input;
  let force = input.force;
  const apiVersion = applied.apiVersion ?? 'v1';
  const appliedPaths = leafPaths(applied as Record<string, unknown>).filter((p) => (subresource === 'status' ? p[0] === 'f:status' : true));
  if (live === undefined) {
    const created = structuredClone(applied);
    created.metadata.managedFields = [entry(manager, 'Apply', apiVersion, appliedPaths)];
    return created;
  }
  const result = structuredClone(live);
  const entries: ManagedFieldsEntry[] = live.metadata.managedFields ?? [];
  const isMine = (e: ManagedFieldsEntry) => e.manager === manager && e.operation === 'Apply' && (e.subresource ?? '') === subresource;
  const previous = entries.filter(isMine).flatMap((e) => fromFieldsV1(e.fieldsV1));
  const others = entries.filter((e) => !isMine(e)).map((e) => ({ e, paths: fromFieldsV1(e.fieldsV1) }));

  const conflicts: Array<{ manager: string; apiVersion: string; path: FieldPath }> = [];
  for (const { e, paths } of others) {
    for (const p of paths) {
      const contested = appliedPaths.find((a) => overlaps(a, p));
      if (contested === undefined) continue;
      if (JSON.stringify(valueAt(live, p)) === JSON.stringify(valueAt(applied, p))) continue;
      conflicts.push({ manager: e.manager, apiVersion: e.apiVersion, path: p });
    }
  }
  // Moving from client-side to server-side apply conflicts with nobody (kube's lastAppliedManager): fields
  // the client-side applier recorded in last-applied-configuration are handed over.
  const lastApplied = parseLastApplied(live);
  const handedOver = (c: { manager: string; path: FieldPath }) => c.manager === clientSideApplyManager && lastApplied !== undefined && valueAt(lastApplied, c.path) !== undefined;
  if (conflicts.some(handedOver)) {
    const rest = conflicts.filter((c) => !handedOver(c));
    if (rest.length === 0) force = true;
  }
  if (conflicts.length > 0 && !force) {
    const lines = conflicts.map((c) => `conflict with "${c.manager}" using ${c.apiVersion}: ${describe(c.path)}`);
    const message = conflicts.length === 1 ? `Apply failed with 1 conflict: ${lines[0] ?? ''}` : `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
    throw new SimError(409, 'Conflict', message, {
      causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${c.apiVersion}`, field: describe(c.path) })),
    });
  }

  // Fields this manager applied before and no longer applies go, unless somebody else owns them too.
  for (const p of previous) {
    if (appliedPaths.some((a) => samePath(a, p))) continue;
    if (others.some(({ paths }) => paths.some((o) => samePath(o, p)))) continue;
    removeAt(result as Record<string, unknown>, p);
  }
  const merged = mergeApplied(result as unknown as Json, applied as unknown as Json) as unknown as KubeObject;
  merged.metadata = { ...merged.metadata, resourceVersion: live.metadata.resourceVersion };

  const managedFields: ManagedFieldsEntry[] = [];
  for (const { e, paths } of others) {
    const kept = force ? paths.filter((p) => !conflicts.some((c) => samePath(c.path, p))) : paths;
    if (kept.length > 0) managedFields.push({ ...e, fieldsV1: toFieldsV1(kept) });
  }
  managedFields.push(entry(manager, 'Apply', apiVersion, appliedPaths, subresource));
  merged.metadata.managedFields = managedFields;
  return merged;
}
