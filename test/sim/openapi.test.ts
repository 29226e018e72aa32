// OpenAPI v2 and v3 with the schemas of the kinds served: what kubectl explain, client-side apply and helm read.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../helpers/wait.ts';
import { shardForTest } from './fixture.ts';

type SchemaNode = { description?: string; type?: string; properties?: Record<string, SchemaNode>; items?: SchemaNode; allOf?: SchemaNode[]; $ref?: string; [k: string]: unknown };
type V3 = { paths: Record<string, { patch?: { requestBody?: { content: Record<string, unknown> } } }>; components: { schemas: Record<string, SchemaNode> } };
type V2 = { swagger: string; definitions: Record<string, SchemaNode> };

test("openapi v3: every served group version has its kinds' schemas, tagged with their group/version/kind", async (t) => {
  const { admin } = await shardForTest(t);
  const index = await admin.request<{ paths: Record<string, { serverRelativeURL: string }> }>('GET', '/clusters/root/openapi/v3');
  for (const [path, { serverRelativeURL }] of Object.entries(index.body.paths)) {
    const doc = await admin.request<V3>('GET', serverRelativeURL);
    assert.equal(doc.status, 200, path);
    const kinds = Object.values(doc.body.components.schemas).filter((s) => s['x-kubernetes-group-version-kind'] !== undefined);
    assert.ok(kinds.length > 0, `${path} has no kind schemas`);
    // Every reference resolves inside the document.
    const refs = JSON.stringify(doc.body).match(/#\/components\/schemas\/[^"]+/g) ?? [];
    for (const ref of refs) assert.ok(doc.body.components.schemas[ref.slice('#/components/schemas/'.length)], `${path}: dangling ${ref}`);
  }
  const core = await admin.request<V3>('GET', '/clusters/root/openapi/v3/api/v1');
  const configMap = core.body.components.schemas['io.k8s.api.core.v1.ConfigMap'];
  assert.deepEqual(configMap?.['x-kubernetes-group-version-kind'], [{ group: '', version: 'v1', kind: 'ConfigMap' }]);
  assert.deepEqual(configMap?.properties?.['data']?.['additionalProperties'], { type: 'string', default: '' });
  const ports = core.body.components.schemas['io.k8s.api.core.v1.ServiceSpec']?.properties?.['ports'];
  assert.equal(ports?.['x-kubernetes-patch-merge-key'], 'port');
  assert.ok(core.body.paths['/api/v1/namespaces/{namespace}/services/{name}']?.patch?.requestBody?.content['application/strategic-merge-patch+json']);
});

test('openapi v3 of a CRD carries its openAPIV3Schema, and no strategic merge patch', async (t) => {
  const { admin } = await shardForTest(t);
  const crd = await admin.request('POST', '/clusters/root/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    body: {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', description: 'sprockets' } } } } } },
          },
        ],
      },
    },
  });
  assert.equal(crd.status, 201, crd.text);
  type Index = { paths: Record<string, { serverRelativeURL: string }> };
  const urlOf = async (path: string) => (await admin.request<Index>('GET', '/clusters/root/openapi/v3')).body.paths[path]?.serverRelativeURL;
  const before = await urlOf('apis/example.com/v1');
  assert.match(before ?? '', /^\/clusters\/root\/openapi\/v3\/apis\/example\.com\/v1\?hash=[0-9A-F]{128}$/);
  assert.equal(await urlOf('apis/example.com/v1'), before, 'the same schemas, the same hash');
  const doc = await admin.request<V3>('GET', '/clusters/root/openapi/v3/apis/example.com/v1');
  assert.equal(doc.status, 200, doc.text);
  const widget = doc.body.components.schemas['com.example.v1.Widget'];
  assert.equal(widget?.properties?.['spec']?.properties?.['size']?.description, 'sprockets');
  assert.ok(widget?.properties?.['metadata']?.allOf?.[0]?.$ref?.endsWith('ObjectMeta'));
  assert.ok(doc.body.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
  const patch = doc.body.paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}']?.patch;
  assert.ok(patch?.requestBody?.content['application/merge-patch+json']);
  assert.equal(patch?.requestBody?.content['application/strategic-merge-patch+json'], undefined);

  // A changed schema changes the hash, so a client caching by URL fetches it again.
  const live = await admin.request<{
    metadata: { resourceVersion: string };
    spec: { versions: Array<{ schema: { openAPIV3Schema: { properties: { spec: { properties: { size: { description: string } } } } } } }> };
  }>('GET', '/clusters/root/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com');
  live.body.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties.size.description = 'cogs';
  assert.equal((await admin.request('PUT', '/clusters/root/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com', { body: live.body })).status, 200);
  await waitFor(async () => (await urlOf('apis/example.com/v1')) !== before, { what: 'a new hash for apis/example.com/v1', timeoutMs: 2000 });
});

test('openapi v2: one JSON document with every kind, plain $refs and the patch extensions; protobuf for client-go, 406 for others', async (t) => {
  const { admin } = await shardForTest(t);
  for (const prefix of ['', '/clusters/root']) {
    const doc = await admin.request<V2>('GET', `${prefix}/openapi/v2`, { headers: { accept: 'application/json' } });
    assert.equal(doc.status, 200, doc.text);
    assert.equal(doc.body.swagger, '2.0');
    const text = JSON.stringify(doc.body);
    assert.doesNotMatch(text, /#\/components\/schemas|"allOf"/);
    for (const ref of text.match(/#\/definitions\/[^"]+/g) ?? []) assert.ok(doc.body.definitions[ref.slice('#/definitions/'.length)], `dangling ${ref}`);
    const container = doc.body.definitions['io.k8s.api.core.v1.PodSpec']?.properties?.['containers'];
    assert.deepEqual(
      [container?.['x-kubernetes-patch-merge-key'], container?.['x-kubernetes-patch-strategy'], container?.items?.$ref],
      ['name', 'merge', '#/definitions/io.k8s.api.core.v1.Container'],
    );
    assert.equal(doc.body.definitions['io.k8s.api.core.v1.Container']?.properties?.['volumeMounts']?.['x-kubernetes-patch-merge-key'], 'mountPath');
    assert.equal(doc.body.definitions['io.k8s.api.core.v1.Service']?.properties?.['spec']?.$ref, '#/definitions/io.k8s.api.core.v1.ServiceSpec');
    assert.ok(doc.body.definitions['io.kcp.tenancy.v1alpha1.Workspace']);
  }
  const yamlOnly = await admin.request('GET', '/openapi/v2', { headers: { accept: 'application/yaml' } });
  assert.equal(yamlOnly.status, 406);
  // client-go asks for gnostic protobuf (kubectl explain --output=plaintext-openapiv2 reads it in the e2e tests).
  const protobuf = await admin.request('GET', '/openapi/v2', { headers: { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
  assert.equal(protobuf.status, 200);
  assert.equal(protobuf.headers['content-type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
  assert.ok(protobuf.text.includes('io.k8s.api.core.v1.ConfigMap') && protobuf.text.includes('x-kubernetes-patch-merge-key'));
});
