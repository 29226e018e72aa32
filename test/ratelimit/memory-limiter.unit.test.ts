import assert from 'node:assert/strict';
import { writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { MemoryLimiter } from '../../src/ratelimit/memory-limiter.ts';
import { registerRateLimitMetrics } from '../../src/ratelimit/metrics.ts';
import { parsePolicy, stableUid } from '../../src/ratelimit/policy.ts';
import { filePolicy, staticPolicy } from '../../src/ratelimit/policy-source.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';
import { req, tenantPolicy, user, ws } from './fixtures.ts';

async function limiter(policyText = tenantPolicy, registry = new Registry()): Promise<MemoryLimiter> {
  return new MemoryLimiter({ policy: staticPolicy(await parsePolicy(policyText)), metrics: registerRateLimitMetrics(registry) });
}

const paged = req('GET', '/api/v1/namespaces/default/configmaps?limit=10');

test('a flow gets its burst, then 429 with Retry-After from the bucket and a readable message', async (t) => {
  const l = await limiter();
  t.after(() => l.close());
  const who = user('alice');
  for (let i = 0; i < 5; i++) {
    const d = await l.admit(who, paged, ws('org-acme:web'));
    assert.equal(d.allowed, true, `request ${i}`);
    assert.equal(d.flowSchema.uid, stableUid('flowschema', 'per-org'));
    assert.equal(d.priorityLevel.uid, stableUid('prioritylevel', 'tenants'));
    d.release();
  }
  const denied = await l.admit(who, paged, ws('org-acme:web'));
  assert.equal(denied.allowed, false);
  // Rate 2/s: the next unit fits in 0.5 s, so whole seconds round up to 1.
  assert.equal(denied.retryAfterSeconds, 1);
  assert.match(denied.message!, /too many requests for organisation "org-acme" \(flow schema "per-org", priority level "tenants"\): the limit is 2 per second with bursts of 5/);
});

test('a noisy org is limited while another org keeps its full share', async (t) => {
  const l = await limiter();
  t.after(() => l.close());
  let noisyAllowed = 0;
  for (let i = 0; i < 50; i++) {
    const d = await l.admit(user(`noisy-${i}`), paged, ws('org-noisy:p'));
    if (d.allowed) noisyAllowed++;
    d.release();
  }
  assert.equal(noisyAllowed, 5);
  for (let i = 0; i < 5; i++) {
    const d = await l.admit(user('quiet'), paged, ws('org-quiet:p'));
    assert.equal(d.allowed, true);
    d.release();
  }
});

test('one of two worker processes enforces half of each limit (burst 5 → 3, rounded up)', async (t) => {
  const l = new MemoryLimiter({ policy: staticPolicy(await parsePolicy(tenantPolicy)), share: 1 / 2 });
  t.after(() => l.close());
  let allowed = 0;
  for (let i = 0; i < 10; i++) {
    const d = await l.admit(user('alice'), paged, ws('org-acme:web'));
    if (d.allowed) allowed++;
    d.release();
  }
  assert.equal(allowed, 3);
});

test('an unbounded list costs listWithoutLimit units', async (t) => {
  const l = await limiter();
  t.after(() => l.close());
  const full = req('GET', '/api/v1/configmaps');
  assert.equal((await l.admit(user('a'), full, ws('org-a:p'))).allowed, true);
  const second = await l.admit(user('a'), full, ws('org-a:p'));
  assert.equal(second.allowed, false);
  // Five units at 2/s: the bucket needs 2.5 s before another five fit.
  assert.equal(second.retryAfterSeconds, 3);
});

test('exempt probes are never limited', async (t) => {
  const l = await limiter(tenantPolicy.replace('rate: 2, burst: 5', 'rate: 0.001, burst: 5'));
  t.after(() => l.close());
  for (let i = 0; i < 2000; i++) {
    const d = await l.admit(user('kubelet'), req('GET', '/readyz'), ws('org-acme:web'));
    assert.equal(d.allowed, true);
    assert.equal(d.priorityLevel.name, 'exempt');
  }
});

test('open watches are counted per flow and released once, however often release() is called', async (t) => {
  const registry = new Registry();
  const l = await limiter(tenantPolicy, registry);
  t.after(() => l.close());
  const watch = req('GET', '/api/v1/configmaps?watch=1');
  const a = await l.admit(user('a'), watch, ws('org-a:p'));
  const b = await l.admit(user('b'), watch, ws('org-a:p'));
  assert.ok(a.allowed && b.allowed);
  const third = await l.admit(user('c'), watch, ws('org-a:p'));
  assert.equal(third.allowed, false);
  assert.match(third.message!, /too many open watches .*at most 2 at a time/);
  assert.equal((await l.admit(user('c'), watch, ws('org-other:p'))).allowed, true, 'another flow has its own slots');
  const gauge = await registry.getSingleMetricAsString('kcp_edge_ratelimit_open_watches');
  assert.match(gauge, /kcp_edge_ratelimit_open_watches\{priority_level="tenants"\} 3/);
  a.release();
  a.release();
  const again = await l.admit(user('c'), watch, ws('org-a:p'));
  assert.equal(again.allowed, true);
  assert.equal((await l.admit(user('d'), watch, ws('org-a:p'))).allowed, false, 'double release freed only one slot');
});

test('policy reload applies to the next request; admitted watches keep their slot', async (t) => {
  await using tmp = await makeTempDir();
  const file = join(tmp.dir, 'ratelimit.yaml');
  await writeFile(file, tenantPolicy);
  const reloads: unknown[] = [];
  const errors: unknown[] = [];
  const source = await filePolicy(file, { onChange: (p) => void reloads.push(p), onRejected: (e) => errors.push(e), debounceMs: 20 });
  const l = new MemoryLimiter({ policy: source });
  t.after(async () => {
    source.close();
    await l.close();
  });
  const watch = req('GET', '/api/v1/configmaps?watch=1');
  const held = await l.admit(user('a'), watch, ws('org-a:p'));
  assert.equal(held.priorityLevel.name, 'tenants');

  // An invalid edit keeps the policy in force and reports the field.
  await writeFile(file, tenantPolicy.replace('rate: 2', 'rate: -1'));
  await waitFor(() => errors.length > 0, { what: 'reload error' });
  assert.match(String(errors[0]), /ratelimit\.yaml:\d+:\d+: priorityLevels\[0\]\.limits\.rate: must be > 0/);
  assert.equal((await l.admit(user('a'), paged, ws('org-a:p'))).priorityLevel.name, 'tenants');

  // Replaced the way editors and ConfigMap mounts do it: write aside, rename over.
  await writeFile(`${file}.new`, tenantPolicy.replace('orgs: ["org-*"]', 'orgs: ["org-b*"]'));
  await rename(`${file}.new`, file);
  await waitFor(() => reloads.length > 0, { what: 'reload' });
  const next = await l.admit(user('a'), paged, ws('org-a:p'));
  assert.equal(next.flowSchema.name, 'catch-all');
  held.release();
});

test('metrics per priority level go to the registry the caller passes', async (t) => {
  const registry = new Registry();
  const l = await limiter(tenantPolicy, registry);
  t.after(() => l.close());
  for (let i = 0; i < 7; i++) (await l.admit(user('m'), paged, ws('org-m:p'))).release();
  (await l.admit(user('m'), req('GET', '/livez'), ws('org-m:p'))).release();
  const text = await registry.metrics();
  assert.match(text, /kcp_edge_ratelimit_admitted_total\{priority_level="tenants",flow_schema="per-org"\} 5/);
  assert.match(text, /kcp_edge_ratelimit_rejected_total\{priority_level="tenants",flow_schema="per-org",reason="rate"\} 2/);
  assert.match(text, /kcp_edge_ratelimit_admitted_total\{priority_level="exempt",flow_schema="probes"\} 1/);
  assert.match(text, /kcp_edge_ratelimit_current_rate\{priority_level="tenants"\} 0\.5/);
  assert.match(text, /kcp_edge_ratelimit_in_flight\{priority_level="tenants"\} 0/);
  assert.match(text, /kcp_edge_ratelimit_local_fallback 0/);
});
