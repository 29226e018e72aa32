// The kubeconfig `kcp-edge dev` hands to a newcomer: one context per project workspace, named by its
// path, each pointing at the gateway's /clusters/<path> URL, so `kubectl --context org-acme:proj-frontend`
// behaves like a cluster of its own.
import { stringify } from 'yaml';

export interface KubeconfigWorkspace {
  /** Workspace path without root:, used as the context and cluster name (org-acme:proj-frontend). */
  name: string;
  /** The user (by name in `users`) the context authenticates as. */
  user: string;
}

/** A further context on one of the workspaces' clusters, for another user (`carol@org-acme:proj-frontend`). */
export interface KubeconfigContext {
  name: string;
  /** The workspace (by name in `workspaces`) whose cluster it points at. */
  workspace: string;
  user: string;
}

export interface KubeconfigUser {
  name: string;
  token: string;
}

export interface KubeconfigSpec {
  /** Gateway base URL, e.g. https://127.0.0.1:6443 */
  server: string;
  /** PEM of the CA that signs the gateway's serving certificate. */
  caPem: string;
  workspaces: KubeconfigWorkspace[];
  users: KubeconfigUser[];
  contexts?: KubeconfigContext[];
  currentContext?: string;
}

export function renderKubeconfig(spec: KubeconfigSpec): string {
  const caData = Buffer.from(spec.caPem).toString('base64');
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: spec.workspaces.map((w) => ({
      name: w.name,
      cluster: { server: `${spec.server}/clusters/root:${w.name}`, 'certificate-authority-data': caData },
    })),
    users: spec.users.map((u) => ({ name: u.name, user: { token: u.token } })),
    contexts: [
      ...spec.workspaces.map((w) => ({ name: w.name, context: { cluster: w.name, user: w.user } })),
      ...(spec.contexts ?? []).map((c) => ({ name: c.name, context: { cluster: c.workspace, user: c.user } })),
    ],
    'current-context': spec.currentContext ?? spec.workspaces[0]?.name ?? '',
    preferences: {},
  };
  return stringify(doc, { lineWidth: 0 });
}
