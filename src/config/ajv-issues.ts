// Turns ajv's errors into sentences an operator can act on, each tied to the field it is about.
import type { ErrorObject } from 'ajv';
import type { FieldPath } from './issues.ts';

export interface RawIssue {
  path: FieldPath;
  message: string;
}

/** Splits ajv's JSON pointer (`/routes/2/shard`) back into segments, numbers for array indexes. */
function pointerToPath(pointer: string, data: unknown): (string | number)[] {
  if (pointer === '') return [];
  const path: (string | number)[] = [];
  let node = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(key);
      path.push(index);
      node = node[index];
    } else {
      path.push(key);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return path;
}

function describeType(type: unknown): string {
  const names = (Array.isArray(type) ? type : [type]).map((t) => (t === 'object' ? 'a mapping' : t === 'array' ? 'a list' : t === 'integer' ? 'an integer' : `a ${String(t)}`));
  return names.join(' or ');
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

function suggestion(unknown: string, parentSchema: unknown): string {
  const properties = (parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  if (properties === undefined) return '';
  const close = Object.keys(properties)
    .map((name) => ({ name, distance: editDistance(unknown.toLowerCase(), name.toLowerCase()) }))
    .filter((c) => c.distance <= Math.max(1, Math.ceil(c.name.length / 3)))
    .sort((a, b) => a.distance - b.distance)[0];
  return close === undefined ? '' : ` (did you mean "${close.name}"?)`;
}

/** One issue per distinct (field, reason); `if` wrappers are dropped because their `then` error says it. */
export function translateAjvErrors(errors: readonly ErrorObject[], data: unknown): RawIssue[] {
  const out: RawIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (error.keyword === 'if') continue;
    const path = pointerToPath(error.instancePath, data);
    const params = error.params as Record<string, unknown>;
    const custom = (error.parentSchema as { errorMessage?: unknown } | undefined)?.errorMessage;
    let message: string;
    switch (error.keyword) {
      case 'required':
        path.push(String(params['missingProperty']));
        message = 'is required';
        break;
      case 'additionalProperties': {
        const name = String(params['additionalProperty']);
        path.push(name);
        message = `is not a known field${suggestion(name, error.parentSchema)}`;
        break;
      }
      case 'type':
        message = typeof custom === 'string' ? custom : `must be ${describeType(params['type'])}`;
        break;
      case 'enum':
        message = `must be one of: ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'minLength':
        message = params['limit'] === 1 ? 'must not be empty' : (error.message ?? 'is too short');
        break;
      case 'minItems':
        message = params['limit'] === 1 ? 'must list at least one entry' : (error.message ?? 'has too few entries');
        break;
      default:
        message = typeof custom === 'string' ? custom : (error.message ?? `fails ${error.keyword}`);
    }
    const key = `${JSON.stringify(path)}\0${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, message });
  }
  return out;
}
