// The embedded routing table's file: the shards and the workspace routes of a single-node install,
// validated by the config loader so a bad edit is reported field by field and never half-applied.
import { defineConfig, type BuildContext, type DeepReadonly } from '../config/index.ts';
import type { Route, RoutePhase, Shard, ShardState } from './types.ts';

const dnsLabel = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';

interface RawShard {
  name: string;
  url: string;
  ca?: string;
  caFile?: string;
  state: ShardState;
  labels: Record<string, string>;
}

interface RawRoute {
  path: string;
  shard: string;
  cluster: string;
  phase: RoutePhase;
}

export interface RawRoutingFile {
  shards: RawShard[];
  routes: RawRoute[];
}

export interface RoutingFile {
  shards: Shard[];
  /** Routes with canonical paths; `rev` is filled in by the store. */
  routes: Omit<Route, 'rev'>[];
}

/** `org-acme:proj-frontend` and `root:org-acme:proj-frontend` name the same workspace. */
export function canonicalWorkspacePath(path: string): string {
  return path === 'root' || path.startsWith('root:') ? path : `root:${path}`;
}

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    shards: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'url'],
        properties: {
          name: { type: 'string', pattern: `^${dnsLabel}$`, errorMessage: 'must be a DNS label (lower-case letters, digits, -)' },
          url: { type: 'string', pattern: '^https?://[^/]', errorMessage: 'must be an http(s) URL' },
          ca: { type: 'string', pattern: 'BEGIN CERTIFICATE', errorMessage: 'must be a PEM certificate bundle' },
          caFile: { type: 'string', minLength: 1 },
          state: { enum: ['active', 'cordoned', 'draining', 'down'], default: 'active' },
          labels: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
        },
      },
    },
    routes: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['path', 'shard', 'cluster'],
        properties: {
          path: {
            type: 'string',
            maxLength: 1024,
            pattern: `^${dnsLabel}(:${dnsLabel})*$`,
            errorMessage: 'must be a workspace path like root:org-acme:proj-frontend',
          },
          shard: { type: 'string', minLength: 1 },
          cluster: { type: 'string', pattern: `^${dnsLabel}$`, errorMessage: 'must be a logical-cluster name (a DNS label)' },
          phase: { enum: ['Ready', 'Moving', 'Unavailable'], default: 'Ready' },
        },
      },
    },
  },
};

async function build(raw: DeepReadonly<RawRoutingFile>, ctx: BuildContext): Promise<RoutingFile> {
  const shards: Shard[] = [];
  const shardNames = new Set<string>();
  for (const [i, s] of raw.shards.entries()) {
    if (shardNames.has(s.name)) ctx.issue(['shards', i, 'name'], `shard "${s.name}" is listed twice`);
    shardNames.add(s.name);
    try {
      new URL(s.url);
    } catch {
      ctx.issue(['shards', i, 'url'], 'is not a valid URL');
    }
    let ca = s.ca;
    if (s.ca !== undefined && s.caFile !== undefined) ctx.issue(['shards', i], 'sets both ca and caFile; choose one');
    if (s.caFile !== undefined) {
      ca = await ctx.readReferencedFile(['shards', i, 'caFile'], s.caFile);
      if (ca !== undefined && !ca.includes('BEGIN CERTIFICATE')) ctx.issue(['shards', i, 'caFile'], 'does not contain a PEM certificate');
    }
    shards.push({ name: s.name, url: s.url.replace(/\/+$/, ''), ...(ca === undefined ? {} : { ca }), state: s.state, labels: { ...s.labels } });
  }

  const routes: Omit<Route, 'rev'>[] = [];
  const paths = new Map<string, number>();
  const clusters = new Map<string, number>();
  for (const [i, r] of raw.routes.entries()) {
    const path = canonicalWorkspacePath(r.path);
    const samePath = paths.get(path);
    if (samePath !== undefined) ctx.issue(['routes', i, 'path'], `workspace ${path} is already routed by routes[${samePath}]`);
    paths.set(path, i);
    const sameCluster = clusters.get(r.cluster);
    if (sameCluster !== undefined) ctx.issue(['routes', i, 'cluster'], `logical cluster ${r.cluster} is already used by routes[${sameCluster}]`);
    clusters.set(r.cluster, i);
    if (!shardNames.has(r.shard)) ctx.issue(['routes', i, 'shard'], `names shard "${r.shard}", which is not in shards`);
    routes.push({ path, shard: r.shard, cluster: r.cluster, phase: r.phase });
  }
  return { shards, routes };
}

export const routingFileKind = defineConfig<RawRoutingFile, RoutingFile>({ what: 'routing table', schema, build });
