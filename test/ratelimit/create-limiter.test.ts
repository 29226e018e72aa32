import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createLimiter } from '../../src/ratelimit/create-limiter.ts';
import { startRedis } from '../helpers/redis.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';
import { req, tenantPolicy, user, ws } from './fixtures.ts';

const paged = req('GET', '/api/v1/namespaces/default/configmaps?limit=10');

test('createLimiter: policy file + Redis URL (with ?prefix=), metrics on the given registry', async (t) => {
  await using redis = await startRedis();
  await using tmp = await makeTempDir();
  const file = join(tmp.dir, 'ratelimit.yaml');
  await writeFile(file, tenantPolicy);
  const registry = new Registry();
  const limiter = await createLimiter({ policyFile: file, redis: `${redis.url}?prefix=edge-x:`, registry });
  t.after(() => limiter.close());
  // The first calls may be answered locally until the replica has registered; then the flow is shared.
  await waitFor(async () => /fallback 0$/m.test(await registry.getSingleMetricAsString('kcp_edge_ratelimit_local_fallback')), { what: 'shared mode' });
  const d = await limiter.admit(user('a'), paged, ws('org-a:p'));
  assert.equal(d.flowSchema.name, 'per-org');
  d.release();
  const { Redis } = await import('ioredis');
  const r = new Redis(redis.url);
  t.after(() => r.disconnect());
  assert.equal(await r.exists('edge-x:{rl:per-org/org-a}:rate'), 1);
  assert.match(await registry.metrics(), /kcp_edge_ratelimit_admitted_total\{priority_level="tenants",flow_schema="per-org"\} 1/);
});

test('createLimiter without Redis or file: in memory, built-in policy', async (t) => {
  const limiter = await createLimiter({});
  t.after(() => limiter.close());
  const d = await limiter.admit(user('a'), paged, {});
  assert.equal(d.allowed, true);
  assert.equal(d.priorityLevel.name, 'catch-all');
});
