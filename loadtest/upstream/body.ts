// The fixed response every target must relay byte for byte: a ConfigMapList of about 1.5 KB, as a
// kube-apiserver would answer `kubectl get configmaps -o json` in a small namespace.

export const LOGICAL_CLUSTER = '2x9bench7qk4z1m';
export const LIST_PATH = `/clusters/${LOGICAL_CLUSTER}/api/v1/namespaces/default/configmaps`;

function configMap(i: number): object {
  return {
    metadata: {
      name: `settings-${i}`,
      namespace: 'default',
      uid: `6d7c1f0e-4b8a-4f4e-9c1d-00000000000${i}`,
      resourceVersion: String(4711 + i),
      creationTimestamp: '2026-11-28T04:00:00Z',
      labels: { 'app.kubernetes.io/name': 'bench', tier: i % 2 === 0 ? 'frontend' : 'backend' },
      annotations: { 'kcp.io/cluster': LOGICAL_CLUSTER },
    },
    data: { 'log-level': 'info', 'feature-flags': 'watch-cache,server-side-apply', replicas: String(i + 1) },
  };
}

export const LIST_BODY: Buffer = Buffer.from(
  JSON.stringify({
    kind: 'ConfigMapList',
    apiVersion: 'v1',
    metadata: { resourceVersion: '4720' },
    items: [0, 1, 2, 3].map(configMap),
  }),
);
