// Server-side field validation (`fieldValidation=Strict|Warn|Ignore`): fields the kind's schema does not
// know. kubectl (and helm) send Strict and leave validation to a server whose OpenAPI declares the
// parameter, as the stand-in's does, so without this a typo in a manifest would pass silently.
import { badRequest } from './errors.ts';
import { kindSchema, resolveSchema, type Schema } from './schemas/index.ts';
import type { ResourceType } from './types.ts';

const embeddedFields = new Set(['apiVersion', 'kind', 'metadata']);

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Paths of fields the schema does not declare (`spec.ports[0].prot`), as kube's strict decoder names
 * them. A node is closed when it has properties (or is an object with none and no additionalProperties,
 * as a structural CRD schema prunes); x-kubernetes-preserve-unknown-fields opens it.
 */
function unknownIn(value: unknown, node: Schema | undefined, path: string, found: string[]): void {
  const schema = resolveSchema(node);
  if (schema === undefined || schema['x-kubernetes-preserve-unknown-fields'] === true) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => unknownIn(item, schema.items, `${path}[${i}]`, found));
    return;
  }
  if (!isObject(value)) return;
  const properties = schema.properties;
  const additional = schema.additionalProperties;
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  if (properties === undefined && additional !== undefined) {
    if (isObject(additional)) for (const [key, item] of Object.entries(value)) unknownIn(item, additional, `${path}${path === '' ? '' : '.'}${key}`, found);
    return;
  }
  if (properties === undefined && schema.type !== 'object') return;
  for (const [key, item] of Object.entries(value)) {
    const child = `${path}${path === '' ? '' : '.'}${key}`;
    const declared = properties?.[key];
    if (declared !== undefined) unknownIn(item, declared, child, found);
    else if (!(embedded && embeddedFields.has(key))) found.push(child);
  }
}

export function unknownFields(type: ResourceType, object: unknown): string[] {
  const found: string[] = [];
  const schema = kindSchema(type)?.schema;
  if (schema !== undefined) unknownIn(object, schema, '', found);
  return found;
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function fieldValidationOf(query: URLSearchParams): FieldValidation {
  const value = query.get('fieldValidation');
  if (value === null || value === '') return 'Warn';
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return value;
  throw badRequest(`fieldValidation ${JSON.stringify(value)} is invalid: valid values are Ignore, Warn and Strict`);
}

/**
 * Applies the directive: Strict refuses with kube's strict decoding error, Warn returns one Warning
 * header value per field (`299 - "unknown field \"spec.x\""`), Ignore returns none.
 */
export function checkFields(type: ResourceType, object: unknown, directive: FieldValidation): string[] {
  if (directive === 'Ignore') return [];
  const unknown = unknownFields(type, object);
  if (unknown.length === 0) return [];
  if (directive === 'Strict') {
    const version = type.group === '' ? type.version : `${type.group}/${type.version}`;
    throw badRequest(`${type.kind} in version "${version}" cannot be handled as a ${type.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
  }
  return unknown.map((f) => `299 - ${JSON.stringify(`unknown field "${f}"`)}`);
}
