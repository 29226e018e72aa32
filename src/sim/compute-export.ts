// The example service the dev stack and the sync tests publish: `compute.cloud.example.com`, one kind
// (VirtualMachine), exported from a provider workspace, bound in consumer workspaces, and installed as a
// CRD on the service cluster where the stand-in composition controller reconciles the copies.
import type { ApiClient } from './client.ts';

export const computeGroup = 'compute.cloud.example.com';
export const computeVersion = 'v1alpha1';
export const computeExportName = computeGroup;

const names = { plural: 'virtualmachines', singular: 'virtualmachine', kind: 'VirtualMachine', listKind: 'VirtualMachineList', shortNames: ['vm'] };
const columns = [
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: 'CPU', type: 'integer', jsonPath: '.spec.cpu' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];
const version = {
  name: computeVersion,
  served: true,
  storage: true,
  subresources: { status: {} },
  additionalPrinterColumns: columns,
  schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
};

async function ok(res: Promise<{ status: number; text: string }>, what: string): Promise<void> {
  const r = await res;
  if (r.status >= 300 && r.status !== 409) throw new Error(`${what}: ${r.status} ${r.text}`);
}

/** APIResourceSchema + APIExport + APIExportEndpointSlice in the provider workspace. */
export async function publishComputeExport(client: ApiClient, providerCluster: string, providerPath: string): Promise<void> {
  const base = `/clusters/${providerCluster}/apis/apis.kcp.io/v1alpha1`;
  const schemaName = `v1.${names.plural}.${computeGroup}`;
  await ok(
    client.request('POST', `${base}/apiresourceschemas`, {
      body: {
        apiVersion: 'apis.kcp.io/v1alpha1',
        kind: 'APIResourceSchema',
        metadata: { name: schemaName },
        spec: { group: computeGroup, names, scope: 'Namespaced', versions: [version] },
      },
    }),
    'APIResourceSchema',
  );
  await ok(
    client.request('POST', `${base}/apiexports`, {
      body: {
        apiVersion: 'apis.kcp.io/v1alpha1',
        kind: 'APIExport',
        metadata: { name: computeExportName },
        spec: {
          latestResourceSchemas: [schemaName],
          // The sync worker reads and writes these in consumer workspaces (connection Secrets and
          // ConfigMaps the provider writes come back).
          permissionClaims: [
            { group: '', resource: 'secrets', all: true },
            { group: '', resource: 'configmaps', all: true },
            { group: '', resource: 'namespaces', all: true },
            // Events on consumer objects: what the worker did with each one.
            { group: '', resource: 'events', all: true },
            // The workspace path (`kcp.io/path` on the LogicalCluster) names the namespace of its copies.
            { group: 'core.kcp.io', resource: 'logicalclusters', all: true },
          ],
        },
      },
    }),
    'APIExport',
  );
  await ok(
    client.request('POST', `${base}/apiexportendpointslices`, {
      body: {
        apiVersion: 'apis.kcp.io/v1alpha1',
        kind: 'APIExportEndpointSlice',
        metadata: { name: computeExportName },
        spec: { export: { path: providerPath, name: computeExportName } },
      },
    }),
    'APIExportEndpointSlice',
  );
}

/** An APIBinding to the compute export in a consumer workspace, accepting its permission claims. */
export async function bindCompute(client: ApiClient, cluster: string, providerPath: string): Promise<void> {
  await ok(
    client.request('POST', `/clusters/${cluster}/apis/apis.kcp.io/v1alpha1/apibindings`, {
      body: {
        apiVersion: 'apis.kcp.io/v1alpha1',
        kind: 'APIBinding',
        metadata: { name: 'compute' },
        spec: {
          reference: { export: { path: providerPath, name: computeExportName } },
          permissionClaims: [
            { group: '', resource: 'secrets', all: true, state: 'Accepted' },
            { group: '', resource: 'configmaps', all: true, state: 'Accepted' },
            { group: '', resource: 'namespaces', all: true, state: 'Accepted' },
            { group: '', resource: 'events', all: true, state: 'Accepted' },
            { group: 'core.kcp.io', resource: 'logicalclusters', all: true, state: 'Accepted' },
          ],
        },
      },
    }),
    'APIBinding',
  );
}

/** The VirtualMachine CRD on the (plain Kubernetes) service cluster. */
export async function installComputeCRD(client: ApiClient): Promise<void> {
  await ok(
    client.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      body: {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `${names.plural}.${computeGroup}` },
        spec: { group: computeGroup, names, scope: 'Namespaced', versions: [version] },
      },
    }),
    'CustomResourceDefinition',
  );
}
