// Reads the one context of a kubeconfig that a component needs to reach an API server: the server URL and
// the TLS / bearer credentials. Only the fields kcp-edge's own kubeconfigs use are understood; anything
// needing an exec plugin or an auth provider is rejected with a message naming the file.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';

export interface KubeEndpoint {
  /** Base URL, without a trailing slash; may carry a path (e.g. a virtual workspace). */
  server: string;
  caPem?: string;
  certPem?: string;
  keyPem?: string;
  token?: string;
  insecureSkipTLSVerify?: boolean;
}

interface NamedEntry<T> {
  name: string;
  [key: string]: unknown;
  value?: T;
}

type Doc = Record<string, unknown>;

function named(list: unknown, name: string, what: string, file: string): Doc {
  if (!Array.isArray(list)) throw new Error(`${file}: no ${what}s`);
  const entry = (list as NamedEntry<unknown>[]).find((e) => e?.name === name);
  if (entry === undefined) throw new Error(`${file}: ${what} "${name}" not found`);
  const inner = entry[what];
  if (inner === null || typeof inner !== 'object') throw new Error(`${file}: ${what} "${name}" has no ${what} section`);
  return inner as Doc;
}

async function dataOrFile(doc: Doc, dataKey: string, fileKey: string, base: string): Promise<string | undefined> {
  const data = doc[dataKey];
  if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8');
  const path = doc[fileKey];
  if (typeof path === 'string') return readFile(isAbsolute(path) ? path : resolve(base, path), 'utf8');
  return undefined;
}

export async function loadKubeconfig(file: string, context?: string): Promise<KubeEndpoint> {
  const doc = parse(await readFile(file, 'utf8')) as Doc | null;
  if (doc === null || typeof doc !== 'object') throw new Error(`${file}: not a kubeconfig`);
  const contextName = context ?? doc['current-context'];
  if (typeof contextName !== 'string' || contextName === '') throw new Error(`${file}: no current-context`);
  const ctx = named(doc.contexts, contextName, 'context', file);
  const cluster = named(doc.clusters, String(ctx.cluster), 'cluster', file);
  const user = ctx.user === undefined ? {} : named(doc.users, String(ctx.user), 'user', file);
  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    throw new Error(`${file}: user "${String(ctx.user)}" needs an exec or auth-provider plugin, which kcp-edge does not run`);
  }
  if (typeof cluster.server !== 'string') throw new Error(`${file}: cluster "${String(ctx.cluster)}" has no server`);
  const base = dirname(file);
  const endpoint: KubeEndpoint = { server: cluster.server.replace(/\/+$/, '') };
  const caPem = await dataOrFile(cluster, 'certificate-authority-data', 'certificate-authority', base);
  if (caPem !== undefined) endpoint.caPem = caPem;
  if (cluster['insecure-skip-tls-verify'] === true) endpoint.insecureSkipTLSVerify = true;
  const certPem = await dataOrFile(user, 'client-certificate-data', 'client-certificate', base);
  const keyPem = await dataOrFile(user, 'client-key-data', 'client-key', base);
  if (certPem !== undefined) endpoint.certPem = certPem;
  if (keyPem !== undefined) endpoint.keyPem = keyPem;
  if (typeof user.token === 'string') endpoint.token = user.token;
  else if (typeof user.tokenFile === 'string') endpoint.token = (await readFile(resolve(base, user.tokenFile), 'utf8')).trim();
  return endpoint;
}

/** A kubeconfig text for one endpoint with inline credentials (used by the dev stack and tests). */
export function renderKubeconfig(endpoint: KubeEndpoint, name = 'default'): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const cluster: Record<string, unknown> = { server: endpoint.server };
  if (endpoint.caPem !== undefined) cluster['certificate-authority-data'] = b64(endpoint.caPem);
  const user: Record<string, unknown> = {};
  if (endpoint.certPem !== undefined) user['client-certificate-data'] = b64(endpoint.certPem);
  if (endpoint.keyPem !== undefined) user['client-key-data'] = b64(endpoint.keyPem);
  if (endpoint.token !== undefined) user.token = endpoint.token;
  return (
    JSON.stringify(
      {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name, cluster }],
        users: [{ name, user }],
        contexts: [{ name, context: { cluster: name, user: name } }],
        'current-context': name,
      },
      null,
      2,
    ) + '\n'
  );
}
