// Glob patterns of the policy file: `*` matches any run of characters (including `:` and `/`, so
// `root:org-acme:*` covers nested workspaces and `/apis/*` every group); everything else is literal.
// Compiled once at validation time, never on the request path.

export type GlobMatcher = (value: string) => boolean;

export function compileGlob(pattern: string): GlobMatcher {
  if (pattern === '*') return () => true;
  if (!pattern.includes('*')) return (value) => value === pattern;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const re = new RegExp(`^${source}$`, 's');
  return (value) => re.test(value);
}

/** Matches when any pattern matches; an absent list matches everything. */
export function compileGlobList(patterns: readonly string[] | undefined): GlobMatcher {
  if (patterns === undefined) return () => true;
  const matchers = patterns.map(compileGlob);
  if (matchers.length === 1) return matchers[0]!;
  return (value) => matchers.some((m) => m(value));
}
