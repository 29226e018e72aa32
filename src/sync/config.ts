// The sync worker's config file (config/sync.yaml): what is published, where the export's endpoint slice
// lives, how to reach KCP and the service cluster. Validated once by the shared loader; kubeconfigs named
// in it are read during the build step, so a missing file is reported with the field that names it.
import { defineConfig, loadConfig, type BuildContext, type Config } from '../config/index.ts';
import { loadKubeconfig, type KubeEndpoint } from '../kube/kubeconfig.ts';
import { parseListenAddress, type ListenAddress } from '../command/listen-address.ts';
import { logLevels, type LogLevel } from '../log.ts';
import type { EndpointSliceRef } from './endpoint-slice.ts';
import type { PublishedResource } from './types.ts';

const dnsLabel = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 } as const;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['agentName', 'kcp', 'serviceCluster', 'resources'],
  properties: {
    agentName: { ...dnsLabel, maxLength: 40, errorMessage: 'must be a DNS label of at most 40 characters (it names our finalizer)' },
    kcp: {
      type: 'object',
      additionalProperties: false,
      required: ['kubeconfig'],
      properties: {
        kubeconfig: { type: 'string', minLength: 1 },
        endpointSlice: {
          type: 'object',
          additionalProperties: false,
          required: ['cluster', 'name'],
          properties: { cluster: { type: 'string', minLength: 1 }, name: { type: 'string', minLength: 1 } },
        },
        endpoints: { type: 'array', items: { type: 'string', pattern: '^https://' }, minItems: 1 },
      },
    },
    serviceCluster: {
      type: 'object',
      additionalProperties: false,
      required: ['kubeconfig'],
      properties: { kubeconfig: { type: 'string', minLength: 1 } },
    },
    resources: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['group', 'version', 'resource', 'kind', 'namespaceSuffix'],
        properties: {
          group: { type: 'string', minLength: 1 },
          version: { type: 'string', minLength: 1 },
          resource: { type: 'string', pattern: '^[a-z0-9]+$' },
          kind: { type: 'string', pattern: '^[A-Z][A-Za-z0-9]*$' },
          namespaceSuffix: { ...dnsLabel, maxLength: 20 },
          labelSelector: { type: 'string' },
          related: {
            type: 'array',
            default: [],
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['kind', 'nameFrom'],
              properties: {
                kind: { enum: ['Secret', 'ConfigMap'] },
                nameFrom: { type: 'string', pattern: '^[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*$' },
                namespace: dnsLabel,
              },
            },
          },
        },
      },
    },
    workers: { type: 'integer', minimum: 1, maximum: 512, default: 16 },
    resyncSeconds: { type: 'integer', minimum: 1, default: 300 },
    cleanupSeconds: { type: 'integer', minimum: 1, default: 30 },
    listen: { type: 'string', default: '127.0.0.1:9464', pattern: '^[^:]+:[0-9]+$' },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { level: { enum: logLevels, default: 'info' } },
    },
  },
} as const;

interface RawSyncConfig {
  agentName: string;
  kcp: { kubeconfig: string; endpointSlice?: EndpointSliceRef; endpoints?: string[] };
  serviceCluster: { kubeconfig: string };
  resources: PublishedResource[];
  workers: number;
  resyncSeconds: number;
  cleanupSeconds: number;
  listen: string;
  log: { level: LogLevel };
}

export interface SyncConfig {
  agentName: string;
  kcp: KubeEndpoint;
  endpointSlice?: EndpointSliceRef;
  endpoints?: string[];
  service: KubeEndpoint;
  resources: PublishedResource[];
  workers: number;
  resyncMs: number;
  cleanupMs: number;
  listen: ListenAddress;
  logLevel: LogLevel;
}

async function kubeconfigAt(ctx: BuildContext, field: (string | number)[], file: string): Promise<KubeEndpoint | undefined> {
  try {
    return await loadKubeconfig(ctx.resolvePath(file));
  } catch (err) {
    ctx.issue(field, (err as Error).message);
    return undefined;
  }
}

function listenAddress(ctx: BuildContext, text: string): ListenAddress {
  try {
    return parseListenAddress(text);
  } catch (err) {
    ctx.issue(['listen'], (err as Error).message);
    return { host: '127.0.0.1', port: 0 };
  }
}

export const syncConfigKind = defineConfig<RawSyncConfig, SyncConfig>({
  what: 'sync config',
  schema,
  async build(raw, ctx) {
    if ((raw.kcp.endpointSlice === undefined) === (raw.kcp.endpoints === undefined)) {
      ctx.issue(['kcp'], 'needs exactly one of endpointSlice (follow the export) or endpoints (a fixed list)');
    }
    const suffixes = new Set<string>();
    raw.resources.forEach((r, i) => {
      if (suffixes.has(r.namespaceSuffix)) ctx.issue(['resources', i, 'namespaceSuffix'], `"${r.namespaceSuffix}" is used by another resource`);
      suffixes.add(r.namespaceSuffix);
    });
    const kcp = await kubeconfigAt(ctx, ['kcp', 'kubeconfig'], raw.kcp.kubeconfig);
    const service = await kubeconfigAt(ctx, ['serviceCluster', 'kubeconfig'], raw.serviceCluster.kubeconfig);
    const config: SyncConfig = {
      agentName: raw.agentName,
      kcp: kcp ?? { server: 'https://invalid' },
      service: service ?? { server: 'https://invalid' },
      resources: raw.resources.map((r) => ({ ...r, related: r.related.map((x) => ({ ...x })) })),
      workers: raw.workers,
      resyncMs: raw.resyncSeconds * 1000,
      cleanupMs: raw.cleanupSeconds * 1000,
      listen: listenAddress(ctx, raw.listen),
      logLevel: raw.log.level,
    };
    if (raw.kcp.endpointSlice !== undefined) config.endpointSlice = { ...raw.kcp.endpointSlice };
    if (raw.kcp.endpoints !== undefined) config.endpoints = [...raw.kcp.endpoints];
    return config;
  },
});

export function loadSyncConfig(file: string): Promise<Config<SyncConfig>> {
  return loadConfig(syncConfigKind, file);
}
