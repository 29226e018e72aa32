// The sync loop of the local stack: a stand-in service cluster (plain Kubernetes) with the VirtualMachine
// CRD and a stand-in composition controller, a provider workspace `root:compute` exporting
// `compute.cloud.example.com`, a binding in every project workspace, and the provider's own service
// account for the sync worker, which `syncWorker` starts once the gateway serves: like an agent outside
// the cluster, it knows only the gateway's address and that account's token. `kubectl apply` a
// VirtualMachine in a project → it shows Ready.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startShard, type ApiClient } from '../../sim/index.ts';
import { startComposition } from '../../sim/composition.ts';
import { bindCompute, computeExportName, computeGroup, computeVersion, installComputeCRD, publishComputeExport } from '../../sim/compute-export.ts';
import type { PublishedResource } from '../../sync/types.ts';
import type { DevStep } from '../stack.ts';
import { createWorkspace } from './workspaces.ts';

export const providerPath = 'root:compute';
/** The sync worker's service account in the provider workspace (namespace default). */
export const syncServiceAccount = 'kcp-edge-sync';

export const computeResource: PublishedResource = {
  group: computeGroup,
  version: computeVersion,
  resource: 'virtualmachines',
  kind: 'VirtualMachine',
  namespaceSuffix: 'vm',
  related: [{ kind: 'Secret', nameFrom: 'spec.writeConnectionSecretToRef.name' }],
};

async function ok(res: Promise<{ status: number; text: string }>, what: string): Promise<void> {
  const r = await res;
  if (r.status >= 300 && r.status !== 409) throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
}

/**
 * What kcp asks of an export's agent: read the endpoint slice in the provider workspace, and
 * `apiexports/content` (every verb) to work in the export's virtual workspace. Returns its token.
 */
async function provisionAgent(client: ApiClient, cluster: string): Promise<string> {
  const rbac = `/clusters/${cluster}/apis/rbac.authorization.k8s.io/v1`;
  await ok(
    client.request('POST', `/clusters/${cluster}/api/v1/namespaces/default/serviceaccounts`, {
      body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: syncServiceAccount } },
    }),
    'sync service account',
  );
  await ok(
    client.request('POST', `${rbac}/clusterroles`, {
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: syncServiceAccount },
        rules: [
          { apiGroups: ['apis.kcp.io'], resources: ['apiexportendpointslices', 'apiexports'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: ['apis.kcp.io'], resources: ['apiexports/content'], resourceNames: [computeExportName], verbs: ['*'] },
        ],
      },
    }),
    'sync cluster role',
  );
  await ok(
    client.request('POST', `${rbac}/clusterrolebindings`, {
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: syncServiceAccount },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: syncServiceAccount },
        subjects: [{ kind: 'ServiceAccount', name: syncServiceAccount, namespace: 'default' }],
      },
    }),
    'sync cluster role binding',
  );
  // A month: the dev stack lives for a session, and the worker has no way to renew it here.
  const minted = await client.request<{ status?: { token?: string } }>('POST', `/clusters/${cluster}/api/v1/namespaces/default/serviceaccounts/${syncServiceAccount}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 30 * 24 * 3600 } },
  });
  const token = minted.body.status?.token;
  if (minted.status !== 201 || token === undefined) throw new Error(`sync token: HTTP ${minted.status} ${minted.text.slice(0, 300)}`);
  return token;
}

export const sync: DevStep = {
  name: 'sync',
  async run(stack) {
    const ca = stack.need(stack.ca, 'the dev CA');
    const rootShard = stack.need(stack.shards.get('shard-a'), 'shard-a');

    const service = await startShard({ name: 'service-cluster', mode: 'kubernetes', ca });
    stack.onStop('service cluster', () => service.close());
    const serviceClient = await service.client();
    stack.onStop('service cluster client', async () => serviceClient.close());
    await installComputeCRD(serviceClient);
    await writeFile(join(stack.options.dir, 'service-cluster.kubeconfig'), await service.kubeconfig());

    const composition = startComposition({ client: serviceClient, group: computeGroup, version: computeVersion, resource: 'virtualmachines' });
    stack.onStop('composition controller', () => composition.stop());

    const provider = await createWorkspace(stack, { path: providerPath, shard: 'shard-a' });
    // Routed like every workspace: the provider's own agents (a service account of root:compute) reach
    // the export's virtual workspaces through the gateway.
    stack.workspaces.push(provider);
    const rootClient = await rootShard.client();
    stack.onStop('provider client', async () => rootClient.close());
    await publishComputeExport(rootClient, provider.cluster, providerPath);
    for (const ws of stack.workspaces.filter((w) => w.project)) {
      const client = await stack.need(stack.shards.get(ws.shard), `shard ${ws.shard}`).client();
      await bindCompute(client, ws.cluster, providerPath);
      client.close();
    }

    const admin = await service.issueClientCertificate('kcp-edge-sync', ['system:masters']);
    stack.syncAgent = {
      providerCluster: provider.cluster,
      token: await provisionAgent(rootClient, provider.cluster),
      service: { server: service.url, caPem: ca.certPem, certPem: admin.certPem, keyPem: admin.keyPem },
    };
  },
};
