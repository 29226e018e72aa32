// What can be checked about a Helm chart without the helm binary: which `.Values` paths the templates
// read, whether the schema declares them, and whether the template actions are well formed.

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  [keyword: string]: unknown;
}

/** Every `.Values.a.b` path read by a template (also `$.Values…` and `$root.Values…`). */
export function valuesReferences(template: string): string[] {
  const found = new Set<string>();
  for (const match of template.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
    found.add(match[1]!.slice(1));
  }
  return [...found];
}

/**
 * Whether the schema declares the dotted path. As in JSON Schema, an object schema without
 * `additionalProperties: false` admits any key (Kubernetes objects, config blocks passed through).
 */
export function schemaDeclares(schema: JsonSchema, path: string): boolean {
  let node: JsonSchema = schema;
  for (const segment of path.split('.')) {
    const declared = node.properties?.[segment];
    if (declared !== undefined) {
      node = declared;
      continue;
    }
    if (typeof node.additionalProperties === 'object') {
      node = node.additionalProperties;
      continue;
    }
    return node.type === 'object' && node.additionalProperties !== false;
  }
  return true;
}

const blockOpeners = new Set(['if', 'range', 'with', 'define', 'block']);

/** Structural problems in one template: unclosed actions, unbalanced if/range/with/define … end. */
export function structuralProblems(name: string, template: string): string[] {
  const problems: string[] = [];
  const stack: { keyword: string; line: number }[] = [];
  const lineOf = (index: number) => template.slice(0, index).split('\n').length;
  let index = 0;
  for (;;) {
    const open = template.indexOf('{{', index);
    if (open === -1) break;
    const close = template.indexOf('}}', open + 2);
    if (close === -1) {
      problems.push(`${name}:${lineOf(open)}: "{{" never closed`);
      break;
    }
    const action = template
      .slice(open + 2, close)
      .replace(/^-\s*/, '')
      .replace(/\s*-$/, '')
      .trim();
    index = close + 2;
    if (action.startsWith('/*')) {
      if (!action.endsWith('*/')) problems.push(`${name}:${lineOf(open)}: comment not closed in the same action`);
      continue;
    }
    if (action.includes('{{')) problems.push(`${name}:${lineOf(open)}: "{{" inside an action`);
    const keyword = action.split(/[\s(]/, 1)[0]!;
    if (blockOpeners.has(keyword)) stack.push({ keyword, line: lineOf(open) });
    else if (keyword === 'end') {
      if (stack.pop() === undefined) problems.push(`${name}:${lineOf(open)}: "end" without an open block`);
    } else if (keyword === 'else' && stack.length === 0) {
      problems.push(`${name}:${lineOf(open)}: "else" outside a block`);
    }
  }
  for (const open of stack) problems.push(`${name}:${open.line}: "${open.keyword}" never ended`);
  const stray = template.replace(/\{\{[\s\S]*?\}\}/g, '').indexOf('}}');
  if (stray !== -1) problems.push(`${name}: stray "}}"`);
  return problems;
}

/** Names given to `define` and names used by `include`/`template`. */
export function templateNames(template: string): { defined: string[]; used: string[] } {
  const defined = [...template.matchAll(/\{\{-?\s*define\s+"([^"]+)"/g)].map((m) => m[1]!);
  const used = [...template.matchAll(/\b(?:include|template)\s+"([^"]+)"/g)].map((m) => m[1]!);
  return { defined, used };
}

type Values = Record<string, unknown>;

/** What helm computes from the chart's values.yaml and a user file: maps merge, null deletes, the rest replaces. */
export function coalesce(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const below = out[key];
    const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (value === null) delete out[key];
    else out[key] = isMap(value) && isMap(below) ? coalesce(below, value) : value;
  }
  return out;
}
