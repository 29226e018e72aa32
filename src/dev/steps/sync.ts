// The sync loop of the local stack: a stand-in service cluster (plain Kubernetes) with the VirtualMachine
// CRD and a stand-in composition controller, a provider workspace `root:compute` exporting
// `compute.cloud.example.com`, a binding in every project workspace, and a sync worker following the
// export's endpoint slice. `kubectl apply` a VirtualMachine in a project → it shows Ready.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startShard } from '../../sim/index.ts';
import { startComposition } from '../../sim/composition.ts';
import { bindCompute, computeExportName, computeGroup, computeVersion, installComputeCRD, publishComputeExport } from '../../sim/compute-export.ts';
import { SyncWorker } from '../../sync/worker.ts';
import type { DevStep } from '../stack.ts';
import { createWorkspace } from './workspaces.ts';

export const providerPath = 'root:compute';

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
    // the export's virtual workspace through the gateway.
    stack.workspaces.push(provider);
    const rootClient = await rootShard.client();
    stack.onStop('provider client', async () => rootClient.close());
    await publishComputeExport(rootClient, provider.cluster, providerPath);
    for (const ws of stack.workspaces.filter((w) => w.project)) {
      const client = await stack.need(stack.shards.get(ws.shard), `shard ${ws.shard}`).client();
      await bindCompute(client, ws.cluster, providerPath);
      client.close();
    }

    const agent = await rootShard.issueClientCertificate('kcp-edge-sync', ['system:masters']);
    const admin = await service.issueClientCertificate('kcp-edge-sync', ['system:masters']);
    const worker = new SyncWorker({
      agentName: 'compute',
      resources: [
        {
          group: computeGroup,
          version: computeVersion,
          resource: 'virtualmachines',
          kind: 'VirtualMachine',
          namespaceSuffix: 'vm',
          related: [{ kind: 'Secret', nameFrom: 'spec.writeConnectionSecretToRef.name' }],
        },
      ],
      kcp: { server: rootShard.url, caPem: ca.certPem, certPem: agent.certPem, keyPem: agent.keyPem },
      endpointSlice: { cluster: provider.cluster, name: computeExportName },
      service: { server: service.url, caPem: ca.certPem, certPem: admin.certPem, keyPem: admin.keyPem },
    });
    worker.start();
    stack.onStop('sync worker', () => worker.stop());
  },
};
