// One `rules[]` entry of a flow schema, compiled to a predicate. Within a rule every field that is
// present must match (users AND groups AND verbs …); within a field any listed pattern may match.
// A flow schema matches when any of its rules does. Compiled once per policy load. A matcher that
// reads another request attribute must be added to the key of flow-cache.ts, or cached answers go stale.
import type { Identity } from '../auth/identity.ts';
import type { RequestAttributes } from '../kube/request-attributes.ts';
import { compileGlobList, type GlobMatcher } from './glob.ts';
import type { DeepReadonly } from '../config/index.ts';
import type { RuleDocument } from './policy-schema.ts';
import type { LimitContext } from './types.ts';

export type RequestMatcher = (identity: Identity, attrs: RequestAttributes, context: LimitContext) => boolean;

/** Workspace paths compare without the optional `root:` prefix, so both spellings work in the file and the request. */
export function normalizeWorkspace(path: string): string {
  return path.startsWith('root:') ? path.slice('root:'.length) : path;
}

/** Compiles one rule; `issue` records a problem with one of its fields. */
export function compileRule(rule: DeepReadonly<RuleDocument>, issue: (field: string, message: string) => void): RequestMatcher {
  const checks: RequestMatcher[] = [];
  const isResourceRule = rule.apiGroups !== undefined || rule.resources !== undefined;
  if (isResourceRule && rule.nonResourcePaths !== undefined) {
    issue('nonResourcePaths', 'a rule matches either resources (apiGroups/resources) or nonResourcePaths, not both');
  }
  if (rule.users !== undefined) {
    const m = compileGlobList(rule.users);
    checks.push((identity) => m(identity.user));
  }
  if (rule.groups !== undefined) {
    const m = compileGlobList(rule.groups);
    checks.push((identity) => identity.groups.some(m));
  }
  if (rule.orgs !== undefined) {
    const m = compileGlobList(rule.orgs);
    checks.push((_i, _a, ctx) => ctx.org !== undefined && m(ctx.org));
  }
  if (rule.workspaces !== undefined) {
    const m = compileGlobList(rule.workspaces.map(normalizeWorkspace));
    checks.push((_i, _a, ctx) => ctx.workspace !== undefined && m(normalizeWorkspace(ctx.workspace)));
  }
  if (rule.verbs !== undefined && !rule.verbs.includes('*')) {
    const verbs = new Set(rule.verbs);
    checks.push((_i, attrs) => verbs.has(attrs.verb));
  }
  if (isResourceRule) {
    const groups = rule.apiGroups;
    const anyGroup = groups === undefined || groups.includes('*');
    const resources: GlobMatcher = compileGlobList(rule.resources);
    checks.push(
      (_i, attrs) =>
        attrs.isResourceRequest && (anyGroup || groups.includes(attrs.apiGroup)) && resources(attrs.subresource === '' ? attrs.resource : `${attrs.resource}/${attrs.subresource}`),
    );
  }
  if (rule.nonResourcePaths !== undefined) {
    const m = compileGlobList(rule.nonResourcePaths);
    checks.push((_i, attrs) => !attrs.isResourceRequest && m(attrs.path));
  }
  if (checks.length === 0) return () => true;
  if (checks.length === 1) return checks[0]!;
  return (identity, attrs, ctx) => checks.every((c) => c(identity, attrs, ctx));
}
