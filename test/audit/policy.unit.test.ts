// The audit policy, with kube-apiserver's semantics: first matching rule wins, no match = None,
// omitStages of the policy and the rule add up, resource rules never match non-resource requests and the
// other way round; plus our org and workspace matchers. And the policy kcp-edge ships.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { auditPolicyKind, type AuditSubject } from '../../src/audit/policy.ts';
import { formatIssue, isConfigError, parseConfig } from '../../src/config/index.ts';
import { requestAttributes } from '../../src/kube/request-attributes.ts';

function subject(method: string, path: string, { user = 'alice', groups = ['dev'], workspace = 'root:org-acme:proj' } = {}): AuditSubject {
  const [p, q = ''] = path.split('?');
  const attrs = requestAttributes(method, p!, new URLSearchParams(q));
  return { ...attrs, user, groups, workspace, org: workspace.split(':')[1] ?? '' };
}

const policyText = `
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    users: [system:probe]
  - level: None
    nonResourceURLs: [/livez, /apis/*]
  - level: RequestResponse
    orgs: [org-globex]
    resources: [{ group: "", resources: [pods/log] }]
  - level: Request
    workspaces: ["root:org-acme:secret-*"]
    omitStages: [ResponseStarted]
  - level: Metadata
    userGroups: [auditors]
    namespaces: [""]
  - level: Request
    verbs: [create, delete]
    resources: [{ group: apps, resources: ["*/status", deployments] }]
  - level: Metadata
    resources: [{ group: "", resources: [secrets], resourceNames: [keep] }]
`;

test('rules apply in order, the first match decides, no match is None', async () => {
  const policy = (await parseConfig(auditPolicyKind, policyText, 'policy.yaml')) as unknown as { decide(s: AuditSubject): { level: string; omitStages: Set<string> } };
  const cases: [string, AuditSubject, string, string[]][] = [
    ['user rule first', subject('GET', '/livez', { user: 'system:probe' }), 'None', []],
    ['non-resource URL wildcard', subject('GET', '/apis/apps'), 'None', []],
    ['org + subresource', subject('GET', '/api/v1/namespaces/a/pods/p/log', { workspace: 'root:org-globex:apps' }), 'RequestResponse', ['RequestReceived']],
    ['same request, other org', subject('GET', '/api/v1/namespaces/a/pods/p/log'), 'None', []],
    ['workspace prefix, stages add up', subject('GET', '/api/v1/namespaces', { workspace: 'root:org-acme:secret-x' }), 'Request', ['RequestReceived', 'ResponseStarted']],
    ['"" namespace = cluster-scoped only', subject('GET', '/api/v1/namespaces', { groups: ['auditors'] }), 'Metadata', ['RequestReceived']],
    ['namespaced request of that group', subject('GET', '/api/v1/namespaces/a/configmaps', { groups: ['auditors'] }), 'None', []],
    ['*/status', subject('PUT', '/apis/apps/v1/namespaces/a/deployments/d/status'), 'None', []],
    ['verb + group', subject('POST', '/apis/apps/v1/namespaces/a/deployments'), 'Request', ['RequestReceived']],
    ['verb not listed', subject('PATCH', '/apis/apps/v1/namespaces/a/deployments/d'), 'None', []],
    ['resourceNames', subject('GET', '/api/v1/namespaces/a/secrets/keep'), 'Metadata', ['RequestReceived']],
    ['resourceNames: a list names none', subject('GET', '/api/v1/namespaces/a/secrets'), 'None', []],
    ['resource rule never matches non-resource', subject('GET', '/version', { groups: ['auditors'] }), 'None', []],
  ];
  for (const [what, s, level, omitted] of cases) {
    const decision = policy.decide(s);
    // A None rule's stages do not matter: nothing is logged.
    assert.deepEqual([decision.level, level === 'None' ? [] : [...decision.omitStages].sort()], [level, omitted.sort()], what);
  }
});

test("omitManagedFields: a rule's own setting wins over the policy's, as in kube", async () => {
  const text = [
    'apiVersion: audit.k8s.io/v1',
    'kind: Policy',
    'omitManagedFields: true',
    'rules:',
    '  - { level: RequestResponse, users: [keeps], omitManagedFields: false }',
    '  - { level: Request, users: [inherits] }',
    '',
  ].join('\n');
  const policy = await parseConfig(auditPolicyKind, text, 'policy.yaml');
  assert.equal(policy.decide(subject('POST', '/api/v1/namespaces', { user: 'keeps' })).omitManagedFields, false);
  assert.equal(policy.decide(subject('POST', '/api/v1/namespaces', { user: 'inherits' })).omitManagedFields, true);
  const unset = await parseConfig(auditPolicyKind, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{ level: Request }]\n', 'policy.yaml');
  assert.equal(unset.decide(subject('POST', '/api/v1/namespaces')).omitManagedFields, false);
});

test("a policy that is not kube's format is refused with every problem", async () => {
  const bad = 'apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules:\n  - level: Everything\n  - level: None\n    nonResourceURLs: [/x]\n    resources: [{ resources: [pods] }]\n';
  const err = await parseConfig(auditPolicyKind, bad, 'bad.yaml').then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isConfigError(err));
  const text = err.issues.map(formatIssue).join('\n');
  assert.match(text, /apiVersion: must be audit.k8s.io\/v1/);
  assert.match(text, /rules\[0\]\.level: must be one of/);
  const mixed = 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: None\n    nonResourceURLs: [/x]\n    resources: [{ resources: [pods] }]\n';
  const mixedErr = await parseConfig(auditPolicyKind, mixed, 'mixed.yaml').then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isConfigError(mixedErr));
  assert.match(mixedErr.issues.map(formatIssue).join('\n'), /rules\[0\]: a rule names nonResourceURLs or resources\/namespaces, not both/);
});

test('the shipped policy: Secrets, ConfigMaps and TokenReviews at Metadata, probes and discovery not at all, other changes at Request', async () => {
  const file = join(import.meta.dirname, '../../config/audit-policy.yaml');
  const policy = (await parseConfig(auditPolicyKind, await readFile(file, 'utf8'), file)) as unknown as { decide(s: AuditSubject): { level: string } };
  const level = (method: string, path: string) => policy.decide(subject(method, path)).level;
  assert.equal(level('POST', '/api/v1/namespaces/default/configmaps'), 'Metadata');
  assert.equal(level('GET', '/api/v1/namespaces/default/secrets/db'), 'Metadata');
  assert.equal(level('POST', '/apis/authentication.k8s.io/v1/tokenreviews'), 'Metadata');
  assert.equal(level('GET', '/livez'), 'None');
  assert.equal(level('GET', '/apis'), 'None');
  assert.equal(level('POST', '/api/v1/namespaces/default/events'), 'None');
  assert.equal(level('DELETE', '/apis/apps/v1/namespaces/default/deployments/web'), 'Request');
  assert.equal(level('PATCH', '/api/v1/namespaces/default/secrets/db'), 'Metadata');
  assert.equal(level('GET', '/apis/apps/v1/namespaces/default/deployments'), 'Metadata');
});
