// The roles every logical cluster has without storing them, as kube-apiserver's bootstrap policy (and kcp's,
// served from the root workspace to all others) provides: cluster-admin, the aggregated admin/edit/view,
// and what every authenticated caller may do (discovery, the self reviews).
import type { KubeObject } from '../types.ts';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

const aggregateTo = (role: string) => `rbac.authorization.k8s.io/aggregate-to-${role}`;
const read = ['get', 'list', 'watch'];
const write = ['create', 'delete', 'deletecollection', 'patch', 'update'];

function clusterRole(name: string, rules: PolicyRule[], labels: Record<string, string> = {}, aggregateFrom?: string): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults', ...labels } },
    ...(aggregateFrom !== undefined ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [aggregateFrom]: 'true' } }] } } : {}),
    rules,
  };
}

function clusterRoleBinding(name: string, role: string, subjects: Subject[]): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects,
  };
}

const core = (resources: string[], verbs: string[]): PolicyRule => ({ apiGroups: [''], resources, verbs });
const viewable = [
  'configmaps',
  'endpoints',
  'events',
  'namespaces',
  'persistentvolumeclaims',
  'pods',
  'pods/log',
  'pods/status',
  'services',
  'services/status',
  'serviceaccounts',
  'replicationcontrollers',
  'limitranges',
  'resourcequotas',
];

export const bootstrapClusterRoles: readonly KubeObject[] = [
  clusterRole('cluster-admin', [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
  ]),
  // admin ⊇ edit ⊇ view, each filled by aggregation from the roles labelled for it, as kube's
  // clusterrole-aggregation controller does; a ClusterRole labelled by a tenant joins them too.
  clusterRole('admin', [], {}, aggregateTo('admin')),
  clusterRole('edit', [], { [aggregateTo('admin')]: 'true' }, aggregateTo('edit')),
  clusterRole('view', [], { [aggregateTo('edit')]: 'true' }, aggregateTo('view')),
  clusterRole(
    'system:aggregate-to-admin',
    [
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: [...read, ...write] },
      { apiGroups: ['authorization.k8s.io'], resources: ['localsubjectaccessreviews'], verbs: ['create'] },
    ],
    { [aggregateTo('admin')]: 'true' },
  ),
  clusterRole(
    'system:aggregate-to-edit',
    [
      core(
        [
          'pods',
          'pods/attach',
          'pods/exec',
          'pods/portforward',
          'pods/proxy',
          'configmaps',
          'secrets',
          'services',
          'serviceaccounts',
          'events',
          'persistentvolumeclaims',
          'replicationcontrollers',
        ],
        write,
      ),
      core(['secrets', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], read),
      core(['serviceaccounts'], ['impersonate']),
      { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'], verbs: write },
    ],
    { [aggregateTo('edit')]: 'true' },
  ),
  clusterRole('system:aggregate-to-view', [core(viewable, read), { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'], verbs: read }], {
    [aggregateTo('view')]: 'true',
  }),
  clusterRole('system:discovery', [
    { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*', '/version', '/version/', '/healthz', '/livez', '/readyz'], verbs: ['get'] },
  ]),
  clusterRole('system:basic-user', [
    { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
    { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
  ]),
];

const authenticated: Subject[] = [{ kind: 'Group', name: 'system:authenticated' }];

export const bootstrapClusterRoleBindings: readonly KubeObject[] = [
  clusterRoleBinding('system:discovery', 'system:discovery', authenticated),
  clusterRoleBinding('system:basic-user', 'system:basic-user', authenticated),
  clusterRoleBinding('cluster-admin', 'cluster-admin', [{ kind: 'Group', name: 'system:masters' }]),
];
