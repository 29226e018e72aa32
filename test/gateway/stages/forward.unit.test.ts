// What the forward stage hands the shard's pool: the rewritten path, the headers the shard may see and
// the identity it is told, without dispatching anything (the forwarding tests do that against shards).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Dispatcher } from 'undici';
import type { ShardPools } from '../../../src/gateway/shard-pools.ts';
import { forward, type ForwardDeps } from '../../../src/gateway/stages/forward.ts';
import { parseWorkspacePath } from '../../../src/gateway/stages/parse-workspace-path.ts';
import { isGatewayError } from '../../../src/kube/gateway-error.ts';
import { createGatewayMetrics } from '../../../src/metrics.ts';
import type { Shard } from '../../../src/routing/types.ts';
import { fakeContext, resolution, shard, type FakeRequest } from '../fake-context.ts';

interface Dispatched {
  shard: string;
  options: Dispatcher.DispatchOptions;
}

function deps(dispatched: Dispatched[], overrides: Partial<ForwardDeps> = {}): ForwardDeps {
  const pools = { poolFor: (s: Shard) => ({ dispatch: (options: Dispatcher.DispatchOptions) => dispatched.push({ shard: s.name, options }) > 0 }) };
  return { pools: pools as unknown as ShardPools, headers: { dropImpersonation: false }, metrics: createGatewayMetrics(), health: undefined, maxBodyBytes: 1024, ...overrides };
}

function routed(request: FakeRequest) {
  const exchange = fakeContext(request);
  const ctx = exchange.ctx;
  parseWorkspacePath(ctx);
  ctx.resolutions = [resolution('root:org-acme:proj', shard('east'), '2x9lq0')];
  ctx.target = ctx.resolutions[0];
  ctx.identity = { user: 'alice', groups: ['dev'], extra: { scopes: ['a'] } };
  return exchange;
}

/** Raw header pairs as a name → values map, lower-case names. */
function headerMap(headers: Dispatcher.DispatchOptions['headers']): Record<string, string[]> {
  const list = headers as string[];
  const map: Record<string, string[]> = {};
  for (let i = 0; i < list.length; i += 2) (map[list[i]!.toLowerCase()] ??= []).push(list[i + 1]!);
  return map;
}

test('the workspace path becomes its logical cluster, the query is kept, and the shard is told who asks', () => {
  const dispatched: Dispatched[] = [];
  const { ctx } = routed({
    url: '/clusters/root:org-acme:proj/api/v1/configmaps?labelSelector=a%3Db',
    headers: { Authorization: 'Bearer secret', 'X-Remote-User': 'mallory', Accept: 'application/json', 'Audit-ID': 'a-1' },
  });
  forward(deps(dispatched))(ctx);
  assert.equal(dispatched.length, 1);
  const [{ shard: to, options }] = dispatched as [Dispatched];
  assert.equal(to, 'east');
  assert.equal(options.path, '/clusters/2x9lq0/api/v1/configmaps?labelSelector=a%3Db');
  assert.equal(options.method, 'GET');
  assert.equal(options.body, null, 'a GET without a body is sent without one');
  assert.equal(options.bodyTimeout, 300_000);
  const headers = headerMap(options.headers);
  assert.equal(headers['authorization'], undefined, 'the client credentials stay at the gateway');
  assert.deepEqual(headers['x-remote-user'], ['alice'], 'the client cannot name itself');
  assert.deepEqual(headers['x-remote-group'], ['dev']);
  assert.deepEqual(headers['audit-id'], ['a-1']);
  assert.deepEqual(headers['accept'], ['application/json']);
  assert.ok(ctx.upstream !== undefined, 'the exchange can be stopped when the client goes');
});

test('a watch has no body timeout', () => {
  const dispatched: Dispatched[] = [];
  const { ctx } = routed({ url: '/clusters/root:org-acme:proj/api/v1/configmaps?watch=true' });
  forward(deps(dispatched))(ctx);
  assert.equal(dispatched[0]?.options.bodyTimeout, 0);
});

test('a body declared larger than the limit is 413 before anything is sent', () => {
  const dispatched: Dispatched[] = [];
  const { ctx } = routed({ method: 'POST', url: '/clusters/root:org-acme:proj/api/v1/namespaces/d/configmaps', headers: { 'Content-Length': '2048' } });
  assert.throws(
    () => forward(deps(dispatched))(ctx),
    (err) => isGatewayError(err) && err.httpStatus === 413,
  );
  assert.deepEqual(dispatched, []);
});

test('a body within the limit is streamed, not collected', () => {
  const dispatched: Dispatched[] = [];
  const { ctx } = routed({ method: 'POST', url: '/clusters/root:org-acme:proj/api/v1/namespaces/d/configmaps', headers: { 'Content-Length': '2' }, body: '{}' });
  forward(deps(dispatched))(ctx);
  assert.equal(dispatched[0]?.options.body, ctx.req, 'the request stream itself');
});
