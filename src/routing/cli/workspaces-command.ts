// `kcp-edge workspaces list [--shard S]`: where each workspace lives and what state it is in (active,
// moving with its move phase, unavailable), read from the shared routing table.
// `kcp-edge workspaces move PATH --to SHARD [--abort]`: moves (or resumes, or rolls back) one move.
import type { Command, OptionValues } from '../../command/types.ts';
import { canonicalWorkspacePath } from '../embedded-file.ts';
import { MoveRecords, type MoveRecord } from '../move-record.ts';
import { abortMove, MoveError, moveWorkspace } from '../workspace-move.ts';
import { credentialsFrom } from './index-command.ts';
import type { RedisRouteStore } from '../redis-route-store.ts';
import type { Route } from '../types.ts';
import { outputFormat, outputOption, redisOptions, render, runWithStore, stringOption, UsageError, type Column } from './common.ts';

const USAGE = `usage:
  kcp-edge workspaces list [--shard NAME] [-o json|yaml|table]
  kcp-edge workspaces move PATH --to SHARD [--abort] (--kubeconfig FILE | --client-cert FILE --client-key FILE [--ca FILE])`;

export interface WorkspaceRow {
  path: string;
  shard: string;
  cluster: string;
  state: string;
  move?: { from: string; to: string; phase: MoveRecord['phase'] };
}

/** A move in progress says more than the route's phase; a finished one says nothing. */
export function stateOf(route: Route, move: MoveRecord | undefined): string {
  if (move !== undefined && (move.phase === 'copying' || move.phase === 'cutover')) return `moving (${move.phase} → ${move.to})`;
  return route.phase === 'Ready' ? 'active' : route.phase === 'Moving' ? 'moving' : 'unavailable';
}

const columns: Column<WorkspaceRow>[] = [
  { header: 'PATH', value: (w) => w.path },
  { header: 'SHARD', value: (w) => w.shard },
  { header: 'CLUSTER', value: (w) => w.cluster },
  { header: 'STATE', value: (w) => w.state },
];

export async function listWorkspaces(store: RedisRouteStore, shard: string | undefined): Promise<WorkspaceRow[]> {
  const moves = new Map((await new MoveRecords(store.client, store.keys).list()).map((m) => [m.path, m]));
  const rows: WorkspaceRow[] = [];
  for await (const route of store.listRoutes(shard === undefined ? {} : { shard })) {
    const move = moves.get(route.path);
    const active = move !== undefined && (move.phase === 'copying' || move.phase === 'cutover');
    rows.push({
      path: route.path,
      shard: route.shard,
      cluster: route.cluster,
      state: stateOf(route, move),
      ...(active ? { move: { from: move.from, to: move.to, phase: move.phase } } : {}),
    });
  }
  return rows.sort((a, b) => a.path.localeCompare(b.path));
}

async function run(store: RedisRouteStore, values: OptionValues, positionals: string[]): Promise<number> {
  const verb = positionals[0];
  switch (verb) {
    case 'list': {
      const format = outputFormat(values);
      process.stdout.write(render(format, await listWorkspaces(store, stringOption(values, 'shard')), columns));
      return 0;
    }
    case 'move': {
      const raw = positionals[1];
      if (raw === undefined) throw new UsageError(`workspaces move: PATH is missing\n${USAGE}`);
      const path = canonicalWorkspacePath(raw);
      const credentials = await credentialsFrom(values);
      try {
        if (values['abort'] === true) {
          const record = await abortMove({ store, credentials, path });
          process.stdout.write(record === undefined ? `${path}: no move to abort\n` : `${path}: move to ${record.to} ${record.phase}\n`);
          return 0;
        }
        const to = stringOption(values, 'to');
        let last = 0;
        const record = await moveWorkspace({
          store,
          credentials,
          path,
          ...(to === undefined ? {} : { to }),
          onProgress: ({ copied, skipped }) => {
            const n = copied + skipped;
            if (n - last >= 100) {
              last = n;
              process.stdout.write(`${path}: ${n} object(s) copied\n`);
            }
          },
        });
        process.stdout.write(`${path}: moved ${record.from} → ${record.to} (${record.copied ?? 0} object(s))\n`);
        return 0;
      } catch (err) {
        if (!(err instanceof MoveError)) throw err;
        process.stderr.write(`kcp-edge workspaces: ${err.message}\n`);
        return 1;
      }
    }
    default:
      throw new UsageError(verb === undefined ? USAGE : `unknown subcommand "${verb}"\n${USAGE}`);
  }
}

export const command: Command = {
  summary: 'where workspaces live and their state (list), and moving one to another shard (move)',
  options: {
    ...redisOptions,
    ...outputOption,
    shard: { type: 'string' },
    to: { type: 'string' },
    abort: { type: 'boolean', default: false },
    kubeconfig: { type: 'string' },
    'client-cert': { type: 'string' },
    'client-key': { type: 'string' },
    ca: { type: 'string' },
  },
  run: (values, positionals) => runWithStore('workspaces', values, (store) => run(store, values, positionals)),
};
