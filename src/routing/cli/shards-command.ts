// `kcp-edge shards add|list|cordon|uncordon|drain|remove`: the shard registry in the shared Redis.
// Every change is published, so gateway replicas see it at once.
import { readFile } from 'node:fs/promises';
import type { Command, OptionValues } from '../../command/types.ts';
import { isShardName } from '../codec.ts';
import type { RedisRouteStore } from '../redis-route-store.ts';
import type { Shard, ShardState } from '../types.ts';
import { outputFormat, outputOption, redisOptions, render, requireOption, runWithStore, stringOption, UsageError, type Column } from './common.ts';
import { readShardHealth, type ShardHealthRecord } from '../shard-health-record.ts';
import { setKcpCordon } from './kcp-shard-cordon.ts';
import { drainShard } from '../shard-drain.ts';
import { credentialsFrom } from './index-command.ts';
import { progressBar } from './progress-bar.ts';

const USAGE = `usage:
  kcp-edge shards add NAME --url URL [--ca FILE] [--label k=v]…
  kcp-edge shards list [-o json|yaml|table]
  kcp-edge shards cordon|uncordon NAME [--kubeconfig FILE]
  kcp-edge shards drain NAME [--parallel N] (--kubeconfig FILE | --client-cert FILE --client-key FILE [--ca FILE])
  kcp-edge shards remove NAME [--force]`;

const stateChanges: Record<string, ShardState> = { cordon: 'cordoned', uncordon: 'active' };

interface ShardRow extends Shard {
  routes: number;
  health?: ShardHealthRecord;
}

