import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestContext, type ClientRequest, type UpstreamExchange } from '../../src/gateway/context.ts';
import { compose } from '../../src/gateway/pipeline.ts';

function context(): RequestContext {
  const req = { headers: {}, url: '/clusters/root:a/api/v1/configmaps?watch=1', method: 'GET' } as unknown as ClientRequest;
  return new RequestContext(req, undefined, { socket: undefined as never, head: Buffer.alloc(0) }, { requestFinished: () => undefined });
}

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
  const exchange: UpstreamExchange = { stop: (cleanly) => void stops.push(cleanly) };
  ctx.upstream = exchange;
  assert.deepEqual(stops, [false]);
});
