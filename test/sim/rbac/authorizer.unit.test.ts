// kube's RBAC rule matching and binding resolution over one logical cluster's objects, table-driven.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterPolicy, ruleAllows, type Attributes } from '../../../src/sim/rbac/authorizer.ts';
import { decide } from '../../../src/sim/rbac/authorize.ts';
import type { PolicyRule } from '../../../src/sim/rbac/bootstrap-policy.ts';
import { ObjectStore } from '../../../src/sim/store.ts';
import type { Identity, KubeObject } from '../../../src/sim/types.ts';

const res = (verb: string, resource: string, extra: Partial<Extract<Attributes, { kind: 'resource' }>> = {}): Attributes => ({
  kind: 'resource',
  verb,
  apiGroup: '',
  resource,
  subresource: '',
  namespace: 'default',
  name: '',
  ...extra,
});

test('a rule matches verb, group, resource, subresource, name and non-resource paths as kube reads them', () => {
  const cases: { rule: PolicyRule; attrs: Attributes; want: boolean }[] = [
    { rule: { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, attrs: res('get', 'pods'), want: true },
    { rule: { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, attrs: res('list', 'pods'), want: false },
    { rule: { verbs: ['get'], apiGroups: ['apps'], resources: ['pods'] }, attrs: res('get', 'pods'), want: false },
    { rule: { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, attrs: res('delete', 'secrets', { apiGroup: 'x.io' }), want: true },
    { rule: { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, attrs: res('get', 'pods', { subresource: 'log' }), want: false },
    { rule: { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, attrs: res('get', 'pods', { subresource: 'log' }), want: true },
    { rule: { verbs: ['get'], apiGroups: [''], resources: ['*/status'] }, attrs: res('get', 'services', { subresource: 'status' }), want: true },
    { rule: { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, attrs: res('get', 'configmaps', { name: 'a' }), want: true },
    { rule: { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, attrs: res('get', 'configmaps', { name: 'b' }), want: false },
    { rule: { verbs: ['list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, attrs: res('list', 'configmaps'), want: false },
    { rule: { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, attrs: { kind: 'nonResource', verb: 'get', path: '/apis/apps' }, want: true },
    { rule: { verbs: ['get'], nonResourceURLs: ['/api'] }, attrs: { kind: 'nonResource', verb: 'get', path: '/apis' }, want: false },
    { rule: { verbs: ['access'], nonResourceURLs: ['/'] }, attrs: { kind: 'nonResource', verb: 'access', path: '/' }, want: true },
    { rule: { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, attrs: { kind: 'nonResource', verb: 'get', path: '/' }, want: false },
  ];
  for (const c of cases) assert.equal(ruleAllows(c.rule, c.attrs), c.want, `${JSON.stringify(c.rule)} ${JSON.stringify(c.attrs)}`);
});

const rbac = (kind: string, name: string, body: Record<string, unknown>, namespace?: string): KubeObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: { name, ...(namespace !== undefined ? { namespace } : {}), labels: (body['labels'] as Record<string, string> | undefined) ?? {} },
  ...body,
});
const ref = (kind: string, name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind, name });
const user = (name: string, groups: string[] = []): Identity => ({ user: name, groups: [...groups, 'system:authenticated'], extra: {} });

function storeWith(objects: Array<[string, KubeObject]>): ObjectStore {
  const store = new ObjectStore(100);
  for (const [resource, object] of objects) store.put('c1', `${resource}.rbac.authorization.k8s.io`, object);
  return store;
}

test('bindings: cluster-wide, per namespace, by group and service account; aggregation by label; the workspace gate', () => {
  const store = storeWith([
    ['clusterroles', rbac('ClusterRole', 'enter', { rules: [{ verbs: ['access'], nonResourceURLs: ['/'] }] })],
    [
      'clusterrolebindings',
      rbac('ClusterRoleBinding', 'enter', {
        roleRef: ref('ClusterRole', 'enter'),
        subjects: [
          { kind: 'Group', name: 'team' },
          { kind: 'User', name: 'solo' },
        ],
      }),
    ],
    ['roles', rbac('Role', 'cm-writer', { rules: [{ verbs: ['create'], apiGroups: [''], resources: ['configmaps'] }] }, 'ns1')],
    ['rolebindings', rbac('RoleBinding', 'w', { roleRef: ref('Role', 'cm-writer'), subjects: [{ kind: 'User', name: 'ann' }] }, 'ns1')],
    ['rolebindings', rbac('RoleBinding', 'v', { roleRef: ref('ClusterRole', 'view'), subjects: [{ kind: 'ServiceAccount', name: 'robot' }] }, 'ns1')],
    [
      'clusterroles',
      rbac('ClusterRole', 'widgets', {
        labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' },
        rules: [{ verbs: ['create'], apiGroups: ['w.io'], resources: ['widgets'] }],
      }),
    ],
    ['clusterrolebindings', rbac('ClusterRoleBinding', 'editors', { roleRef: ref('ClusterRole', 'admin'), subjects: [{ kind: 'Group', name: 'team' }] })],
  ]);
  const ann = user('ann', ['team']);
  const robot: Identity = { user: 'system:serviceaccount:ns1:robot', groups: ['system:authenticated'], extra: { 'authentication.kcp.io/cluster-name': ['c1'] } };
  const cases: { who: Identity; attrs: Attributes; want: boolean | 'workspace' }[] = [
    { who: ann, attrs: res('create', 'configmaps', { namespace: 'ns1' }), want: true },
    { who: ann, attrs: res('create', 'roles', { apiGroup: 'rbac.authorization.k8s.io', namespace: 'ns2' }), want: true },
    { who: user('solo'), attrs: res('create', 'configmaps', { namespace: 'ns1' }), want: false },
    { who: user('solo'), attrs: { kind: 'nonResource', verb: 'get', path: '/api' }, want: true },
    { who: user('stranger'), attrs: { kind: 'nonResource', verb: 'get', path: '/api' }, want: 'workspace' },
    { who: user('stranger', ['system:masters']), attrs: res('delete', 'secrets'), want: true },
    { who: robot, attrs: res('list', 'configmaps', { namespace: 'ns1' }), want: true },
    { who: robot, attrs: res('list', 'configmaps', { namespace: 'ns2' }), want: false },
    { who: robot, attrs: res('get', 'secrets', { namespace: 'ns1' }), want: false },
    { who: { ...robot, extra: { 'authentication.kcp.io/cluster-name': ['other'] } }, attrs: res('list', 'configmaps', { namespace: 'ns1' }), want: 'workspace' },
    // admin ⊇ edit ⊇ a ClusterRole labelled aggregate-to-edit
    { who: ann, attrs: res('create', 'widgets', { apiGroup: 'w.io', namespace: 'ns9' }), want: true },
    { who: ann, attrs: res('create', 'selfsubjectaccessreviews', { apiGroup: 'authorization.k8s.io', namespace: '' }), want: true },
  ];
  for (const c of cases) {
    const d = decide(store, 'c1', c.who, c.attrs);
    const got = d.allowed ? true : d.workspace ? 'workspace' : false;
    assert.equal(got, c.want, `${c.who.user} ${JSON.stringify(c.attrs)}`);
  }
  const rules = new ClusterPolicy(store, 'c1').rulesFor(robot, 'ns1');
  assert.ok(
    rules.some((r) => r.resources?.includes('configmaps') && r.verbs.includes('watch')),
    'view reaches the service account through its RoleBinding',
  );
});
