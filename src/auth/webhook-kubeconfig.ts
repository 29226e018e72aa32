// kube-apiserver's --authentication-token-webhook-config-file: a kubeconfig whose cluster is the
// remote service (server URL, its CA) and whose user is the API server's credentials towards it
// (client certificate and key, or a bearer token). Paths are relative to the file, as in kubeconfigs.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';

export interface WebhookEndpoint {
  server: string;
  ca: string | undefined;
  insecureSkipTlsVerify: boolean;
  cert: string | undefined;
  key: string | undefined;
  token: string | undefined;
}

type Named<T> = { name?: string } & T;
interface Kubeconfig {
  clusters?: Named<{ cluster?: Record<string, unknown> }>[];
  users?: Named<{ user?: Record<string, unknown> }>[];
  contexts?: Named<{ context?: { cluster?: string; user?: string } }>[];
  'current-context'?: string;
}

export async function loadWebhookKubeconfig(file: string): Promise<WebhookEndpoint> {
  const doc = (parse(await readFile(file, 'utf8')) ?? {}) as Kubeconfig;
  const where = (what: string) => new Error(`${file}: ${what}`);
  const contexts = doc.contexts ?? [];
  // The current context names cluster and user; without one, a file of one cluster (and at most one
  // user) is unambiguous, as the kube docs' example webhook files are.
  const context =
    doc['current-context'] !== undefined && doc['current-context'] !== ''
      ? contexts.find((c) => c.name === doc['current-context'])?.context
      : contexts.length === 1
        ? contexts[0]!.context
        : undefined;
  if (doc['current-context'] && context === undefined) throw where(`current-context "${doc['current-context']}" is not among the contexts`);
  const clusters = doc.clusters ?? [];
  const users = doc.users ?? [];
  const cluster = context?.cluster !== undefined ? clusters.find((c) => c.name === context.cluster)?.cluster : clusters.length === 1 ? clusters[0]!.cluster : undefined;
  if (cluster === undefined) throw where('names no cluster (set current-context, or give exactly one cluster)');
  const user = context?.user !== undefined ? users.find((u) => u.name === context.user)?.user : users.length === 1 ? users[0]!.user : undefined;
  if (context?.user !== undefined && user === undefined) throw where(`user "${context.user}" is not among the users`);

  const server = cluster['server'];
  if (typeof server !== 'string' || !/^https?:\/\//.test(server)) throw where('the cluster needs a server URL');
  const base = dirname(file);
  const material = async (from: Record<string, unknown> | undefined, dataKey: string, fileKey: string): Promise<string | undefined> => {
    const data = from?.[dataKey];
    if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64').toString('utf8');
    const path = from?.[fileKey];
    if (typeof path === 'string' && path !== '') return readFile(isAbsolute(path) ? path : resolve(base, path), 'utf8');
    return undefined;
  };
  const tokenFile = user?.['tokenFile'];
  const token =
    typeof user?.['token'] === 'string' ? (user['token'] as string) : typeof tokenFile === 'string' ? (await readFile(resolve(base, tokenFile), 'utf8')).trim() : undefined;
  const endpoint: WebhookEndpoint = {
    server,
    ca: await material(cluster, 'certificate-authority-data', 'certificate-authority'),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    cert: await material(user, 'client-certificate-data', 'client-certificate'),
    key: await material(user, 'client-key-data', 'client-key'),
    token,
  };
  if ((endpoint.cert === undefined) !== (endpoint.key === undefined)) throw where('the user needs both a client certificate and its key, or neither');
  return endpoint;
}
