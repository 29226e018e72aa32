// What the operator commands share: finding Redis (--redis and the --redis-* flags, or their
// KCP_EDGE_REDIS_* variables: redis-flags.ts), printing results as json, yaml or a table, and turning
// failures into one line on stderr with a non-zero exit.
import { stringify } from 'yaml';
import type { OptionValues } from '../../command/types.ts';
import { classifyRedisError, type RedisConnectionConfig } from '../redis-connection.ts';
import { REDIS_URL_ENV, redisConnectionFromFlags, RedisFlagError, redisFlags } from '../redis-flags.ts';
import { RedisRouteStore } from '../redis-route-store.ts';
import { RouteStoreError } from '../route-store.ts';

export { REDIS_URL_ENV };

export const redisOptions = redisFlags;
export const outputOption = { output: { type: 'string', short: 'o', default: 'table' } } as const;

/** A usage problem: exit 2 like any other bad invocation. */
export class UsageError extends Error {}

/** The connection the flags and environment describe; a UsageError when there is none or it is contradictory. */
export function redisConnection(values: OptionValues): RedisConnectionConfig {
  let config: RedisConnectionConfig | undefined;
  try {
    config = redisConnectionFromFlags({ values, env: process.env });
  } catch (err) {
    if (err instanceof RedisFlagError) throw new UsageError(err.message);
    throw err;
  }
  if (config === undefined) throw new UsageError(`no Redis: pass --redis URL or set ${REDIS_URL_ENV}`);
  return config;
}

export function openStore(values: OptionValues): RedisRouteStore {
  return RedisRouteStore.connect(redisConnection(values), { noRetry: true });
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function requireOption(values: OptionValues, name: string, what: string): string {
  const v = stringOption(values, name);
  if (v === undefined || v === '') throw new UsageError(`--${name} is required (${what})`);
  return v;
}

export type OutputFormat = 'json' | 'yaml' | 'table';

export function outputFormat(values: OptionValues): OutputFormat {
  const v = stringOption(values, 'output') ?? 'table';
  if (v !== 'json' && v !== 'yaml' && v !== 'table') throw new UsageError(`--output must be json, yaml or table, not "${v}"`);
  return v;
}

export interface Column<T> {
  header: string;
  value(row: T): string;
}

/** Prints one object or a list; `table` prints rows under upper-case headers, like kubectl. */
export function render<T>(format: OutputFormat, data: T | T[], columns: Column<T>[]): string {
  if (format === 'json') return JSON.stringify(data, null, 2) + '\n';
  if (format === 'yaml') return stringify(data);
  const rows = Array.isArray(data) ? data : [data];
  const cells = [columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => c.value(r)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return (
    cells
      .map((line) =>
        line
          .map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]! + 3)))
          .join('')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** Runs one operator command: store errors and Redis trouble become one stderr line and exit 1. */
export async function runWithStore(name: string, values: OptionValues, body: (store: RedisRouteStore) => Promise<number>): Promise<number> {
  let store: RedisRouteStore;
  try {
    store = openStore(values);
  } catch (err) {
    return report(name, err);
  }
  try {
    return await body(store);
  } catch (err) {
    return report(name, whyFailed(err, store));
  } finally {
    await store.close();
  }
}

/** The connection error behind a command that failed only because there was no connection. */
export function whyFailed(err: unknown, store: RedisRouteStore): unknown {
  return err instanceof Error && err.message === 'Connection is closed.' && store.connectionError !== undefined ? store.connectionError : err;
}

export function report(name: string, err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`kcp-edge ${name}: ${err.message}\n`);
    return 2;
  }
  if (err instanceof RouteStoreError) {
    process.stderr.write(`kcp-edge ${name}: ${err.message}\n`);
    return 1;
  }
  process.stderr.write(`kcp-edge ${name}: ${describeRedisFailure(err)}\n`);
  return 1;
}

/** One line saying what went wrong, in the operator's terms where the cause is recognised. */
export function describeRedisFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  switch (classifyRedisError(message)) {
    case 'credentials':
      return /sentinel/i.test(message)
        ? `a Redis Sentinel refused the credentials (--redis-sentinel-user, --redis-sentinel-password-file): ${message}`
        : `Redis refused the credentials (--redis-user, --redis-password-file): ${message}`;
    case 'permission':
      return `the Redis user lacks a permission kcp-edge needs: ${message}`;
    case 'tls':
      return `TLS connection to Redis failed (--redis-ca-file, --redis-server-name): ${message}`;
    case 'unreachable':
      return `cannot reach Redis: ${message}`;
    case 'other':
      return message;
  }
}
