// Server-side field validation against the kinds' schemas, as kubectl's --validate relies on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kubernetesResources } from '../../src/sim/builtin-resources.ts';
import { typesFromCrd } from '../../src/sim/crds.ts';
import { unknownFields } from '../../src/sim/field-validation.ts';
import type { ResourceType } from '../../src/sim/types.ts';
import { cm, shardForTest } from './fixture.ts';

const builtin = (kind: string): ResourceType => kubernetesResources.find((t) => t.kind === kind)!;

test('unknown fields are named by path; declared, open and map fields are not', () => {
  assert.deepEqual(
    unknownFields(builtin('ConfigMap'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels: { a: 'b' }, lables: {} }, dta: {}, data: { any: 'key' } }),
    ['metadata.lables', 'dta'],
  );
  const pod = {
    metadata: { name: 'p' },
    spec: {
      containers: [{ name: 'a', image: 'i', ports: [{ containerPort: 80, prot: 'TCP' }], securityContext: { anything: true }, resources: { limits: { cpu: '1' } } }],
      volumes: [{ name: 'v', awsElasticBlockStore: { volumeID: 'x' } }],
      nodeSelector: { zone: 'a' },
      topologySpreadConstraints: [{ maxSkew: 1 }],
      dnsConfig: { options: [] },
    },
    status: { phase: 'Running', whatever: 1 },
  };
  assert.deepEqual(unknownFields(builtin('Pod'), pod), ['spec.containers[0].ports[0].prot']);
  assert.deepEqual(unknownFields(builtin('Service'), { spec: { ports: [{ port: 80, targetPort: 'http' }], selector: { app: 'x' }, sessionAffinityConfig: { clientIP: {} } } }), []);
});

test("a CRD's structural schema closes what it declares; x-kubernetes-preserve-unknown-fields opens it", () => {
  const [widget] = typesFromCrd({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', kind: 'Widget' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  properties: {
                    size: { type: 'integer' },
                    extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                    tags: { type: 'object', additionalProperties: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
      ],
    },
  });
  assert.ok(widget);
  assert.deepEqual(
    unknownFields(widget, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1, sise: 2, extra: { a: 1 }, tags: { t: 'x' } }, status: {} }),
    ['spec.sise', 'status'],
  );
});

test("fieldValidation: Strict refuses with kube's strict decoding error, Warn (the default) answers with Warning headers", async (t) => {
  const { admin } = await shardForTest(t);
  const base = '/clusters/root/api/v1/namespaces/default/configmaps';
  const typo = { ...cm('typo'), dta: { a: 'b' } };
  const strict = await admin.request<{ message: string; reason: string }>('POST', `${base}?fieldValidation=Strict`, { body: typo });
  assert.equal(strict.status, 400);
  assert.equal(strict.body.message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "dta"');
  const warned = await admin.request('POST', base, { body: typo });
  assert.equal(warned.status, 201);
  assert.equal(warned.headers['warning'], '299 - "unknown field \\"dta\\""');
  const ignored = await admin.request('PUT', `${base}/typo?fieldValidation=Ignore`, { body: { ...typo, metadata: { name: 'typo' } } });
  assert.equal(ignored.status, 200);
  assert.equal(ignored.headers['warning'], undefined);
  const patched = await admin.request('PATCH', `${base}/typo?fieldValidation=Strict`, { body: { daat: { x: 'y' } }, contentType: 'application/merge-patch+json' });
  assert.equal(patched.status, 400);
  assert.equal((await admin.request('GET', `${base}?fieldValidation=Sloppy`)).status, 200, 'a list ignores it');
  assert.equal((await admin.request('POST', `${base}?fieldValidation=Sloppy`, { body: cm('x') })).status, 400);
});