const columns: Column<ShardRow>[] = [
  { header: 'NAME', value: (s) => s.name },
  { header: 'URL', value: (s) => s.url },
  { header: 'STATE', value: (s) => s.state },
  { header: 'HEALTH', value: (s) => describeHealth(s.health) },
  { header: 'ROUTES', value: (s) => String(s.routes) },
  {
    header: 'LABELS',
    value: (s) =>
      Object.entries(s.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
  },
];

function describeHealth(h: ShardHealthRecord | undefined): string {
  if (h === undefined) return 'unknown';
  const age = Math.max(0, Math.round((Date.now() - h.checkedAt) / 1000));
  return h.up ? `up (${age}s)` : `down (${age}s: ${h.reason ?? 'failing'})`;
}

function parseLabels(values: OptionValues): Record<string, string> {
  const raw = values['label'];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const labels: Record<string, string> = {};
  for (const item of list) {
    const text = String(item);
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`--label must be key=value, not "${text}"`);
    labels[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return labels;
}

function shardName(positionals: string[], verb: string): string {
  const name = positionals[1];
  if (name === undefined) throw new UsageError(`shards ${verb}: the shard NAME is missing\n${USAGE}`);
  if (!isShardName(name)) throw new UsageError(`invalid shard name "${name}": must be a DNS label`);
  return name;
}

async function run(store: RedisRouteStore, values: OptionValues, positionals: string[]): Promise<number> {
  const verb = positionals[0];
  switch (verb) {
    case 'add': {
      const name = shardName(positionals, verb);
      const url = requireOption(values, 'url', 'the shard base URL, e.g. https://shard-a:6443').replace(/\/+$/, '');
      const caFile = stringOption(values, 'ca');
      const ca = caFile === undefined ? undefined : await readFile(caFile, 'utf8');
      if (ca !== undefined && !ca.includes('BEGIN CERTIFICATE')) throw new UsageError(`--ca ${caFile}: no PEM certificate in it`);
      const existing = await store.getShard(name);
      await store.putShard({ name, url, ...(ca === undefined ? {} : { ca }), state: existing?.state ?? 'active', labels: parseLabels(values) });
      process.stdout.write(`shard ${name} ${existing === undefined ? 'added' : 'updated'}\n`);
      return 0;
    }
    case 'list': {
      const format = outputFormat(values);
      const [shards, counts, health] = await Promise.all([store.listShards(), store.countRoutesByShard(), readShardHealth(store.client, store.keys)]);
      const rows: ShardRow[] = shards.map((s) => ({ ...s, routes: counts[s.name] ?? 0, ...(health[s.name] === undefined ? {} : { health: health[s.name] }) }));
      process.stdout.write(render(format, rows, columns));
      return 0;
    }
    case 'cordon':
    case 'uncordon': {
      const name = shardName(positionals, verb);
      // kcp first: it decides placement, so a cordon only it has not heard of would place workspaces anyway.
      const kubeconfig = stringOption(values, 'kubeconfig') ?? process.env['KCP_EDGE_KCP_KUBECONFIG'];
      if (kubeconfig !== undefined) {
        const found = await setKcpCordon(kubeconfig, name, verb === 'cordon');
        process.stdout.write(
          found
            ? `kcp: shard ${name} ${verb === 'cordon' ? 'takes no new workspaces' : 'takes new workspaces again'}\n`
            : `kcp: no Shard "${name}" (not a kcp-listed shard); only the routing table changes\n`,
        );
      } else if (verb === 'cordon') {
        process.stderr.write("kcp-edge shards: no --kubeconfig for kcp's root workspace, so kcp may still place workspaces there\n");
      }
      const shard = await store.setShardState(name, stateChanges[verb]!);
      process.stdout.write(`shard ${name} ${shard.state}\n`);
      return 0;
    }
    case 'drain': {
      const name = shardName(positionals, verb);
      const parallelText = stringOption(values, 'parallel') ?? '4';
      const parallel = Number(parallelText);
      if (!Number.isInteger(parallel) || parallel < 1) throw new UsageError(`--parallel must be a whole number from 1, not "${parallelText}"`);
      let credentials;
      try {
        credentials = await credentialsFrom(values);
      } catch (err) {
        // Moving needs a certificate the shards accept; an empty shard only changes state.
        if (!(err instanceof UsageError) || ((await store.countRoutesByShard())[name] ?? 0) > 0) throw err;
        const shard = await store.setShardState(name, 'draining');
        process.stdout.write(`shard ${name} ${shard.state}: no workspaces on it\n`);
        return 0;
      }
      // No new workspaces where kcp places them, then none in the routing table, then everything moves off.
      const kubeconfig = stringOption(values, 'kubeconfig') ?? process.env['KCP_EDGE_KCP_KUBECONFIG'];
      if (kubeconfig !== undefined && !(await setKcpCordon(kubeconfig, name, true))) process.stdout.write(`kcp: no Shard "${name}"; only the routing table changes\n`);
      const bar = progressBar(process.stderr);
      const tty = (process.stdout as { isTTY?: boolean }).isTTY === true;
      const result = await drainShard({
        store,
        credentials,
        shard: name,
        parallel,
        onEvent(e) {
          bar.update(e.done / e.total, e.done, 'workspaces');
          if (!tty || e.outcome === 'failed')
            process.stdout.write(
              e.outcome === 'moved'
                ? `${e.path}: moved ${e.from} → ${e.to} (${e.copied ?? 0} object(s)) [${e.done}/${e.total}]\n`
                : `${e.path}: move to ${e.to} failed: ${e.error} [${e.done}/${e.total}]\n`,
            );
        },
      });
      bar.finish();
      const kept = result.kept.length > 0 ? `; kept ${result.kept.join(', ')} (does not move)` : '';
      process.stdout.write(`shard ${name} draining: ${result.moved} moved, ${result.failed} failed${kept}${result.failed > 0 ? '; re-run to resume' : ''}\n`);
      return result.failed > 0 ? 1 : 0;
    }
    case 'remove': {
      const name = shardName(positionals, verb);
      const removed = await store.removeShard(name, { force: values['force'] === true });
      if (!removed) {
        process.stderr.write(`kcp-edge shards: shard "${name}" not found\n`);
        return 1;
      }
      process.stdout.write(`shard ${name} removed\n`);
      return 0;
    }
    default:
      throw new UsageError(verb === undefined ? USAGE : `unknown subcommand "${verb}"\n${USAGE}`);
  }
}

export const command: Command = {
  summary: 'manage the shards in the shared routing table (add, list, cordon, uncordon, drain, remove)',
  options: {
    ...redisOptions,
    ...outputOption,
    url: { type: 'string' },
    ca: { type: 'string' },
    label: { type: 'string', multiple: true },
    force: { type: 'boolean', default: false },
    kubeconfig: { type: 'string' },
    'client-cert': { type: 'string' },
    'client-key': { type: 'string' },
    parallel: { type: 'string' },
  },
  run: (values, positionals) => runWithStore('shards', values, (store) => run(store, values, positionals)),
};
