import assert from 'node:assert/strict';
import { writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { classify, type Classification } from '../../src/ratelimit/classify.ts';
import { FlowCache } from '../../src/ratelimit/flow-cache.ts';
import { MemoryLimiter } from '../../src/ratelimit/memory-limiter.ts';
import { parsePolicy } from '../../src/ratelimit/policy.ts';
import { filePolicy } from '../../src/ratelimit/policy-source.ts';
import { makeTempDir, waitFor } from '../helpers/wait.ts';
import { req, tenantPolicy, user, ws } from './fixtures.ts';

const policy = await parsePolicy(`
costs: { listWithoutLimit: 5 }
priorityLevels:
  - { name: tenants, limits: { rate: 100, burst: 100 } }
  - { name: ops, exempt: true }
flowSchemas:
  - { name: admins, precedence: 10, priorityLevel: ops, rules: [{ groups: [admins] }] }
  - { name: per-org, precedence: 100, priorityLevel: tenants, distinguisher: byOrg, rules: [{ orgs: ["org-*"] }] }
`);

/** A cache over classify() that counts how often it had to classify. */
function counting(maxEntries?: number) {
  let built = 0;
  const cache = new FlowCache<Classification>((p, identity, attrs, context) => {
    built++;
    return classify(p, identity, attrs, context);
  }, maxEntries);
  return { cache, built: () => built };
}

test('the same request shape is classified once, and the cached answer is what classify() gives', () => {
  const { cache, built } = counting();
  const list = req('GET', '/api/v1/namespaces/default/configmaps?limit=10');
  const first = cache.get(policy, user('alice'), list, ws('org-a:p'));
  // Another request of the same shape: new attribute, identity and context objects, other namespace.
  const again = cache.get(policy, user('alice'), req('GET', '/api/v1/namespaces/other/configmaps?limit=5'), ws('org-a:p'));
  assert.equal(again, first);
  assert.equal(built(), 1);
  assert.deepEqual(first, classify(policy, user('alice'), list, ws('org-a:p')));
  assert.equal(cache.size, 1);
});

test('whatever classify() reads tells requests apart', () => {
  const { cache, built } = counting();
  const base = { who: user('alice'), attrs: req('GET', '/api/v1/configmaps?limit=1'), where: ws('org-a:p') };
  const variants = [
    base,
    { ...base, who: user('bob') },
    { ...base, who: user('alice', 'admins') },
    { ...base, where: ws('org-b:p') },
    { ...base, where: { workspace: 'root:org-a:p', org: 'org-other' } },
    { ...base, where: {} },
    { ...base, attrs: req('GET', '/api/v1/configmaps') },
    { ...base, attrs: req('GET', '/api/v1/configmaps?watch=1') },
    { ...base, attrs: req('GET', '/apis/apps/v1/deployments?limit=1') },
    { ...base, attrs: req('GET', '/api/v1/namespaces/default/pods/p/log') },
    { ...base, attrs: req('GET', '/version') },
    { ...base, attrs: req('GET', '/healthz') },
  ];
  for (const v of variants) {
    const got = cache.get(policy, v.who, v.attrs, v.where);
    assert.deepEqual(got, classify(policy, v.who, v.attrs, v.where), JSON.stringify(v));
  }
  assert.equal(built(), variants.length);
  // A list with and without ?limit= differ in cost only, and both are kept.
  assert.equal(cache.get(policy, user('alice'), req('GET', '/api/v1/configmaps'), ws('org-a:p')).cost, 5);
  assert.equal(cache.get(policy, user('alice'), req('GET', '/api/v1/configmaps?limit=1'), ws('org-a:p')).cost, 1);
  // The group change replaced alice's entry in place; asking for each again classifies again, not wrongly.
  assert.equal(cache.get(policy, user('alice', 'admins'), base.attrs, base.where).flowSchema.name, 'admins');
  assert.equal(cache.get(policy, user('alice'), base.attrs, base.where).flowSchema.name, 'per-org');
});

test('a mutable identity whose groups change after it was classified is classified again', () => {
  const { cache } = counting();
  const alice = user('alice');
  const attrs = req('GET', '/api/v1/configmaps?limit=1');
  assert.equal(cache.get(policy, alice, attrs, ws('org-a:p')).flowSchema.name, 'per-org');
  alice.groups.push('admins');
  assert.equal(cache.get(policy, alice, attrs, ws('org-a:p')).flowSchema.name, 'admins');
});

test('the cache holds at most its bound, then starts over', () => {
  const { cache, built } = counting(3);
  const attrs = req('GET', '/api/v1/configmaps?limit=1');
  for (let i = 0; i < 3; i++) cache.get(policy, user(`u${i}`), attrs, ws('org-a:p'));
  assert.equal(cache.size, 3);
  cache.get(policy, user('u0'), attrs, ws('org-a:p'));
  assert.equal(built(), 3, 'still held');
  cache.get(policy, user('u3'), attrs, ws('org-a:p'));
  assert.equal(cache.size, 1, 'started over with the newcomer');
  cache.get(policy, user('u0'), attrs, ws('org-a:p'));
  assert.equal(built(), 5);
  assert.equal(cache.size, 2);
});

test('a request of a very long shape is classified but not kept', () => {
  const { cache, built } = counting();
  const long = req('GET', `/${'x'.repeat(600)}`);
  assert.equal(cache.get(policy, user('alice'), long, ws('org-a:p')).flowSchema.name, 'per-org');
  cache.get(policy, user('alice'), long, ws('org-a:p'));
  assert.equal(built(), 2);
  assert.equal(cache.size, 0);
});

test('another policy object empties the cache', async () => {
  const { cache, built } = counting();
  const attrs = req('GET', '/api/v1/configmaps?limit=1');
  assert.equal(cache.get(policy, user('alice'), attrs, ws('org-a:p')).flowSchema.name, 'per-org');
  const reloaded = await parsePolicy(`
flowSchemas:
  - { name: per-user, precedence: 100, priorityLevel: catch-all, distinguisher: byUser, rules: [{ orgs: ["org-*"] }] }
`);
  assert.equal(cache.get(reloaded, user('alice'), attrs, ws('org-a:p')).flowSchema.name, 'per-user');
  assert.equal(built(), 2);
  assert.equal(cache.size, 1);
});

test('the memory limiter follows a reloaded policy file with its flows cached', async (t) => {
  await using tmp = await makeTempDir();
  const file = join(tmp.dir, 'ratelimit.yaml');
  await writeFile(file, tenantPolicy);
  let reloads = 0;
  const source = await filePolicy(file, { onChange: () => void reloads++, debounceMs: 20 });
  const l = new MemoryLimiter({ policy: source });
  t.after(async () => {
    source.close();
    await l.close();
  });
  const paged = req('GET', '/api/v1/configmaps?limit=1');
  const held = l.admit(user('a'), paged, ws('org-a:p'));
  assert.equal(held.flowSchema.name, 'per-org');
  const second = l.admit(user('a'), paged, ws('org-a:p'));
  assert.equal(second.allowed, true, 'maxInFlight 3');
  second.release();
  assert.equal(l.cachedFlows, 1);
  await writeFile(`${file}.new`, tenantPolicy.replace('maxInFlight: 3', 'maxInFlight: 1'));
  await rename(`${file}.new`, file);
  await waitFor(() => reloads > 0, { what: 'reload' });
  // The flow kept from the old policy would admit a second request in flight; the reloaded limit does not.
  const next = l.admit(user('a'), paged, ws('org-a:p'));
  assert.equal(next.allowed, false);
  assert.match(next.message!, /at most 1 at a time/);
  held.release();
  assert.equal(l.admit(user('a'), paged, ws('org-a:p')).allowed, true);
});
