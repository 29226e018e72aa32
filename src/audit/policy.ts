// The audit policy: kube-apiserver's own `audit.k8s.io/v1` Policy format, with its semantics (rules in
// order, the first that matches decides the level, no match = None; omitStages of the policy and of the
// rule add up; a rule naming resources or namespaces matches resource requests only, one naming
// nonResourceURLs non-resource requests only). Ours on top: `orgs` and `workspaces` in a rule.
import { defineConfig, loadConfig, type BuildContext, type Config, type DeepReadonly } from '../config/index.ts';

export type AuditLevel = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
export type AuditStage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';

interface GroupResources {
  group?: string;
  resources?: string[];
  resourceNames?: string[];
}

interface RawRule {
  level: AuditLevel;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: GroupResources[];
  namespaces?: string[];
  nonResourceURLs?: string[];
  omitStages?: AuditStage[];
  omitManagedFields?: boolean;
  /** kcp-edge: the organisation (first segment after root) the workspace belongs to. */
  orgs?: string[];
  /** kcp-edge: canonical workspace paths; a trailing `*` matches a prefix (root:org-acme:*). */
  workspaces?: string[];
}

interface RawPolicy {
  apiVersion: 'audit.k8s.io/v1';
  kind: 'Policy';
  metadata?: Record<string, unknown>;
  omitStages?: AuditStage[];
  omitManagedFields?: boolean;
  rules: RawRule[];
}

/** What the policy looks at of a request. */
export interface AuditSubject {
  user: string;
  groups: readonly string[];
  verb: string;
  isResourceRequest: boolean;
  apiGroup: string;
  resource: string;
  subresource: string;
  name: string;
  namespace: string;
  /** Path for non-resource requests. */
  path: string;
  org: string;
  workspace: string;
}

export interface AuditDecision {
  level: AuditLevel;
  omitStages: ReadonlySet<AuditStage>;
  /** Drop metadata.managedFields from the recorded objects: the rule's setting, else the policy's. */
  omitManagedFields: boolean;
}

export interface AuditPolicy {
  decide(subject: AuditSubject): AuditDecision;
}

const stages = { type: 'array', items: { enum: ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] } };
const names = { type: 'array', items: { type: 'string' } };

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'rules'],
  properties: {
    apiVersion: { const: 'audit.k8s.io/v1', errorMessage: 'must be audit.k8s.io/v1' },
    kind: { const: 'Policy', errorMessage: 'must be Policy' },
    metadata: { type: 'object' },
    omitStages: stages,
    omitManagedFields: { type: 'boolean' },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['level'],
        properties: {
          level: { enum: ['None', 'Metadata', 'Request', 'RequestResponse'] },
          users: names,
          userGroups: names,
          verbs: names,
          resources: {
            type: 'array',
            items: { type: 'object', additionalProperties: false, properties: { group: { type: 'string' }, resources: names, resourceNames: names } },
          },
          namespaces: names,
          nonResourceURLs: names,
          omitStages: stages,
          omitManagedFields: { type: 'boolean' },
          orgs: names,
          workspaces: names,
        },
      },
    },
  },
};

function build(raw: DeepReadonly<RawPolicy>, ctx: BuildContext): AuditPolicy {
  raw.rules.forEach((rule, i) => {
    if (rule.nonResourceURLs !== undefined && (rule.resources !== undefined || rule.namespaces !== undefined)) {
      ctx.issue(['rules', i], 'a rule names nonResourceURLs or resources/namespaces, not both (as in kube-apiserver)');
    }
  });
  return compilePolicy(raw);
}

export const auditPolicyKind = defineConfig<RawPolicy, AuditPolicy>({ what: 'audit policy', schema, build });

export async function loadAuditPolicy(file: string): Promise<Config<AuditPolicy>> {
  return loadConfig(auditPolicyKind, file);
}

const anyOf = (list: readonly string[] | undefined, value: string): boolean => list === undefined || list.length === 0 || list.includes(value) || list.includes('*');

/** kube's resource matching: "*", "pods", "pods/log", "pods/*" and "*" + "/status". */
function resourceMatches(rules: readonly DeepReadonly<GroupResources>[] | undefined, s: AuditSubject): boolean {
  if (rules === undefined || rules.length === 0) return true;
  const full = s.subresource === '' ? s.resource : `${s.resource}/${s.subresource}`;
  return rules.some((gr) => {
    if ((gr.group ?? '') !== s.apiGroup && gr.group !== '*') return false;
    const resources = gr.resources ?? [];
    const resourceOk =
      resources.length === 0 ||
      resources.some((r) => r === '*' || r === full || (r === `${s.resource}/*` && s.subresource !== '') || (r === `*/${s.subresource}` && s.subresource !== ''));
    if (!resourceOk) return false;
    const named = gr.resourceNames ?? [];
    return named.length === 0 || (s.name !== '' && named.includes(s.name));
  });
}

function urlMatches(patterns: readonly string[], path: string): boolean {
  return patterns.some((p) => p === '*' || p === path || (p.endsWith('*') && path.startsWith(p.slice(0, -1))));
}

function workspaceMatches(patterns: readonly string[] | undefined, workspace: string): boolean {
  if (patterns === undefined || patterns.length === 0) return true;
  return patterns.some((p) => p === workspace || (p.endsWith('*') && workspace.startsWith(p.slice(0, -1))));
}

function ruleMatches(rule: DeepReadonly<RawRule>, s: AuditSubject): boolean {
  if (!anyOf(rule.users, s.user)) return false;
  if (rule.userGroups !== undefined && rule.userGroups.length > 0 && !s.groups.some((g) => rule.userGroups!.includes(g))) return false;
  if (!anyOf(rule.verbs, s.verb)) return false;
  if (!anyOf(rule.orgs, s.org)) return false;
  if (!workspaceMatches(rule.workspaces, s.workspace)) return false;
  const resourceRule = rule.resources !== undefined || rule.namespaces !== undefined;
  if (rule.nonResourceURLs !== undefined) return !s.isResourceRequest && urlMatches(rule.nonResourceURLs, s.path);
  if (resourceRule) {
    if (!s.isResourceRequest) return false;
    // "" in namespaces matches cluster-scoped requests, as in kube.
    if (rule.namespaces !== undefined && rule.namespaces.length > 0 && !rule.namespaces.includes(s.namespace)) return false;
    return resourceMatches(rule.resources, s);
  }
  return true;
}

export function compilePolicy(raw: DeepReadonly<RawPolicy>): AuditPolicy {
  const global = raw.omitStages ?? [];
  const rules = raw.rules.map((rule) => ({
    rule,
    decision: {
      level: rule.level,
      omitStages: new Set<AuditStage>([...global, ...(rule.omitStages ?? [])]),
      omitManagedFields: rule.omitManagedFields ?? raw.omitManagedFields ?? false,
    },
  }));
  const none: AuditDecision = { level: 'None', omitStages: new Set(), omitManagedFields: false };
  return {
    decide(subject) {
      for (const { rule, decision } of rules) if (ruleMatches(rule, subject)) return decision;
      return none;
    },
  };
}
