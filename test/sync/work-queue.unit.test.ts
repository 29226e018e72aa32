import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../../src/kube/backoff.ts';
import { WorkQueue } from '../../src/sync/work-queue.ts';
import { waitFor } from '../helpers/wait.ts';

test('backoff grows exponentially, is capped and jittered', () => {
  const policy = { baseMs: 100, capMs: 1000, jitter: 0.5 };
  assert.equal(
    backoffDelay(0, policy, () => 0),
    100,
  );
  assert.equal(
    backoffDelay(3, policy, () => 0),
    800,
  );
  assert.equal(
    backoffDelay(10, policy, () => 0),
    1000,
  );
  assert.equal(
    backoffDelay(10, policy, () => 1),
    500,
  );
});

test('a key is processed by one worker at a time and re-run when it changed meanwhile', async () => {
  const runs: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const queue = new WorkQueue({
    concurrency: 4,
    async handle(key) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      runs.push(key);
      if (runs.length === 1) await gate;
      inFlight--;
    },
  });
  queue.add('a');
  queue.add('a'); // while running: marked dirty, not run concurrently
  queue.add('a');
  release();
  await waitFor(() => runs.length === 2 && queue.length === 0, { what: 'rerun' });
  await queue.idle();
  assert.deepEqual(runs, ['a', 'a']);
  assert.equal(maxInFlight, 1);
});

test('failures retry with backoff and stop after the bound', async () => {
  const attempts: number[] = [];
  const gaveUp: boolean[] = [];
  const queue = new WorkQueue({
    concurrency: 1,
    maxAttempts: 3,
    backoff: { baseMs: 1, capMs: 5, jitter: 0 },
    async handle() {
      attempts.push(Date.now());
      throw new Error('shard down');
    },
    onError: (_k, _e, _a, g) => gaveUp.push(g),
  });
  queue.add('k');
  await waitFor(() => gaveUp.includes(true), { what: 'give up' });
  await queue.idle();
  assert.equal(attempts.length, 3);
  assert.deepEqual(gaveUp, [false, false, true]);
});

test('a handler can ask to be called again later', async () => {
  let calls = 0;
  const queue = new WorkQueue({
    concurrency: 1,
    async handle() {
      calls++;
      return calls < 3 ? { requeueAfterMs: 5 } : undefined;
    },
  });
  queue.add('k');
  await waitFor(() => calls === 3, { what: 'three calls' });
  await queue.idle();
  queue.stop();
  assert.equal(calls, 3);
});

test('keys that gave up are remembered, and retryFailed runs the ones picked again with a fresh budget', async () => {
  let up = false;
  const runs: string[] = [];
  const givenUp: number[] = [];
  const queue = new WorkQueue({
    concurrency: 2,
    maxAttempts: 2,
    backoff: { baseMs: 1, capMs: 2, jitter: 0 },
    async handle(key) {
      runs.push(key);
      if (!up) throw new Error('server down');
    },
    onGivenUpChange: (n) => givenUp.push(n),
  });
  queue.add('shard-a|default/x');
  queue.add('shard-b|default/y');
  await waitFor(() => queue.givenUp === 2, { what: 'both give up' });
  await queue.idle();
  assert.equal(runs.length, 4, 'two attempts each');
  assert.equal(
    queue.retryFailed((key) => key.startsWith('shard-c|')),
    0,
    'nothing failed against that side',
  );

  up = true;
  assert.equal(
    queue.retryFailed((key) => key.startsWith('shard-a|')),
    1,
  );
  await queue.idle();
  assert.deepEqual(runs.slice(4), ['shard-a|default/x']);
  assert.equal(queue.givenUp, 1, 'the other side is still given up');
  assert.equal(queue.retryFailed(), 1);
  await queue.idle();
  assert.equal(queue.givenUp, 0);
  assert.equal(queue.retryFailed(), 0, 'succeeded keys are no longer failing');
  assert.deepEqual(givenUp, [1, 2, 1, 0]);
});
