import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonEqual, mergeDiff, threeWayPatch } from '../../src/sync/merge-patch.ts';

test('mergeDiff produces the RFC 7386 patch between two values', () => {
  assert.equal(mergeDiff({ a: 1 }, { a: 1 }), undefined);
  assert.deepEqual(mergeDiff({ a: 1, b: 2 }, { a: 1 }), { b: null });
  assert.deepEqual(mergeDiff({ a: { x: 1, y: 2 } }, { a: { x: 1, y: 3 } }), { a: { y: 3 } });
  assert.deepEqual(mergeDiff({ c: [1, 2] }, { c: [1] }), { c: [1] });
  assert.deepEqual(mergeDiff(undefined, { ready: true }), { ready: true });
});

test("threeWayPatch changes what we own and leaves others' fields alone", () => {
  const last = { spec: { cpu: 1, image: 'a', old: true } };
  const desired = { spec: { cpu: 2, image: 'a' } };
  // The service cluster defaulted `zone`; someone drifted `image`.
  const live = { spec: { cpu: 1, image: 'drifted', old: true, zone: 'eu' } };
  assert.deepEqual(threeWayPatch(last, desired, live), { spec: { cpu: 2, image: 'a', old: null } });
  assert.equal(threeWayPatch(desired, desired, { spec: { cpu: 2, image: 'a', zone: 'eu' } }), undefined);
  assert.deepEqual(threeWayPatch(undefined, desired, {}), { spec: { cpu: 2, image: 'a' } });
});

test('jsonEqual ignores key order and undefined members', () => {
  assert.ok(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1, d: undefined }));
  assert.ok(!jsonEqual({ a: 1 }, { a: 2 }));
  assert.ok(!jsonEqual([1], { 0: 1 }));
});
