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

test('a path seen before is not parsed again: the same frozen answer, attributes per method, the query still read', () => {
  const path = '/clusters/root:org-acme:proj/api/v1/namespaces/default/configmaps';
  const parse = (method: string, url: string) => {
    const { ctx } = fakeContext({ method, url });
    parseWorkspacePath(ctx);
    return ctx;
  };
  const first = parse('GET', path);
  const second = parse('GET', path);
  assert.equal(second.parsed, first.parsed);
  assert.equal(second.attrs, first.attrs);
  assert.ok(Object.isFrozen(first.parsed) && Object.isFrozen(first.parsed!.refs[0]) && Object.isFrozen(first.attrs));
  assert.throws(() => {
    (first.attrs as { verb: string }).verb = 'delete';
  }, TypeError);
  // Same path, another method or a query: attributes of their own.
  assert.equal(parse('POST', path).attrs?.verb, 'create');
  assert.equal(parse('GET', path).attrs?.verb, 'list');
  const watch = parse('GET', `${path}?watch=1`);
  assert.equal(watch.parsed, first.parsed);
  assert.equal(watch.attrs?.verb, 'watch');
  assert.equal(watch.longRunning, true);
  // A malformed path is refused every time, never remembered.
  for (let i = 0; i < 2; i++)
    assert.throws(
      () => parse('GET', '/clusters/root:%2e%2e/api'),
      (err) => isGatewayError(err) && err.httpStatus === 400,
    );
});

test('a client sending ever-new paths and methods only ever gets fresh, correct answers', () => {
  for (let i = 0; i < 5_000; i++) {
    const { ctx } = fakeContext({ method: `M${i % 20}`, url: `/clusters/root:org-acme:p${i}/api/v1/namespaces/default/pods/x${i}` });
    parseWorkspacePath(ctx);
    assert.equal(ctx.parsed?.refs[0]?.key, `root:org-acme:p${i}`);
    assert.equal(ctx.attrs?.name, '');
  }
});
