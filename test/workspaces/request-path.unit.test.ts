import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGatewayError } from '../../src/kube/gateway-error.ts';
import { orgOf, parseRequestPath, upstreamPath } from '../../src/workspaces/request-path.ts';

const accepted: [path: string, keys: (string | [string, string])[], routeBy: number, rest: string, upstream: string][] = [
  ['/clusters/root:org-acme:proj-frontend/api/v1/pods', ['root:org-acme:proj-frontend'], 0, '/api/v1/pods', '/clusters/C0/api/v1/pods'],
  ['/clusters/org-acme:proj-frontend/api', ['root:org-acme:proj-frontend'], 0, '/api', '/clusters/C0/api'],
  ['/clusters/root', ['root'], 0, '', '/clusters/C0'],
  ['/clusters/root/', ['root'], 0, '/', '/clusters/C0/'],
  ['/clusters/2x8f7ab3/apis', [['2x8f7ab3', 'root:2x8f7ab3']], 0, '/apis', '/clusters/C0/apis'],
  [
    '/clusters/a-1:b/apis/x.io/v1/namespaces/n/things/t%3Av/status',
    ['root:a-1:b'],
    0,
    '/apis/x.io/v1/namespaces/n/things/t%3Av/status',
    '/clusters/C0/apis/x.io/v1/namespaces/n/things/t%3Av/status',
  ],
  [
    '/services/apiexport/root:org-acme:svc/databases.example.io/clusters/*/apis/example.io/v1/databases',
    ['root:org-acme:svc'],
    0,
    '/apis/example.io/v1/databases',
    '/services/apiexport/C0/databases.example.io/clusters/*/apis/example.io/v1/databases',
  ],
  // What client-go sends for a server URL ending in /clusters/*.
  ['/services/apiexport/root:org-acme:svc/db/clusters/%2A/api', ['root:org-acme:svc'], 0, '/api', '/services/apiexport/C0/db/clusters/*/api'],
  ['/services/apiexport/root:org-acme:svc/db/clusters/org-acme:proj/api', ['root:org-acme:svc', 'root:org-acme:proj'], 1, '/api', '/services/apiexport/C0/db/clusters/C1/api'],
  ['/clusters/root/api/v1/configmaps/caf%C3%A9%20x', ['root'], 0, '/api/v1/configmaps/caf%C3%A9%20x', '/clusters/C0/api/v1/configmaps/caf%C3%A9%20x'],
  ['/services/initializingworkspaces/init-a/clusters/root:org-acme:proj/api', ['root:org-acme:proj'], 0, '/api', '/services/initializingworkspaces/init-a/clusters/C0/api'],
  // One shard's APIExport virtual workspace: the shard goes, kcp's own path stays.
  [
    '/shards/shard-b/services/apiexport/c-prov/db/clusters/%2A/apis/x.io/v1/dbs',
    [['c-prov', 'root:c-prov']],
    0,
    '/apis/x.io/v1/dbs',
    '/services/apiexport/C0/db/clusters/*/apis/x.io/v1/dbs',
  ],
  [
    '/shards/shard-b/services/apiexport/c-prov/db/clusters/c-1/api',
    [
      ['c-prov', 'root:c-prov'],
      ['c-1', 'root:c-1'],
    ],
    1,
    '/api',
    '/services/apiexport/C0/db/clusters/C1/api',
  ],
];

test('accepted workspace paths: lookup keys, routing workspace, rest and upstream rewrite', () => {
  for (const [path, keys, routeBy, rest, upstream] of accepted) {
    const parsed = parseRequestPath(path);
    assert.deepEqual(
      parsed.refs.map((r) => (r.fallbackKey === undefined ? r.key : [r.key, r.fallbackKey])),
      keys,
      path,
    );
    assert.equal(parsed.routeBy, routeBy, path);
    assert.equal(parsed.rest, rest, path);
    assert.equal(upstreamPath(parsed, ['C0', 'C1']), upstream, path);
  }
});

