// Label and field selectors with kube-apiserver's syntax (`a=b,c!=d,e in (x,y),!f`).
import { badRequest } from './errors.ts';
import type { KubeObject } from './types.ts';

export type Matcher = (object: KubeObject) => boolean;

type Requirement = { key: string; op: 'in' | 'notin' | 'exists' | '!exists'; values: string[] };

/** Splits on commas that are not inside `( … )`. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else current += ch;
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

function parseRequirement(term: string, kind: string): Requirement {
  const set = /^([^\s!=<>()]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (set !== null) {
    const values = (set[3] ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    return { key: set[1] ?? '', op: set[2] === 'in' ? 'in' : 'notin', values };
  }
  const cmp = /^([^\s!=]+)\s*(==|=|!=)\s*([^\s,]*)$/.exec(term);
  if (cmp !== null) {
    return { key: cmp[1] ?? '', op: cmp[2] === '!=' ? 'notin' : 'in', values: [cmp[3] ?? ''] };
  }
  const exists = /^(!?)([A-Za-z0-9./_-]+)$/.exec(term);
  if (exists !== null && kind === 'label') {
    return { key: exists[2] ?? '', op: exists[1] === '!' ? '!exists' : 'exists', values: [] };
  }
  throw badRequest(`unable to parse requirement: invalid ${kind} selector "${term}"`);
}

function compile(selector: string | null, kind: 'label' | 'field', read: (object: KubeObject, key: string) => string | undefined): Matcher {
  if (selector === null || selector.trim() === '') return () => true;
  const requirements = splitTerms(selector).map((t) => parseRequirement(t, kind));
  return (object) =>
    requirements.every((r) => {
      const value = read(object, r.key);
      switch (r.op) {
        case 'exists':
          return value !== undefined;
        case '!exists':
          return value === undefined;
        case 'in':
          return value !== undefined && r.values.includes(value);
        case 'notin':
          return value === undefined || !r.values.includes(value);
      }
    });
}

export function labelMatcher(selector: string | null): Matcher {
  return compile(selector, 'label', (object, key) => object.metadata.labels?.[key]);
}

/** Any dotted path is accepted (kube allows a per-kind list; being generous here breaks no client). */
export function fieldMatcher(selector: string | null): Matcher {
  return compile(selector, 'field', (object, path) => {
    let value: unknown = object;
    for (const part of path.split('.')) {
      if (value === null || typeof value !== 'object') return path.startsWith('metadata.namespace') ? '' : undefined;
      value = (value as Record<string, unknown>)[part];
    }
    if (value === undefined) return path === 'metadata.namespace' ? '' : '';
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  });
}
