import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyName, MAX_NAMESPACE_LENGTH, namespaceName, objectKey, parseObjectKey, workspaceNameFromPath } from '../../src/sync/naming.ts';

test('namespace names carry workspace, a hash of the cluster and the suffix', () => {
  const name = namespaceName('frontend', '2x7ad9k3', 'vm');
  assert.match(name, /^ws-frontend-[0-9a-f]{8}-vm$/);
  assert.equal(namespaceName('frontend', '2x7ad9k3', 'vm'), name, 'derived, so a restart computes the same name');
});

test('two organisations with a workspace of the same name never share a namespace', () => {
  const acme = namespaceName(workspaceNameFromPath('root:org-acme:frontend'), 'clusterA', 'vm');
  const globex = namespaceName(workspaceNameFromPath('root:org-globex:frontend'), 'clusterB', 'vm');
  assert.notEqual(acme, globex);
  assert.ok(acme.startsWith('ws-frontend-') && globex.startsWith('ws-frontend-'));
});

test('namespace names stay within 63 characters and DNS-label shape', () => {
  for (const ws of ['a'.repeat(80), 'Upper_Case.and.dots', '-x-', 'a-'.repeat(40)]) {
    const name = namespaceName(ws, 'c1', 'postgres');
    assert.ok(name.length <= MAX_NAMESPACE_LENGTH, name);
    assert.match(name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, name);
  }
  const long1 = namespaceName('a'.repeat(80), 'c1', 'vm');
  const long2 = namespaceName('a'.repeat(80), 'c2', 'vm');
  assert.notEqual(long1, long2, 'truncation never makes two clusters meet');
  assert.throws(() => namespaceName('x', 'c', 'y'.repeat(60)), /no room/);
});

test('copy names keep default-namespace names and separate other namespaces', () => {
  assert.equal(copyName('default', 'vm1'), 'vm1');
  assert.equal(copyName(undefined, 'vm1'), 'vm1');
  const a = copyName('team-a', 'vm1');
  assert.match(a, /^team-a-vm1-[0-9a-f]{8}$/);
  assert.notEqual(copyName('team', 'a-vm1'), copyName('team-a', 'vm1'));
});

test('object keys round-trip', () => {
  const key = objectKey('c1', 'default', 'vm1');
  assert.equal(key, 'c1|default/vm1');
  assert.deepEqual(parseObjectKey(key), { cluster: 'c1', namespace: 'default', name: 'vm1' });
  assert.deepEqual(parseObjectKey(objectKey('c1', undefined, 'x')), { cluster: 'c1', namespace: '', name: 'x' });
});
