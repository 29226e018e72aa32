// The sync worker of the local stack, started once the gateway serves and reaching KCP only through it:
// the endpoint slice is read through the gateway, whose answer names one gateway URL per shard, and the
// worker watches each of those with the provider service account's token. A kubeconfig for exactly
// that (sync-kcp.kubeconfig) is left in the dev directory.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { computeExportName } from '../../sim/compute-export.ts';
import { SyncWorker } from '../../sync/worker.ts';
import type { DevStep } from '../stack.ts';
import { computeResource } from './sync.ts';

export const syncWorker: DevStep = {
  name: 'sync-worker',
  async run(stack) {
    const ca = stack.need(stack.ca, 'the dev CA');
    const agent = stack.need(stack.syncAgent, 'the sync agent');
    const kcp = { server: stack.url, caPem: ca.certPem, token: agent.token };
    const kubeconfig = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'kcp-edge', cluster: { server: kcp.server, 'certificate-authority-data': Buffer.from(ca.certPem).toString('base64') } }],
      users: [{ name: 'kcp-edge-sync', user: { token: agent.token } }],
      contexts: [{ name: 'kcp-edge-sync', context: { cluster: 'kcp-edge', user: 'kcp-edge-sync' } }],
      'current-context': 'kcp-edge-sync',
    };
    await writeFile(join(stack.options.dir, 'sync-kcp.kubeconfig'), stringify(kubeconfig), { mode: 0o600 });
    const worker = new SyncWorker({
      agentName: 'compute',
      resources: [computeResource],
      kcp,
      endpointSlice: { cluster: agent.providerCluster, name: computeExportName },
      service: agent.service,
    });
    worker.start();
    stack.syncWorker = worker;
    stack.onStop('sync worker', () => worker.stop());
  },
};
