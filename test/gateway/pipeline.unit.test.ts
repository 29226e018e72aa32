// The pipeline's contract, on a fake context: stages run in order, the first answer ends the run, and
// whatever a stage throws becomes one Kubernetes Status.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UpstreamExchange } from '../../src/gateway/context.ts';
import { compose, type Stage } from '../../src/gateway/pipeline.ts';
import { respond } from '../../src/gateway/respond.ts';
import { GatewayError } from '../../src/kube/gateway-error.ts';
import { fakeContext } from './fake-context.ts';

const context = () => fakeContext({ url: '/clusters/root:a/api/v1/configmaps?watch=1' }).ctx;

test('stages run in array order, synchronous and asynchronous alike', async () => {
  const ran: string[] = [];
  const pipeline = compose([() => void ran.push('a'), async () => void ran.push('b'), (ctx) => respond(ctx, 200, {}, 'ok')]);
  const { ctx, res } = fakeContext({ url: '/livez' });
  await pipeline(ctx);
  assert.deepEqual(ran, ['a', 'b']);
  assert.equal(res.statusCode, 200);
  assert.equal(res.body, 'ok');
});

test('stages that all answer at once run to the end synchronously; the first promise makes the rest wait', async () => {
  const ran: string[] = [];
  const sync = compose([() => void ran.push('a'), () => void ran.push('b')]);
  assert.equal(sync(context()), undefined);
  assert.deepEqual(ran, ['a', 'b']);
  ran.length = 0;
  const mixed = compose([() => void ran.push('a'), async () => void ran.push('b'), () => void ran.push('c')]);
  const pending = mixed(context());
  assert.ok(pending instanceof Promise);
  assert.deepEqual(ran, ['a', 'b'], 'the stage after the asynchronous one waits for it');
  await pending;
  assert.deepEqual(ran, ['a', 'b', 'c']);
});

test('a synchronous throw is answered with its Status at once', () => {
  const { ctx, res } = fakeContext({ url: '/' });
  const result = compose([
    () => {
      throw new GatewayError('TOO_MANY_REQUESTS', 'slow down', { retryAfterSeconds: 3 });
    },
  ])(ctx);
  assert.equal(result, undefined);
  assert.equal(res.statusCode, 429);
  assert.equal(res.headers['retry-after'], '3');
});

test('once a stage answered, later stages are skipped', async () => {
  const ran: string[] = [];
  const pipeline = compose([(ctx) => respond(ctx, 204, {}, ''), () => void ran.push('never')]);
  const { ctx, res } = fakeContext({ url: '/' });
  await pipeline(ctx);
  assert.deepEqual(ran, []);
  assert.equal(ctx.statusCode, 204);
  assert.equal(res.statusCode, 204);
});

test('a GatewayError thrown by a stage is answered with its Status and stops the run', async () => {
  const ran: string[] = [];
  const pipeline = compose([
    async () => {
      throw new GatewayError('TOO_MANY_REQUESTS', 'slow down', { retryAfterSeconds: 3 });
    },
    () => void ran.push('never'),
  ]);
  const { ctx, res } = fakeContext({ url: '/clusters/root/api', headers: { 'Audit-ID': 'a-1' } });
  await pipeline(ctx);
  assert.deepEqual(ran, []);
  assert.equal(res.statusCode, 429);
  assert.equal(res.headers['retry-after'], '3');
  assert.equal(res.headers['audit-id'], 'a-1');
  assert.equal(res.headers['content-type'], 'application/json');
  assert.deepEqual(res.json(), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'slow down',
    reason: 'TooManyRequests',
    details: { retryAfterSeconds: 3 },
    code: 429,
  });
  assert.equal(ctx.error?.code, 'TOO_MANY_REQUESTS');
});

test('anything else thrown is a 500 InternalError whose cause stays internal', async () => {
  const pipeline = compose([
    () => {
      throw new Error('secret detail');
    },
  ]);
  const { ctx, res } = fakeContext({ url: '/clusters/root/api' });
  await pipeline(ctx);
  assert.equal(res.statusCode, 500);
  assert.equal(res.json().reason, 'InternalError');
  assert.doesNotMatch(res.body, /secret detail/);
  assert.equal(ctx.error?.internalReason, 'secret detail');
});

test('a failure after the stage answered is recorded, not written over the answer', async () => {
  const pipeline = compose([
    (ctx) => {
      respond(ctx, 200, {}, 'ok');
      throw new Error('late');
    },
  ]);
  const { ctx, res } = fakeContext({ url: '/' });
  await pipeline(ctx);
  assert.equal(res.statusCode, 200);
  assert.equal(res.body, 'ok');
  assert.equal(ctx.error?.internalReason, 'late');
});

test('compose refuses what is not a stage', () => {
  assert.throws(() => compose([() => {}, 'auth' as unknown as Stage]), /pipeline stage 1 is not a function/);
});

test('no stage runs after the client left while an earlier one awaited', async () => {
  const ctx = context();
  const ran: string[] = [];
  let release!: () => void;
  const pipeline = compose([
    async () => {
      ran.push('lookup');
      await new Promise<void>((resolve) => (release = resolve));
    },
    () => void ran.push('forward'),
  ]);
  const done = pipeline(ctx);
  ctx.clientClosed();
  release();
  await done;
  assert.deepEqual(ran, ['lookup']);
});

test('the signal aborts when the client leaves, and is aborted already when asked for late', () => {
  const early = context();
  const signal = early.signal;
  assert.equal(signal.aborted, false);
  early.clientClosed();
  assert.equal(signal.aborted, true);
  const late = context();
  late.clientClosed();
  assert.equal(late.signal.aborted, true);
});

test('an upstream exchange handed over after the client left is stopped at once', () => {
  const ctx = context();
  ctx.clientClosed();
  const stops: boolean[] = [];
  const exchange: UpstreamExchange = { stop: (cleanly) => void stops.push(cleanly), fail: () => undefined };
  ctx.upstream = exchange;
  assert.deepEqual(stops, [false]);
});
