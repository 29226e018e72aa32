// Cordoning where kcp looks: the scheduler places a new workspace on a Shard whose labels match its
// `spec.location.selector`, so the cordon is a label on kcp's own Shard object (in the root workspace),
// with an annotation saying who set it and when. The routing table's state follows it separately.
import { loadKubeconfig } from '../../kube/kubeconfig.ts';
import { isNotFound, RestClient } from '../../kube/rest-client.ts';
import { CORDON_LABEL } from '../shard-discovery.ts';

export const CORDONED_AT_ANNOTATION = 'scheduling.kcp-edge.io/cordoned-at';

/** Sets or clears the cordon on kcp's Shard object; false when kcp has no Shard of that name. */
export async function setKcpCordon(kubeconfigFile: string, name: string, cordoned: boolean): Promise<boolean> {
  const endpoint = await loadKubeconfig(kubeconfigFile);
  // The kubeconfig may point into a workspace (…/clusters/root); Shards live in root whatever it says.
  const server = endpoint.server.replace(/\/clusters\/.*$/, '');
  const client = new RestClient({ ...endpoint, server }, { connections: 1, userAgent: 'kcp-edge-shards' });
  try {
    await client.request('PATCH', `/clusters/root/apis/core.kcp.io/v1alpha1/shards/${encodeURIComponent(name)}`, {
      body: {
        metadata: {
          labels: { [CORDON_LABEL]: cordoned ? 'true' : null },
          annotations: { [CORDONED_AT_ANNOTATION]: cordoned ? new Date().toISOString() : null },
        },
      },
      contentType: 'application/merge-patch+json',
    });
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  } finally {
    await client.close();
  }
}
