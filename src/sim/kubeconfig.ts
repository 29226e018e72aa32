// kubeconfig YAML with embedded certificates, the one file a user needs to talk to a shard.
import { stringify } from 'yaml';
import type { KeyPair } from './pki.ts';

export function renderKubeconfig(options: { name: string; server: string; caPem: string; credentials: KeyPair; user: string }): string {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: options.name, cluster: { server: options.server, 'certificate-authority-data': b64(options.caPem) } }],
    users: [{ name: options.user, user: { 'client-certificate-data': b64(options.credentials.certPem), 'client-key-data': b64(options.credentials.keyPem) } }],
    contexts: [{ name: options.name, context: { cluster: options.name, user: options.user } }],
    'current-context': options.name,
    preferences: {},
  });
}
