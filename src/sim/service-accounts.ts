// kube-controller-manager's token controller, as far as a client notices it: a Secret of type
// kubernetes.io/service-account-token naming an existing ServiceAccount gets a legacy token (and the
// ServiceAccount's uid) filled in. Tokens are signed with the shard's service-account key.
import { updateObject } from './objects.ts';
import type { ShardPlugin } from './plugin.ts';
import type { ShardState } from './shard-state.ts';
import type { KubeObject } from './types.ts';

export const serviceAccountTokenType = 'kubernetes.io/service-account-token';
const nameAnnotation = 'kubernetes.io/service-account.name';
const uidAnnotation = 'kubernetes.io/service-account.uid';

export const serviceAccountsPlugin: ShardPlugin = {
  name: 'service-accounts',
  start(shard) {
    return shard.store.hub.follow((event) => {
      if (event.gr !== 'secrets' || event.type === 'DELETED' || !needsToken(event.object)) return;
      const { cluster, namespace } = event;
      const name = event.object.metadata.name ?? '';
      queueMicrotask(() => void fillToken(shard, cluster, namespace, name));
    });
  },
};

function needsToken(secret: KubeObject): boolean {
  const data = secret['data'] as Record<string, string> | undefined;
  return secret['type'] === serviceAccountTokenType && secret.metadata.annotations?.[nameAnnotation] !== undefined && data?.['token'] === undefined;
}

async function fillToken(shard: ShardState, cluster: string, namespace: string, name: string): Promise<void> {
  const secret = shard.store.get(cluster, 'secrets', namespace, name);
  if (shard.serviceAccountSigner === undefined || secret === undefined || secret.metadata.deletionTimestamp !== undefined || !needsToken(secret)) return;
  const saName = secret.metadata.annotations![nameAnnotation]!;
  const sa = shard.store.get(cluster, 'serviceaccounts', namespace, saName);
  if (sa === undefined) return;
  const signer = await shard.serviceAccountSigner();
  const token = await signer.mintLegacy({ cluster, namespace, name: saName, uid: sa.metadata.uid ?? '', secretName: name });
  const current = shard.store.get(cluster, 'secrets', namespace, name);
  if (current === undefined || !needsToken(current)) return;
  const next = structuredClone(current);
  next.metadata.annotations = { ...next.metadata.annotations, [uidAnnotation]: sa.metadata.uid ?? '' };
  next['data'] = {
    ...(next['data'] as Record<string, string> | undefined),
    token: Buffer.from(token).toString('base64'),
    namespace: Buffer.from(namespace).toString('base64'),
  };
  updateObject(shard, cluster, shard.builtinType('', 'secrets'), next, namespace, name);
}
