// The kinds every logical cluster (or the plain cluster) serves without any binding: what kubectl, the
// sync worker and the gateway's tests touch. RBAC is enforced when the shard runs with RBAC authorization.
import type { KubeObject, PrinterColumn, ResourceType } from './types.ts';

const crud = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function dataCount(object: KubeObject): number {
  const data = object['data'] as Record<string, unknown> | undefined;
  const binary = object['binaryData'] as Record<string, unknown> | undefined;
  return Object.keys(data ?? {}).length + Object.keys(binary ?? {}).length;
}

function podReady(object: KubeObject): string {
  const spec = object['spec'] as { containers?: unknown[] } | undefined;
  const status = object['status'] as { containerStatuses?: Array<{ ready?: boolean }> } | undefined;
  const total = spec?.containers?.length ?? 0;
  const ready = (status?.containerStatuses ?? []).filter((c) => c.ready === true).length;
  return `${ready}/${total}`;
}

const statusPhase: PrinterColumn = { name: 'Status', type: 'string', value: '.status.phase' };

function core(resource: string, kind: string, namespaced: boolean, extra: Partial<ResourceType> = {}): ResourceType {
  return { group: '', version: 'v1', resource, kind, singular: kind.toLowerCase(), namespaced, verbs: crud, ...extra };
}

function rbac(resource: string, kind: string, namespaced: boolean): ResourceType {
  return { group: 'rbac.authorization.k8s.io', version: 'v1', resource, kind, singular: kind.toLowerCase(), namespaced, verbs: crud };
}

export const kubernetesResources: ResourceType[] = [
  core('namespaces', 'Namespace', false, {
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    shortNames: ['ns'],
    subresources: ['status', 'finalize'],
    columns: [statusPhase],
  }),
  core('configmaps', 'ConfigMap', true, { shortNames: ['cm'], columns: [{ name: 'Data', type: 'integer', value: dataCount }] }),
  core('secrets', 'Secret', true, {
    columns: [
      { name: 'Type', type: 'string', value: '.type' },
      { name: 'Data', type: 'integer', value: dataCount },
    ],
  }),
  core('serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'], subresources: ['token'] }),
  core('events', 'Event', true, { shortNames: ['ev'] }),
  core('services', 'Service', true, { shortNames: ['svc'], categories: ['all'], subresources: ['status'] }),
  core('pods', 'Pod', true, {
    shortNames: ['po'],
    categories: ['all'],
    subresources: ['status', 'exec', 'attach', 'portforward', 'log'],
    columns: [{ name: 'Ready', type: 'string', value: podReady }, statusPhase, { name: 'Restarts', type: 'string', value: () => '0' }],
  }),
  rbac('roles', 'Role', true),
  rbac('rolebindings', 'RoleBinding', true),
  rbac('clusterroles', 'ClusterRole', false),
  rbac('clusterrolebindings', 'ClusterRoleBinding', false),
  {
    group: 'authentication.k8s.io',
    version: 'v1',
    resource: 'selfsubjectreviews',
    kind: 'SelfSubjectReview',
    singular: 'selfsubjectreview',
    namespaced: false,
    verbs: ['create'],
    ephemeral: true,
  },
  {
    group: 'authorization.k8s.io',
    version: 'v1',
    resource: 'selfsubjectaccessreviews',
    kind: 'SelfSubjectAccessReview',
    singular: 'selfsubjectaccessreview',
    namespaced: false,
    verbs: ['create'],
    ephemeral: true,
  },
  {
    group: 'authorization.k8s.io',
    version: 'v1',
    resource: 'selfsubjectrulesreviews',
    kind: 'SelfSubjectRulesReview',
    singular: 'selfsubjectrulesreview',
    namespaced: false,
    verbs: ['create'],
    ephemeral: true,
  },
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
    singular: 'customresourcedefinition',
    namespaced: false,
    verbs: crud,
    shortNames: ['crd', 'crds'],
    subresources: ['status'],
  },
];

function kcp(group: string, resource: string, kind: string, extra: Partial<ResourceType> = {}): ResourceType {
  return { group, version: 'v1alpha1', resource, kind, singular: kind.toLowerCase(), namespaced: false, verbs: crud, ...extra };
}

export const kcpResources: ResourceType[] = [
  kcp('tenancy.kcp.io', 'workspaces', 'Workspace', {
    shortNames: ['ws'],
    subresources: ['status'],
    columns: [
      { name: 'Type', type: 'string', value: (o) => (o['spec'] as { type?: { name?: string } } | undefined)?.type?.name ?? 'universal' },
      { name: 'Region', type: 'string', value: (o) => o.metadata.labels?.['region'] ?? '' },
      { name: 'Phase', type: 'string', value: '.status.phase' },
      { name: 'URL', type: 'string', value: '.spec.URL' },
    ],
  }),
  kcp('core.kcp.io', 'logicalclusters', 'LogicalCluster', {
    subresources: ['status'],
    columns: [
      { name: 'Phase', type: 'string', value: '.status.phase' },
      { name: 'URL', type: 'string', value: '.status.URL' },
    ],
  }),
  kcp('core.kcp.io', 'shards', 'Shard', {
    columns: [
      { name: 'Region', type: 'string', value: (o) => o.metadata.labels?.['region'] ?? '' },
      { name: 'URL', type: 'string', value: '.spec.baseURL' },
      { name: 'External URL', type: 'string', value: '.spec.externalURL' },
    ],
  }),
  kcp('apis.kcp.io', 'apiresourceschemas', 'APIResourceSchema'),
  kcp('apis.kcp.io', 'apiexports', 'APIExport', { subresources: ['status'] }),
  kcp('apis.kcp.io', 'apibindings', 'APIBinding', { subresources: ['status'] }),
  kcp('apis.kcp.io', 'apiexportendpointslices', 'APIExportEndpointSlice', { subresources: ['status'] }),
];
