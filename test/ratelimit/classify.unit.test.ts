import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classify } from '../../src/ratelimit/classify.ts';
import { parsePolicy } from '../../src/ratelimit/policy.ts';
import { req, user, ws } from './fixtures.ts';

const policy = await parsePolicy(`
costs: { default: 1, verbs: { deletecollection: 4 }, listWithoutLimit: 10 }
priorityLevels:
  - { name: ops, exempt: true }
  - { name: tenants, limits: { rate: 10, burst: 20 } }
  - { name: bots, limits: { rate: 1, burst: 10 } }
flowSchemas:
  - name: admins
    precedence: 10
    priorityLevel: ops
    rules: [{ groups: [platform-admins] }]
  - name: ci-watchers
    precedence: 50
    priorityLevel: bots
    distinguisher: byWorkspace
    rules:
      - users: ["ci-*"]
        workspaces: ["org-acme:*"]
        verbs: [watch, list]
        apiGroups: ["", apps]
        resources: [configmaps, "deployments/*"]
  - name: docs
    precedence: 60
    priorityLevel: bots
    rules: [{ nonResourcePaths: ["/openapi/*", /version] }]
  - name: tenants
    precedence: 100
    priorityLevel: tenants
    distinguisher: byOrg
    rules: [{ orgs: ["org-*"] }]
`);

const cases: { name: string; who: ReturnType<typeof user>; method: string; path: string; ws?: string; schema: string; level: string; flow: string; cost: number }[] = [
  { name: 'probe is exempt', who: user('anyone'), method: 'GET', path: '/readyz', schema: 'probes', level: 'exempt', flow: 'probes/', cost: 0 },
  {
    name: 'group match wins by precedence',
    who: user('ci-bot', 'platform-admins'),
    method: 'GET',
    path: '/api/v1/configmaps?watch=1',
    ws: 'org-acme:web',
    schema: 'admins',
    level: 'ops',
    flow: 'admins/',
    cost: 0,
  },
  {
    name: 'every field of a rule matches',
    who: user('ci-bot'),
    method: 'GET',
    path: '/api/v1/namespaces/x/configmaps?watch=true',
    ws: 'root:org-acme:web',
    schema: 'ci-watchers',
    level: 'bots',
    flow: 'ci-watchers/org-acme%3Aweb',
    cost: 1,
  },
  {
    name: 'subresource glob',
    who: user('ci-bot'),
    method: 'GET',
    path: '/apis/apps/v1/namespaces/x/deployments/d/status',
    ws: 'org-acme:web',
    schema: 'tenants',
    level: 'tenants',
    flow: 'tenants/org-acme',
    cost: 1,
  },
  {
    name: 'one field failing (verb) falls through',
    who: user('ci-bot'),
    method: 'POST',
    path: '/api/v1/namespaces/x/configmaps',
    ws: 'org-acme:web',
    schema: 'tenants',
    level: 'tenants',
    flow: 'tenants/org-acme',
    cost: 1,
  },
  {
    name: 'workspace glob outside the org falls through',
    who: user('ci-bot'),
    method: 'GET',
    path: '/api/v1/configmaps',
    ws: 'org-beta:web',
    schema: 'tenants',
    level: 'tenants',
    flow: 'tenants/org-beta',
    cost: 10,
  },
  {
    name: 'list with limit costs the default',
    who: user('ci-bot'),
    method: 'GET',
    path: '/api/v1/configmaps?limit=500',
    ws: 'org-beta:web',
    schema: 'tenants',
    level: 'tenants',
    flow: 'tenants/org-beta',
    cost: 1,
  },
  {
    name: 'deletecollection cost from costs.verbs',
    who: user('u'),
    method: 'DELETE',
    path: '/api/v1/namespaces/x/configmaps',
    ws: 'org-beta:web',
    schema: 'tenants',
    level: 'tenants',
    flow: 'tenants/org-beta',
    cost: 4,
  },
  { name: 'non-resource path', who: user('u'), method: 'GET', path: '/openapi/v3', ws: 'org-beta:web', schema: 'docs', level: 'bots', flow: 'docs/', cost: 1 },
  {
    name: 'resource path never matches a non-resource rule',
    who: user('u'),
    method: 'GET',
    path: '/version/x',
    schema: 'catch-all',
    level: 'catch-all',
    flow: 'catch-all/u',
    cost: 1,
  },
  {
    name: 'no org falls to the catch-all by user',
    who: user('al/ice'),
    method: 'GET',
    path: '/api/v1/namespaces',
    schema: 'catch-all',
    level: 'catch-all',
    flow: 'catch-all/al%2Fice',
    cost: 10,
  },
];

for (const c of cases) {
  test(`classify: ${c.name}`, () => {
    const got = classify(policy, c.who, req(c.method, c.path), c.ws === undefined ? {} : ws(c.ws));
    assert.deepEqual(
      { schema: got.flowSchema.name, level: got.priorityLevel.name, flow: got.flowKey, cost: got.cost },
      { schema: c.schema, level: c.level, flow: c.flow, cost: c.cost },
    );
  });
}
