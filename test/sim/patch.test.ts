// Strategic merge patch with the built-in kinds' patch merge keys, read from their schemas.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kubernetesResources } from '../../src/sim/builtin-resources.ts';
import { strategicMergePatch, type Json } from '../../src/sim/patch.ts';
import { patchMetaFor } from '../../src/sim/schemas/patch-meta.ts';
import type { ResourceType } from '../../src/sim/types.ts';

const kindOf = (kind: string): ResourceType => {
  const type = kubernetesResources.find((t) => t.kind === kind);
  assert.ok(type, kind);
  return type;
};
const patchAs = (kind: string, live: Json, patch: Json) => strategicMergePatch(live, patch, patchMetaFor(kindOf(kind)));

test("Service ports merge by port: a changed port replaces the old one (kubectl apply's patch)", () => {
  const live = { spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } };
  const patch: Json = {
    spec: {
      '$setElementOrder/ports': [{ port: 8081 }],
      ports: [
        { name: 'http', port: 8081 },
        { $patch: 'delete', port: 80 },
      ],
    },
  };
  const applied = patchAs('Service', live, patch) as { spec: { ports: unknown[] } };
  assert.deepEqual(applied.spec.ports, [{ name: 'http', port: 8081 }]);
  // A port that stays keeps the fields the patch does not mention.
  const kept = patchAs('Service', live, { spec: { ports: [{ port: 80, name: 'web' }] } }) as { spec: { ports: unknown[] } };
  assert.deepEqual(kept.spec.ports, [{ name: 'web', port: 80, targetPort: 8080, protocol: 'TCP' }]);
});

test('Pod containers by name, env by name, volumeMounts by mountPath, container ports by containerPort, volumes by name', () => {
  const live: Json = {
    spec: {
      containers: [
        {
          name: 'app',
          image: 'a:1',
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
          volumeMounts: [{ name: 'v', mountPath: '/v' }],
          ports: [{ containerPort: 80 }],
        },
        { name: 'sidecar', image: 's:1' },
      ],
      volumes: [{ name: 'v', emptyDir: {} }],
    },
  };
  const patched = patchAs('Pod', live, {
    spec: {
      containers: [{ name: 'app', image: 'a:2', env: [{ name: 'B', value: '3' }], volumeMounts: [{ name: 'w', mountPath: '/w' }], ports: [{ containerPort: 81 }] }],
      volumes: [{ name: 'w', emptyDir: {} }],
    },
  }) as { spec: { containers: Array<Record<string, unknown>>; volumes: unknown[] } };
  assert.deepEqual(
    patched.spec.containers.map((c) => c['name']),
    ['app', 'sidecar'],
  );
  const app = patched.spec.containers[0]!;
  assert.equal(app['image'], 'a:2');
  assert.deepEqual(app['env'], [
    { name: 'A', value: '1' },
    { name: 'B', value: '3' },
  ]);
  assert.deepEqual(app['volumeMounts'], [
    { name: 'v', mountPath: '/v' },
    { name: 'w', mountPath: '/w' },
  ]);
  assert.deepEqual(app['ports'], [{ containerPort: 80 }, { containerPort: 81 }]);
  assert.deepEqual(patched.spec.volumes, [
    { name: 'v', emptyDir: {} },
    { name: 'w', emptyDir: {} },
  ]);
});

test('lists without a merge strategy are replaced; finalizers merge as a set; $patch: replace replaces', () => {
  const live: Json = { metadata: { finalizers: ['a'] }, spec: { containers: [{ name: 'app', command: ['x', 'y'] }] } };
  const patched = patchAs('Pod', live, { metadata: { finalizers: ['b'] }, spec: { containers: [{ name: 'app', command: ['z'] }] } }) as {
    metadata: { finalizers: string[] };
    spec: { containers: Array<{ command: string[] }> };
  };
  assert.deepEqual(patched.metadata.finalizers, ['a', 'b']);
  assert.deepEqual(patched.spec.containers[0]?.command, ['z']);
  const replaced = patchAs('Pod', live, { spec: { containers: [{ name: 'other' }, { $patch: 'replace' }] } }) as { spec: { containers: unknown[] } };
  assert.deepEqual(replaced.spec.containers, [{ name: 'other' }]);
  // RBAC rules are atomic: replaced, never merged.
  const role = patchAs('Role', { rules: [{ verbs: ['get'], resources: ['pods'] }] }, { rules: [{ verbs: ['list'], resources: ['configmaps'] }] }) as { rules: unknown[] };
  assert.deepEqual(role.rules, [{ verbs: ['list'], resources: ['configmaps'] }]);
});

test("$setElementOrder puts the items the patch names in its order, the server's own after them", () => {
  const live: Json = {
    spec: {
      ports: [
        { name: 'http', port: 80 },
        { name: 'https', port: 443 },
        { name: 'metrics', port: 9090 },
      ],
    },
  };
  const patched = patchAs('Service', live, {
    spec: {
      '$setElementOrder/ports': [{ port: 8080 }, { port: 443 }],
      ports: [
        { name: 'http', port: 8080 },
        { $patch: 'delete', port: 80 },
      ],
    },
  }) as { spec: { ports: Array<{ port: number }> } };
  assert.deepEqual(
    patched.spec.ports.map((p) => p.port),
    [8080, 443, 9090],
  );
});