const rejected: [path: string, code: number][] = [
  ['/', 404],
  ['/api/v1/pods', 404],
  ['/clusters', 404],
  ['/clusters/', 404],
  ['/clustersx/root/api', 404],
  ['/shards/shard-a', 404],
  ['/shards/shard-a/clusters/root/api', 404],
  ['/shards/shard-a/services/initializingworkspaces/i/clusters/root/api', 404],
  ['/shards/Shard_A/services/apiexport/c/db/clusters/*/api', 400],
  ['/clusters/root/../root:other/api', 400],
  ['/clusters/root/./api', 400],
  ['/clusters/root/api/%2e%2e/x', 400],
  ['/clusters/root/api/%2E%2E/x', 400],
  ['/clusters/root%2fother/api', 400],
  ['/clusters/root/api%2Fv1', 400],
  ['/clusters/root/api%5cv1', 400],
  ['/clusters/root\\other/api', 400],
  // Malformed or ambiguous percent-encoding: decoders disagree on it, so it never reaches a shard.
  ['/clusters/root/api/v1/namespaces/%u002e%u002e/pods', 400],
  ['/clusters/root/api/v1/namespaces/%c0%ae%c0%ae/pods', 400],
  ['/clusters/root/api/v1/configmaps/%e0%80%ae', 400],
  ['/clusters/root/api/v1/configmaps/%ff', 400],
  ['/clusters/root/api/v1/configmaps/%ed%a0%80', 400],
  ['/clusters/root/api/v1/configmaps/%e2%82', 400],
  ['/clusters/root/api/v1/configmaps/%zz', 400],
  ['/clusters/root/api/v1/configmaps/a%2', 400],
  ['/clusters/root/api/v1/configmaps/a%', 400],
  ['/clusters//root/api', 400],
  ['/clusters/root//api', 400],
  ['//clusters/root/api', 400],
  ['/clusters/Root:org/api', 400],
  ['/clusters/root:Org/api', 400],
  ['/clusters/root:org_x/api', 400],
  ['/clusters/root::org/api', 400],
  ['/clusters/root:org:/api', 400],
  ['/clusters/:org/api', 400],
  ['/clusters/-org/api', 400],
  ['/clusters/org-/api', 400],
  ['/clusters/*/api', 400],
  ['/clusters/root:*/api', 400],
  [`/clusters/root:${'a'.repeat(64)}/api`, 400],
  [`/clusters/${Array.from({ length: 40 }, () => 'abcdefg').join(':')}/api`, 400],
  [`/clusters/root/api/${'x'.repeat(5000)}`, 400],
  ['/services/apiexport/root:org/exp/clusters', 404],
  ['/services/apiexport/root:org/exp/other/x/api', 404],
  ['/services/apiexport/root:Org/exp/clusters/*/api', 400],
  ['/services/apiexport/root:org/Exp/clusters/*/api', 400],
  ['/services/other/x/clusters/*/api', 404],
  ['/services/other/x/y', 404],
  ['/services', 404],
  ['relative/path', 400],
];

test('rejected paths: 400 for malformed, 404 for what the gateway does not serve', () => {
  for (const [path, code] of rejected) {
    assert.throws(
      () => parseRequestPath(path),
      (err: unknown) => isGatewayError(err) && err.httpStatus === code,
      `${path} should be ${code}`,
    );
  }
});

test('orgOf reads the first segment after root', () => {
  assert.equal(orgOf('root:org-acme:proj'), 'org-acme');
  assert.equal(orgOf('root:org-acme'), 'org-acme');
  assert.equal(orgOf('root'), undefined);
  assert.equal(orgOf('2x8f7ab3'), undefined);
});

test('a shard-qualified path names its shard; other paths name none', () => {
  assert.equal(parseRequestPath('/shards/shard-b/services/apiexport/c-prov/db/clusters/*/api').shard, 'shard-b');
  assert.equal(parseRequestPath('/services/apiexport/c-prov/db/clusters/*/api').shard, undefined);
  assert.equal(parseRequestPath('/clusters/root/api').shard, undefined);
});
