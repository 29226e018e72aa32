import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../src/kube/gateway-error.ts';

test('renders a Status in kube-apiserver field order', () => {
  const body = JSON.stringify(new GatewayError('UNAUTHORIZED', 'Unauthorized').toStatus());
  assert.equal(body, '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}');
});

test('carries Retry-After into the Status details', () => {
  const status = new GatewayError('SHARD_UNAVAILABLE', 'shard down', { retryAfterSeconds: 3, internalReason: 'probe failed' }).toStatus();
  assert.equal(status.code, 503);
  assert.equal(status.reason, 'ServiceUnavailable');
  assert.deepEqual(status.details, { retryAfterSeconds: 3 });
  assert.ok(!JSON.stringify(status).includes('probe failed'), 'internal reasons never reach the client');
});
