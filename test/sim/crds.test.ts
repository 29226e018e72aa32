import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startComposition } from '../../src/sim/composition.ts';
import { computeGroup, computeVersion, installComputeCRD } from '../../src/sim/compute-export.ts';
import { evaluateJsonPath } from '../../src/sim/json-path.ts';
import { waitFor } from '../helpers/wait.ts';
import { shardForTest, type Obj } from './fixture.ts';

const vms = `/apis/${computeGroup}/${computeVersion}/namespaces/default/virtualmachines`;

test('a CRD makes its kind served on a plain cluster, Established, with status subresource and printer columns', async (t) => {
  const { admin } = await shardForTest(t, { name: 'service', mode: 'kubernetes' });
  assert.equal((await admin.request('GET', vms)).status, 404, 'not served before the CRD exists');
  await installComputeCRD(admin);
  const crd = await waitFor(
    async () => {
      const res = await admin.request<{ status?: { conditions?: { type: string; status: string }[] } }>(
        'GET',
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/virtualmachines.${computeGroup}`,
      );
      return res.body.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? res.body : undefined;
    },
    { what: 'Established' },
  );
  assert.ok(crd);
  const created = await admin.request<Obj>('POST', vms, {
    body: { apiVersion: `${computeGroup}/${computeVersion}`, kind: 'VirtualMachine', metadata: { name: 'vm1' }, spec: { cpu: 2 }, status: { ignored: true } },
  });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.body['status'], undefined, 'status is a subresource: dropped on create');
  const status = await admin.request<Obj>('PATCH', `${vms}/vm1/status`, {
    contentType: 'application/merge-patch+json',
    body: { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
  });
  assert.equal(status.status, 200, status.text);
  const table = await admin.request<{ columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] }>('GET', vms, {
    headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
  });
  const names = table.body.columnDefinitions.map((c) => c.name);
  assert.deepEqual(names.slice(0, 3), ['Name', 'Ready', 'CPU']);
  assert.deepEqual(table.body.rows[0]?.cells.slice(0, 3), ['vm1', 'True', 2]);
  const discovery = await admin.request<{ resources: { name: string }[] }>('GET', `/apis/${computeGroup}/${computeVersion}`);
  assert.ok(discovery.body.resources.some((r) => r.name === 'virtualmachines/status'));
  assert.equal((await admin.request('DELETE', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/virtualmachines.${computeGroup}`)).status, 200);
  await waitFor(async () => (await admin.request('GET', vms)).status === 404, { what: 'kind no longer served' });
});

test('printer-column JSONPath handles fields, indexes and filters', () => {
  const o = {
    status: {
      conditions: [
        { type: 'Synced', status: 'False' },
        { type: 'Ready', status: 'True' },
      ],
    },
    spec: { disks: [{ size: 10 }] },
  };
  assert.equal(evaluateJsonPath(o, '.status.conditions[?(@.type=="Ready")].status'), 'True');
  assert.equal(evaluateJsonPath(o, '.spec.disks[0].size'), 10);
  assert.equal(evaluateJsonPath(o, '.spec.missing.x'), undefined);
});

test('the stand-in composition holds a finalizer, writes the connection Secret, then marks the object Ready', async (t) => {
  const { admin } = await shardForTest(t, { name: 'service', mode: 'kubernetes' });
  await installComputeCRD(admin);
  await waitFor(async () => (await admin.request('GET', vms)).status === 200, { what: 'served' });
  const composition = startComposition({ client: admin, group: computeGroup, version: computeVersion, resource: 'virtualmachines' });
  t.after(() => composition.stop());
  await admin.request('POST', vms, {
    body: { apiVersion: `${computeGroup}/${computeVersion}`, kind: 'VirtualMachine', metadata: { name: 'vm1' }, spec: { writeConnectionSecretToRef: { name: 'vm1-conn' } } },
  });
  const ready = await waitFor(
    async () => {
      const o = (await admin.request<Obj & { status?: { conditions?: { type: string; status: string }[] } }>('GET', `${vms}/vm1`)).body;
      return o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? o : undefined;
    },
    { what: 'Ready' },
  );
  assert.deepEqual(ready.metadata['finalizers'], ['composition.sim.kcp-edge.io/cleanup']);
  assert.equal((await admin.request('GET', '/api/v1/namespaces/default/secrets/vm1-conn')).status, 200);
  assert.ok([200, 202].includes((await admin.request('DELETE', `${vms}/vm1`)).status));
  await waitFor(async () => (await admin.request('GET', `${vms}/vm1`)).status === 404, { what: 'released and gone' });
  assert.equal((await admin.request('GET', '/api/v1/namespaces/default/secrets/vm1-conn')).status, 404);
});
