// Printer columns name their cells with JSONPath; this is the subset CRDs and APIResourceSchemas use.

/**
 * The JSONPath subset printer columns use: `.a.b`, `.a[0].b` and `.a[?(@.k=="v")].b`. Anything else
 * prints empty rather than failing the whole table.
 */
export function evaluateJsonPath(object: unknown, path: string): unknown {
  const tokens = path.match(/\.[^.[\]]+|\[\?\(@\.[^=]+==\s*"[^"]*"\)\]|\[\d+\]/g) ?? [];
  let value: unknown = object;
  for (const token of tokens) {
    if (value === null || value === undefined) return undefined;
    if (token.startsWith('.')) {
      value = typeof value === 'object' ? (value as Record<string, unknown>)[token.slice(1)] : undefined;
    } else if (token.startsWith('[?')) {
      const [, key = '', wanted] = /^\[\?\(@\.([^=]+?)\s*==\s*"([^"]*)"\)\]$/.exec(token) ?? [];
      value = Array.isArray(value) ? value.find((item) => (item as Record<string, unknown> | null)?.[key] === wanted) : undefined;
    } else {
      value = Array.isArray(value) ? value[Number(token.slice(1, -1))] : undefined;
    }
  }
  return value;
}
