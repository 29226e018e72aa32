// Helpers for tests and the dev stack that set up workspaces and bindings the way a user would: through
// the HTTP API of the shard that holds the parent, then waiting for the controllers to finish.
import type { ApiClient } from './client.ts';
import type { KubeObject } from './types.ts';

async function poll<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function expectOk(what: string, res: { status: number; text: string }): void {
  if (res.status >= 300 && res.status !== 409) throw new Error(`${what}: ${res.status} ${res.text}`);
}

export interface WorkspaceInfo {
  /** Workspace path, `root:org-acme:proj-backend`. */
  path: string;
  /** Logical cluster name (16 base36 characters). */
  cluster: string;
  /** spec.URL: `<external URL>/clusters/<path>`, the external URL being the front door's or the holding shard's. */
  url: string;
}

/**
 * Creates Workspace `name` in the workspace at `parentPath` (through `client`, which must talk to the
 * shard holding the parent) and waits until it is Ready. `shard` picks the target shard by its `name` label.
 */
export async function createWorkspace(
  client: ApiClient,
  parentPath: string,
  name: string,
  options: { shard?: string; labels?: Record<string, string> } = {},
): Promise<WorkspaceInfo> {
  const base = `/clusters/${parentPath}/apis/tenancy.kcp.io/v1alpha1/workspaces`;
  const body = {
    apiVersion: 'tenancy.kcp.io/v1alpha1',
    kind: 'Workspace',
    metadata: { name, ...(options.labels !== undefined ? { labels: options.labels } : {}) },
    spec: options.shard !== undefined ? { location: { selector: { matchLabels: { name: options.shard } } } } : {},
  };
  expectOk(`creating workspace ${parentPath}:${name}`, await client.request('POST', base, { body }));
  const ready = await poll(`workspace ${parentPath}:${name} to be Ready`, async () => {
    const res = await client.request<KubeObject>('GET', `${base}/${name}`);
    const phase = (res.body['status'] as { phase?: string } | undefined)?.phase;
    return res.status === 200 && phase === 'Ready' ? res.body : undefined;
  });
  const spec = ready['spec'] as { cluster: string; URL: string };
  return { path: `${parentPath}:${name}`, cluster: spec.cluster, url: spec.URL };
}

export interface SchemaVersion {
  name: string;
  /** OpenAPI v3 schema of the kind; defaults to anything-goes with spec/status objects. */
  schema?: Record<string, unknown>;
  status?: boolean;
  printerColumns?: Array<{ name: string; type: string; jsonPath: string }>;
}

export interface ExportDefinition {
  name: string;
  group: string;
  resource: string;
  kind: string;
  scope?: 'Namespaced' | 'Cluster';
  versions?: SchemaVersion[];
}

/** Creates an APIResourceSchema and an APIExport of it in the workspace at `path`. */
export async function createExport(client: ApiClient, path: string, def: ExportDefinition): Promise<void> {
  const schemaName = `v1.${def.resource}.${def.group}`;
  const versions = (def.versions ?? [{ name: 'v1alpha1', status: true }]).map((v, i) => ({
    name: v.name,
    served: true,
    storage: i === 0,
    schema: v.schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    ...(v.status !== false ? { subresources: { status: {} } } : {}),
    ...(v.printerColumns !== undefined ? { additionalPrinterColumns: v.printerColumns } : {}),
  }));
  expectOk(
    'creating APIResourceSchema',
    await client.request('POST', `/clusters/${path}/apis/apis.kcp.io/v1alpha1/apiresourceschemas`, {
      body: {
        apiVersion: 'apis.kcp.io/v1alpha1',
        kind: 'APIResourceSchema',
        metadata: { name: schemaName },
        spec: {
          group: def.group,
          scope: def.scope ?? 'Namespaced',
          versions,
          names: { plural: def.resource, singular: def.kind.toLowerCase(), kind: def.kind, listKind: `${def.kind}List` },
        },
      },
    }),
  );
  expectOk(
    'creating APIExport',
    await client.request('POST', `/clusters/${path}/apis/apis.kcp.io/v1alpha1/apiexports`, {
      body: { apiVersion: 'apis.kcp.io/v1alpha1', kind: 'APIExport', metadata: { name: def.name }, spec: { latestResourceSchemas: [schemaName] } },
    }),
  );
}

/** Binds export `exportPath`/`exportName` into the workspace at `path` and waits until it is Bound. */
export async function bindExport(client: ApiClient, path: string, exportPath: string, exportName: string, bindingName = exportName): Promise<KubeObject> {
  const base = `/clusters/${path}/apis/apis.kcp.io/v1alpha1/apibindings`;
  expectOk(
    `binding ${exportPath}:${exportName} in ${path}`,
    await client.request('POST', base, {
      body: { apiVersion: 'apis.kcp.io/v1alpha1', kind: 'APIBinding', metadata: { name: bindingName }, spec: { reference: { export: { path: exportPath, name: exportName } } } },
    }),
  );
  return poll(`APIBinding ${bindingName} in ${path} to be Bound`, async () => {
    const res = await client.request<KubeObject>('GET', `${base}/${bindingName}`);
    return (res.body['status'] as { phase?: string } | undefined)?.phase === 'Bound' ? res.body : undefined;
  });
}
