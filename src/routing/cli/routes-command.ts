// `kcp-edge routes get|set|list|delete|import`: workspace routes in the shared Redis table. Writes are
// validated by the store (no route to an unregistered shard) and published to every replica.
import type { Command, OptionValues } from '../../command/types.ts';
import { ROUTE_PHASES } from '../codec.ts';
import { canonicalWorkspacePath } from '../embedded-file.ts';
import type { RedisRouteStore } from '../redis-route-store.ts';
import type { Route, RoutePhase } from '../types.ts';
import { outputFormat, outputOption, redisOptions, render, requireOption, runWithStore, stringOption, UsageError, type Column } from './common.ts';
import { importRoutes } from './route-import.ts';

const USAGE = `usage:
  kcp-edge routes get PATH|CLUSTER [-o json|yaml|table]
  kcp-edge routes set PATH --shard NAME --cluster NAME [--phase Ready|Moving|Unavailable]
  kcp-edge routes list [--shard NAME] [--under PATH] [-o json|yaml|table]
  kcp-edge routes delete PATH
  kcp-edge routes import FILE   (YAML/JSON {shards?, routes}, or one JSON route per line: .ndjson/.jsonl, - for stdin)`;

const columns: Column<Route>[] = [
  { header: 'PATH', value: (r) => r.path },
  { header: 'SHARD', value: (r) => r.shard },
  { header: 'CLUSTER', value: (r) => r.cluster },
  { header: 'PHASE', value: (r) => r.phase },
  { header: 'REV', value: (r) => String(r.rev) },
];

function target(positionals: string[], verb: string, what = 'PATH'): string {
  const value = positionals[1];
  if (value === undefined) throw new UsageError(`routes ${verb}: ${what} is missing\n${USAGE}`);
  return value;
}

/** `org:proj` and `root:org:proj` are the same workspace; a bare name may also be a logical cluster. */
function lookupKey(text: string): string {
  return text.includes(':') ? canonicalWorkspacePath(text) : text;
}

async function run(store: RedisRouteStore, values: OptionValues, positionals: string[]): Promise<number> {
  const verb = positionals[0];
  switch (verb) {
    case 'get': {
      const format = outputFormat(values);
      const key = target(positionals, verb, 'PATH or CLUSTER');
      const route = await store.getRoute(lookupKey(key));
      if (route === undefined) {
        process.stderr.write(`kcp-edge routes: workspace "${key}" not found\n`);
        return 1;
      }
      process.stdout.write(render(format, route, columns));
      return 0;
    }
    case 'set': {
      const path = canonicalWorkspacePath(target(positionals, verb));
      const phase = stringOption(values, 'phase') ?? 'Ready';
      if (!ROUTE_PHASES.includes(phase as RoutePhase)) throw new UsageError(`--phase must be one of ${ROUTE_PHASES.join(', ')}`);
      const route = await store.putRoute({
        path,
        shard: requireOption(values, 'shard', 'the shard holding the workspace'),
        cluster: requireOption(values, 'cluster', 'the logical cluster name on that shard'),
        phase: phase as RoutePhase,
      });
      process.stdout.write(`route ${route.path} → ${route.shard}/${route.cluster} (${route.phase}, rev ${route.rev})\n`);
      return 0;
    }
    case 'list': {
      const format = outputFormat(values);
      const shard = stringOption(values, 'shard');
      const under = stringOption(values, 'under');
      const routes: Route[] = [];
      for await (const r of store.listRoutes({ ...(shard === undefined ? {} : { shard }), ...(under === undefined ? {} : { under: canonicalWorkspacePath(under) }) })) {
        routes.push(r);
      }
      routes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      process.stdout.write(render(format, routes, columns));
      return 0;
    }
    case 'delete': {
      const path = canonicalWorkspacePath(target(positionals, verb));
      if (!(await store.deleteRoute(path))) {
        process.stderr.write(`kcp-edge routes: workspace "${path}" not found\n`);
        return 1;
      }
      process.stdout.write(`route ${path} deleted\n`);
      return 0;
    }
    case 'import': {
      const file = target(positionals, verb, 'FILE');
      const batch = Number(stringOption(values, 'batch') ?? '1000');
      if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) throw new UsageError('--batch must be an integer between 1 and 10000');
      const result = await importRoutes(store, file, { batchSize: batch, progress: process.stderr });
      process.stdout.write(`imported ${result.routes} route(s)${result.shards > 0 ? ` and ${result.shards} shard(s)` : ''} in ${(result.ms / 1000).toFixed(1)} s\n`);
      return 0;
    }
    default:
      throw new UsageError(verb === undefined ? USAGE : `unknown subcommand "${verb}"\n${USAGE}`);
  }
}

export const command: Command = {
  summary: 'manage workspace routes in the shared routing table (get, set, list, delete, import)',
  options: {
    ...redisOptions,
    ...outputOption,
    shard: { type: 'string' },
    cluster: { type: 'string' },
    phase: { type: 'string' },
    under: { type: 'string' },
    batch: { type: 'string' },
  },
  run: (values, positionals) => runWithStore('routes', values, (store) => run(store, values, positionals)),
};
