// What the operator commands share: finding Redis (--redis or KCP_EDGE_REDIS_URL), printing results
// as json, yaml or a table, and turning failures into one line on stderr with a non-zero exit.
import { stringify } from 'yaml';
import type { OptionValues } from '../../cli.ts';
import { parseRedisUrl } from '../redis-connection.ts';
import { RedisRouteStore } from '../redis-route-store.ts';
import { RouteStoreError } from '../route-store.ts';

export const REDIS_URL_ENV = 'KCP_EDGE_REDIS_URL';

export const redisOption = { redis: { type: 'string' } } as const;
export const outputOption = { output: { type: 'string', short: 'o', default: 'table' } } as const;

/** A usage problem: exit 2 like any other bad invocation. */
export class UsageError extends Error {}

export function redisUrl(values: OptionValues): string {
  const url = typeof values['redis'] === 'string' ? values['redis'] : process.env[REDIS_URL_ENV];
  if (url === undefined || url === '') throw new UsageError(`no Redis: pass --redis URL or set ${REDIS_URL_ENV}`);
  return url;
}

export function openStore(values: OptionValues): RedisRouteStore {
  let config;
  try {
    config = parseRedisUrl(redisUrl(values));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
  return RedisRouteStore.connect(config, { noRetry: true });
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
  return cells.map((line) => line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
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
    return report(name, err);
  } finally {
    await store.close();
  }
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
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`kcp-edge ${name}: ${/ECONNREFUSED|Connection is closed|ENOTFOUND|ETIMEDOUT/.test(message) ? `cannot reach Redis: ${message}` : message}\n`);
  return 1;
}
