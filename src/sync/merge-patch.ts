// JSON merge patches (RFC 7386) computed between plain JSON values. Arrays and scalars are replaced
// whole, maps are merged, `null` removes a key.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonMap = { [key: string]: Json };

function isMap(value: unknown): value is JsonMap {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}

/** The merge patch that turns `from` into `to`; undefined when they are equal. */
export function mergeDiff(from: Json | undefined, to: Json | undefined): Json | undefined {
  if (jsonEqual(from, to)) return undefined;
  if (!isMap(from) || !isMap(to)) return to === undefined ? null : to;
  const patch: JsonMap = {};
  for (const key of Object.keys(from)) {
    if (to[key] === undefined && from[key] !== undefined) patch[key] = null;
  }
  for (const [key, value] of Object.entries(to)) {
    if (value === undefined) continue;
    const sub = mergeDiff(from[key], value);
    if (sub !== undefined) patch[key] = sub;
  }
  return Object.keys(patch).length === 0 ? undefined : patch;
}

/**
 * A three-way merge patch in the manner of `kubectl apply`: keys we set last time but no longer want are
 * removed, keys we want are brought to the wanted value on the live object, and keys nobody asked us
 * about (defaults filled in by the service cluster, fields another controller owns) are left alone.
 */
export function threeWayPatch(lastApplied: Json | undefined, desired: Json, live: Json | undefined): Json | undefined {
  if (!isMap(desired) || !isMap(live)) return jsonEqual(desired, live) ? undefined : desired;
  const last = isMap(lastApplied) ? lastApplied : {};
  const patch: JsonMap = {};
  for (const key of Object.keys(last)) {
    if (desired[key] === undefined && live[key] !== undefined) patch[key] = null;
  }
  for (const [key, value] of Object.entries(desired)) {
    if (value === undefined) continue;
    const sub = threeWayPatch(last[key], value, live[key]);
    if (sub !== undefined) patch[key] = sub;
  }
  return Object.keys(patch).length === 0 ? undefined : patch;
}
