import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWorkspacePath } from '../../../src/gateway/stages/parse-workspace-path.ts';
import { isGatewayError } from '../../../src/kube/gateway-error.ts';
import { fakeContext } from '../fake-context.ts';

test('fills the parsed path and the Kubernetes attributes of the request', () => {
  const { ctx } = fakeContext({ method: 'DELETE', url: '/clusters/root:org-acme:proj/api/v1/namespaces/default/pods/web?dryRun=All' });
  parseWorkspacePath(ctx);
  assert.equal(ctx.parsed?.refs[0]?.key, 'root:org-acme:proj');
  assert.equal(ctx.parsed?.rest, '/api/v1/namespaces/default/pods/web');
  assert.equal(ctx.attrs?.verb, 'delete');
  assert.equal(ctx.attrs?.resource, 'pods');
  assert.equal(ctx.attrs?.namespace, 'default');
  assert.equal(ctx.attrs?.name, 'web');
  assert.equal(ctx.longRunning, false);
});

test('a watch, and any upgrade, is long-running', () => {
  const watch = fakeContext({ url: '/clusters/root:org-acme/api/v1/configmaps?watch=true' }).ctx;
  parseWorkspacePath(watch);
  assert.equal(watch.attrs?.verb, 'watch');
  assert.equal(watch.longRunning, true);
  const exec = fakeContext({ method: 'GET', url: '/clusters/root:org-acme/api/v1/namespaces/n/pods/p/exec', upgrade: true }).ctx;
  parseWorkspacePath(exec);
  assert.equal(exec.longRunning, true);
});

test('a path that names no workspace the gateway serves is refused by the parser', () => {
  const { ctx } = fakeContext({ url: '/clusters/root:%2e%2e/api' });
  assert.throws(
    () => parseWorkspacePath(ctx),
    (err) => isGatewayError(err) && err.httpStatus === 400,
  );
  assert.equal(ctx.parsed, undefined);
});
