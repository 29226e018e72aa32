// kube's RBAC authorizer over one logical cluster's objects: the rules of every binding whose subject is
// the caller (ClusterRoleBindings everywhere, RoleBindings in their namespace), ClusterRoles aggregated by
// label, the bootstrap roles beneath what the cluster stores. Allow-only: no rule, no access.
import type { ObjectStore } from '../store.ts';
import type { Identity, KubeObject } from '../types.ts';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles, type PolicyRule, type Subject } from './bootstrap-policy.ts';

export type Attributes =
  | { kind: 'resource'; verb: string; apiGroup: string; resource: string; subresource: string; namespace: string; name: string }
  | { kind: 'nonResource'; verb: string; path: string };

const gr = (resource: string) => `${resource}.rbac.authorization.k8s.io`;

interface RoleRef {
  kind: string;
  name: string;
}

const has = (values: readonly string[] | undefined, value: string) => (values ?? []).some((v) => v === '*' || v === value);

export function ruleAllows(rule: PolicyRule, attrs: Attributes): boolean {
  if (!has(rule.verbs, attrs.verb)) return false;
  if (attrs.kind === 'nonResource') {
    return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === attrs.path || (u.endsWith('*') && attrs.path.startsWith(u.slice(0, -1))));
  }
  if (!has(rule.apiGroups, attrs.apiGroup)) return false;
  const resources = rule.resources ?? [];
  const matchesResource =
    attrs.subresource === ''
      ? has(resources, attrs.resource)
      : resources.some((r) => r === '*' || r === `${attrs.resource}/${attrs.subresource}` || r === `*/${attrs.subresource}`);
  if (!matchesResource) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (attrs.name !== '' && names.includes(attrs.name));
}

export function subjectMatches(subject: Subject, identity: Identity, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name === identity.user;
    case 'Group':
      return identity.groups.includes(subject.name);
    case 'ServiceAccount':
      return identity.user === `system:serviceaccount:${subject.namespace ?? bindingNamespace}:${subject.name}`;
    default:
      return false;
  }
}

/** The RBAC objects of one logical cluster, bootstrap ones included. */
export class ClusterPolicy {
  readonly #store: ObjectStore;
  readonly #cluster: string;

  constructor(store: ObjectStore, cluster: string) {
    this.#store = store;
    this.#cluster = cluster;
  }

  /** Read once per decision: aggregation walks them for every aggregated role it meets. */
  #roles: readonly Readonly<KubeObject>[] | undefined;

  #clusterRoles(): readonly Readonly<KubeObject>[] {
    if (this.#roles !== undefined) return this.#roles;
    const stored = this.#store.peekAll(this.#cluster, gr('clusterroles'));
    const names = new Set(stored.map((o) => o.metadata.name));
    return (this.#roles = [...stored, ...bootstrapClusterRoles.filter((o) => !names.has(o.metadata.name))]);
  }

  #clusterRoleRules(name: string, seen: Set<string> = new Set()): PolicyRule[] {
    if (seen.has(name)) return [];
    seen.add(name);
    const roles = this.#clusterRoles();
    const role = roles.find((o) => o.metadata.name === name);
    if (role === undefined) return [];
    const own = (role['rules'] as PolicyRule[] | undefined) ?? [];
    const selectors = (role['aggregationRule'] as { clusterRoleSelectors?: Array<{ matchLabels?: Record<string, string> }> } | undefined)?.clusterRoleSelectors;
    if (selectors === undefined) return own;
    // As the aggregation controller does, an aggregated role's rules are those of the roles it selects.
    const selected = roles.filter(
      (o) =>
        o.metadata.name !== name &&
        selectors.some((s) => Object.entries(s.matchLabels ?? {}).every(([k, v]) => o.metadata.labels?.[k] === v) && Object.keys(s.matchLabels ?? {}).length > 0),
    );
    return [...own, ...selected.flatMap((o) => this.#clusterRoleRules(o.metadata.name ?? '', seen))];
  }

  #roleRules(ref: RoleRef, namespace: string): PolicyRule[] {
    if (ref.kind === 'ClusterRole') return this.#clusterRoleRules(ref.name);
    const role = this.#store.get(this.#cluster, gr('roles'), namespace, ref.name);
    return (role?.['rules'] as PolicyRule[] | undefined) ?? [];
  }

  /** Every rule granted to the caller cluster-wide, and in `namespace` when given. */
  #clusterBindings: readonly Readonly<KubeObject>[] | undefined;

  rulesFor(identity: Identity, namespace: string): PolicyRule[] {
    // The workspace gate and the request itself are decided over the same ClusterRoleBindings.
    this.#clusterBindings ??= [...this.#store.peekAll(this.#cluster, gr('clusterrolebindings')), ...bootstrapClusterRoleBindings];
    const bindings = this.#clusterBindings.map((b) => ({ b, ns: '' }));
    if (namespace !== '') bindings.push(...this.#store.peekAll(this.#cluster, gr('rolebindings'), namespace).map((b) => ({ b, ns: namespace })));
    const rules: PolicyRule[] = [];
    for (const { b, ns } of bindings) {
      const subjects = (b['subjects'] as Subject[] | undefined) ?? [];
      if (!subjects.some((s) => subjectMatches(s, identity, ns))) continue;
      rules.push(...this.#roleRules(b['roleRef'] as RoleRef, ns));
    }
    return rules;
  }

  allows(identity: Identity, attrs: Attributes): boolean {
    const namespace = attrs.kind === 'resource' ? attrs.namespace : '';
    return this.rulesFor(identity, namespace).some((rule) => ruleAllows(rule, attrs));
  }
}
