import assert from 'node:assert/strict';
import { test } from 'node:test';
import { admitToWorkspace } from '../../../src/gateway/stages/admit-to-workspace.ts';
import { parseWorkspacePath } from '../../../src/gateway/stages/parse-workspace-path.ts';
import { isGatewayError } from '../../../src/kube/gateway-error.ts';
import type { RoutePhase, ShardHealth, ShardState } from '../../../src/routing/types.ts';
import { fakeContext, resolution, shard } from '../fake-context.ts';

function request(target?: { state?: ShardState; phase?: RoutePhase }, method = 'GET', query = '') {
  const { ctx } = fakeContext({ method, url: `/clusters/root:org-acme/api/v1/namespaces/default/configmaps${query}` });
  parseWorkspacePath(ctx);
  ctx.identity = { user: 'alice', groups: [], extra: {} };
  if (target !== undefined) ctx.target = resolution('root:org-acme', shard('east', target.state), 'c-acme', target.phase);
  return ctx;
}

const healthy: ShardHealth = { isAvailable: () => true, reportFailure() {}, reportSuccess() {} };
const failing: ShardHealth = { ...healthy, isAvailable: () => false };

test('a ready route on an active shard is admitted and names the shard', () => {
  const ctx = request({});
  admitToWorkspace(healthy)(ctx);
  assert.equal(ctx.shard, 'east');
});

test('an unknown workspace is the Forbidden an authorization denial would be', () => {
  assert.throws(
    () => admitToWorkspace(undefined)(request()),
    (err) =>
      isGatewayError(err) &&
      err.httpStatus === 403 &&
      err.message === 'configmaps is forbidden: User "alice" cannot list resource "configmaps" in API group "" in the namespace "default"',
  );
});

test('a shard marked down or failing health checks is 503 at once, without Retry-After', () => {
  for (const [health, state] of [
    [undefined, 'down'],
    [failing, 'active'],
  ] as const) {
    assert.throws(
      () => admitToWorkspace(health)(request({ state })),
      (err) => isGatewayError(err) && err.httpStatus === 503 && err.retryAfterSeconds === undefined,
      state,
    );
  }
});

test('a workspace being moved serves reads from its source and pauses writes with 429 and a short Retry-After', () => {
  for (const [method, query] of [
    ['GET', ''],
    ['GET', '?watch=1'],
    ['GET', '/cm-1'],
  ] as const) {
    const ctx = request({ phase: 'Moving' }, method, query);
    admitToWorkspace(healthy)(ctx);
    assert.equal(ctx.shard, 'east', `${method} ${query}`);
  }
  for (const [method, query] of [
    ['POST', ''],
    ['PUT', '/cm-1'],
    ['PATCH', '/cm-1'],
    ['DELETE', '/cm-1'],
  ] as const) {
    assert.throws(
      () => admitToWorkspace(healthy)(request({ phase: 'Moving' }, method, query)),
      (err) => isGatewayError(err) && err.httpStatus === 429 && err.retryAfterSeconds === 1,
      `${method} ${query}`,
    );
  }
});

test('an unavailable workspace is 503 with a short Retry-After', () => {
  assert.throws(
    () => admitToWorkspace(healthy)(request({ phase: 'Unavailable' })),
    (err) => isGatewayError(err) && err.httpStatus === 503 && err.retryAfterSeconds === 1,
  );
});
