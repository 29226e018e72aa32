// Shared set-up for the stand-in shard's tests: a shard torn down with the test, and an admin client.
import type { TestContext } from 'node:test';
import { connectShards, createCertificateAuthority, startShard, type ApiClient, type CertificateAuthority, type SimShard, type StartShardOptions } from '../../src/sim/index.ts';

let sharedCA: Promise<CertificateAuthority> | undefined;
/** One CA per test process: certificates issued from it are cached, so shards start fast. */
export function testCA(): Promise<CertificateAuthority> {
  return (sharedCA ??= createCertificateAuthority('sim-test-ca'));
}

export async function shardForTest(t: TestContext, options: Partial<StartShardOptions> = {}): Promise<{ shard: SimShard; admin: ApiClient }> {
  const shard = await startShard({ name: 'shard-a', ca: await testCA(), ...options });
  t.after(() => shard.close());
  const admin = await shard.client();
  return { shard, admin };
}

export const cm = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(labels !== undefined ? { labels } : {}) },
  data,
});

export type Obj = { apiVersion?: string; kind?: string; metadata: { name: string; resourceVersion: string; [k: string]: unknown }; [k: string]: unknown };

/** Two shards that know each other (workspaces are scheduled across them), torn down with the test. */
export async function twoShardsForTest(t: TestContext): Promise<{ a: SimShard; b: SimShard; adminA: ApiClient; adminB: ApiClient }> {
  const ca = await testCA();
  const a = await startShard({ name: 'shard-a', ca });
  t.after(() => a.close());
  const b = await startShard({ name: 'shard-b', ca });
  t.after(() => b.close());
  connectShards(a, b);
  return { a, b, adminA: await a.client(), adminB: await b.client() };
}
