import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { classify } from '../../src/ratelimit/classify.ts';
import { loadPolicyFile } from '../../src/ratelimit/policy.ts';
import { req, user, ws } from './fixtures.ts';

test('the shipped example policy is valid and routes the way its comments say', async () => {
  const policy = await loadPolicyFile(fileURLToPath(new URL('../../config/ratelimit.yaml', import.meta.url)));
  const pick = (who: ReturnType<typeof user>, method: string, path: string, workspace?: string) => {
    const c = classify(policy, who, req(method, path), workspace === undefined ? {} : ws(workspace));
    return `${c.flowSchema.name}→${c.priorityLevel.name} ${c.flowKey} cost ${c.cost}`;
  };
  assert.equal(pick(user('ops', 'platform:admins'), 'GET', '/api/v1/pods', 'org-acme:web'), 'platform-admins→platform platform-admins/ cost 0');
  assert.equal(pick(user('flux-system'), 'GET', '/api/v1/configmaps?watch=1', 'org-acme:web'), 'gitops-agents→bulk gitops-agents/org-acme cost 1');
  assert.equal(pick(user('flux-system'), 'POST', '/api/v1/namespaces/x/configmaps', 'org-acme:web'), 'tenant-users→tenants tenant-users/flux-system cost 1');
  assert.equal(pick(user('alice'), 'GET', '/api/v1/configmaps', 'org-acme:web'), 'tenant-users→tenants tenant-users/alice cost 5');
  assert.equal(pick(user('alice'), 'GET', '/readyz', 'org-acme:web'), 'probes→exempt probes/ cost 0');
  assert.equal(pick(user('alice'), 'GET', '/version'), 'catch-all→catch-all catch-all/alice cost 1');
});
