import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isConfigError, parseConfig } from '../../src/config/index.ts';
import { renderKubeconfig } from '../../src/kube/kubeconfig.ts';
import { syncConfigKind } from '../../src/sync/config.ts';
import { withTempDir } from '../helpers/wait.ts';

const valid = (dir: string) => `
agentName: compute
kcp:
  kubeconfig: kcp.kubeconfig
  endpointSlice: { cluster: root:providers:compute, name: compute.cloud.example.com }
serviceCluster:
  kubeconfig: ${join(dir, 'service.kubeconfig')}
resources:
  - group: compute.cloud.example.com
    version: v1alpha1
    resource: virtualmachines
    kind: VirtualMachine
    namespaceSuffix: vm
    related: [{ kind: Secret, nameFrom: spec.writeConnectionSecretToRef.name }]
`;

test('a valid sync config loads with defaults and its kubeconfigs read', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'kcp.kubeconfig'), renderKubeconfig({ server: 'https://127.0.0.1:6443', token: 't' }));
    await writeFile(join(dir, 'service.kubeconfig'), renderKubeconfig({ server: 'https://127.0.0.1:7443', caPem: 'CA' }));
    const config = await parseConfig(syncConfigKind, valid(dir), join(dir, 'sync.yaml'));
    assert.equal(config.agentName, 'compute');
    assert.equal(config.kcp.server, 'https://127.0.0.1:6443');
    assert.equal(config.kcp.token, 't');
    assert.equal(config.service.caPem, 'CA');
    assert.deepEqual(config.endpointSlice, { cluster: 'root:providers:compute', name: 'compute.cloud.example.com' });
    assert.equal(config.workers, 16);
    assert.equal(config.resyncMs, 300_000);
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 9464 });
    assert.equal(config.logLevel, 'info');
    assert.deepEqual(config.resources[0]?.related, [{ kind: 'Secret', nameFrom: 'spec.writeConnectionSecretToRef.name' }]);
  });
});

test('a related rule may name the workspace namespace for a cluster-scoped kind, which must be a DNS label', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'kcp.kubeconfig'), renderKubeconfig({ server: 'https://127.0.0.1:6443', token: 't' }));
    await writeFile(join(dir, 'service.kubeconfig'), renderKubeconfig({ server: 'https://127.0.0.1:7443' }));
    const withNamespace = (ns: string) =>
      valid(dir).replace('nameFrom: spec.writeConnectionSecretToRef.name }', `nameFrom: spec.writeConnectionSecretToRef.name, namespace: ${ns} }`);
    const config = await parseConfig(syncConfigKind, withNamespace('default'), join(dir, 'sync.yaml'));
    assert.equal(config.resources[0]?.related[0]?.namespace, 'default');
    await assert.rejects(parseConfig(syncConfigKind, withNamespace('Not_A_Namespace'), join(dir, 'sync.yaml')), (err: unknown) => {
      assert.ok(isConfigError(err));
      assert.deepEqual(
        err.issues.map((i) => i.field),
        ['resources[0].related[0].namespace'],
      );
      return true;
    });
  });
});

test('every problem is reported at once, with its field', async () => {
  await withTempDir(async (dir) => {
    const text = `
agentName: Not_A_Label
kcp: { kubeconfig: missing.kubeconfig }
serviceCluster: { kubeconfig: also-missing }
resources:
  - { group: g, version: v1, resource: things, kind: Thing, namespaceSuffix: t }
  - { group: g, version: v1, resource: others, kind: Other, namespaceSuffix: t }
`;
    await assert.rejects(parseConfig(syncConfigKind, text, join(dir, 'sync.yaml')), (err: unknown) => {
      assert.ok(isConfigError(err));
      assert.match(err.message, /agentName/);
      return true;
    });
    const fixedName = text.replace('Not_A_Label', 'things');
    await assert.rejects(parseConfig(syncConfigKind, fixedName, join(dir, 'sync.yaml')), (err: unknown) => {
      assert.ok(isConfigError(err));
      const fields = err.issues.map((i) => i.field);
      assert.ok(fields.includes('kcp'), 'neither slice nor endpoints');
      assert.ok(fields.includes('kcp.kubeconfig'));
      assert.ok(fields.includes('serviceCluster.kubeconfig'));
      assert.ok(fields.includes('resources[1].namespaceSuffix'));
      return true;
    });
  });
});

test('the example config/sync.yaml is valid apart from the kubeconfigs it names', async () => {
  const { readFile } = await import('node:fs/promises');
  const file = new URL('../../config/sync.yaml', import.meta.url).pathname;
  await assert.rejects(parseConfig(syncConfigKind, await readFile(file, 'utf8'), file), (err: unknown) => {
    assert.ok(isConfigError(err));
    assert.deepEqual(err.issues.map((i) => i.field).sort(), ['kcp.kubeconfig', 'serviceCluster.kubeconfig']);
    return true;
  });
});
