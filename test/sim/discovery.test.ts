import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shardForTest } from './fixture.ts';

const aggregatedAccept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';

test('legacy discovery: /api, /apis, group and version documents', async (t) => {
  const { admin } = await shardForTest(t);
  const api = await admin.request<{ kind: string; versions: string[] }>('GET', '/clusters/root/api');
  assert.deepEqual([api.body.kind, api.body.versions], ['APIVersions', ['v1']]);

  const core = await admin.request<{ resources: Array<{ name: string; namespaced: boolean; kind: string; verbs: string[]; shortNames?: string[] }> }>(
    'GET',
    '/clusters/root/api/v1',
  );
  const byName = new Map(core.body.resources.map((r) => [r.name, r]));
  assert.equal(byName.get('configmaps')?.namespaced, true);
  assert.deepEqual(byName.get('namespaces')?.shortNames, ['ns']);
  assert.equal(byName.get('pods/exec')?.kind, 'PodExecOptions');
  assert.ok(byName.get('secrets')?.verbs.includes('watch'));

  const groups = await admin.request<{ kind: string; groups: Array<{ name: string }> }>('GET', '/clusters/root/apis');
  const names = groups.body.groups.map((g) => g.name);
  for (const g of ['tenancy.kcp.io', 'core.kcp.io', 'apis.kcp.io', 'rbac.authorization.k8s.io', 'authentication.k8s.io']) assert.ok(names.includes(g), g);

  const group = await admin.request<{ kind: string; preferredVersion: { groupVersion: string } }>('GET', '/clusters/root/apis/tenancy.kcp.io');
  assert.deepEqual([group.body.kind, group.body.preferredVersion.groupVersion], ['APIGroup', 'tenancy.kcp.io/v1alpha1']);
  assert.equal((await admin.request('GET', '/clusters/root/apis/nope.example.com/v1')).status, 404);
});

test('aggregated discovery by Accept header', async (t) => {
  const { admin } = await shardForTest(t);
  const apis = await admin.request<{
    kind: string;
    apiVersion: string;
    items: Array<{
      metadata: { name?: string };
      versions: Array<{ version: string; resources: Array<{ resource: string; scope: string; subresources?: Array<{ subresource: string }> }> }>;
    }>;
  }>('GET', '/clusters/root/apis', { headers: { accept: aggregatedAccept } });
  assert.equal(apis.headers['content-type'], 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
  assert.deepEqual([apis.body.kind, apis.body.apiVersion], ['APIGroupDiscoveryList', 'apidiscovery.k8s.io/v2']);
  const tenancy = apis.body.items.find((i) => i.metadata.name === 'tenancy.kcp.io');
  const workspaces = tenancy?.versions[0]?.resources.find((r) => r.resource === 'workspaces');
  assert.equal(workspaces?.scope, 'Cluster');
  assert.deepEqual(
    workspaces?.subresources?.map((s) => s.subresource),
    ['status'],
  );

  const core = await admin.request<{ items: Array<{ versions: Array<{ resources: Array<{ resource: string }> }> }> }>('GET', '/clusters/root/api', {
    headers: { accept: aggregatedAccept },
  });
  assert.equal(core.body.items.length, 1);
  assert.ok(core.body.items[0]?.versions[0]?.resources.some((r) => r.resource === 'pods'));
});

test('version and the openapi v3 index kubectl reads', async (t) => {
  const { admin } = await shardForTest(t);
  const v = await admin.request<{ gitVersion: string; minor: string }>('GET', '/version');
  assert.match(v.body.gitVersion, /^v1\.32\./);
  const index = await admin.request<{ paths: Record<string, { serverRelativeURL: string }> }>('GET', '/clusters/root/openapi/v3');
  const entry = index.body.paths['api/v1'];
  assert.ok(entry);
  const doc = await admin.request<{ paths: Record<string, { patch: { parameters: Array<{ name: string }> } }> }>('GET', entry.serverRelativeURL);
  const patch = doc.body.paths['/api/v1/namespaces/{namespace}/configmaps/{name}']?.patch;
  assert.ok(patch?.parameters.some((p) => p.name === 'fieldValidation'));
});

test('version and health answer under every logical cluster, as on kcp', async (t) => {
  const { admin } = await shardForTest(t);
  for (const prefix of ['', '/clusters/root', '/clusters/root:org-acme']) {
    const v = await admin.request<{ major: string }>('GET', `${prefix}/version`);
    assert.equal(v.status, 200, `${prefix}/version: ${v.text}`);
    assert.equal(v.body.major, '1');
    for (const probe of ['healthz', 'livez', 'readyz']) {
      const r = await admin.request('GET', `${prefix}/${probe}`);
      assert.deepEqual([r.status, r.text], [200, 'ok'], `${prefix}/${probe}`);
      const check = await admin.request('GET', `${prefix}/${probe}/ping`);
      assert.deepEqual([check.status, check.text], [200, 'ok'], `${prefix}/${probe}/ping`);
      const verbose = await admin.request('GET', `${prefix}/${probe}?verbose`);
      assert.match(verbose.text, new RegExp(`\\[\\+\\]ping ok\\n[^]*${probe} check passed`), `${prefix}/${probe}?verbose`);
    }
  }
});

test('plain Kubernetes mode has no logical clusters and no kcp groups', async (t) => {
  const { admin } = await shardForTest(t, { name: 'service-cluster', mode: 'kubernetes' });
  const namespaces = await admin.request<{ items: Array<{ metadata: { name: string; annotations?: Record<string, string> } }> }>('GET', '/api/v1/namespaces');
  assert.deepEqual(
    namespaces.body.items.map((n) => n.metadata.name),
    ['default', 'kube-public', 'kube-system'],
  );
  assert.equal(namespaces.body.items[0]?.metadata.annotations, undefined, 'no kcp.io/cluster annotation');
  const groups = await admin.request<{ groups: Array<{ name: string }> }>('GET', '/apis');
  assert.ok(!groups.body.groups.some((g) => g.name.endsWith('kcp.io')));
  assert.equal((await admin.request('GET', '/clusters/root/api/v1/namespaces')).status, 404);
});
