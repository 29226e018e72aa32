import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compose } from '../../../src/gateway/pipeline.ts';
import { respond } from '../../../src/gateway/respond.ts';
import { limitRate } from '../../../src/gateway/stages/limit-rate.ts';
import { parseWorkspacePath } from '../../../src/gateway/stages/parse-workspace-path.ts';
import type { LimitContext, LimitDecision, Limiter } from '../../../src/ratelimit/types.ts';
import { fakeContext, resolution, shard } from '../fake-context.ts';

/** A limiter giving one fixed decision, recording what it was asked and how often slots were freed. */
function limiter(allowed: boolean) {
  const asked: LimitContext[] = [];
  let released = 0;
  const decision: LimitDecision = {
    allowed,
    retryAfterSeconds: allowed ? 0 : 4,
    flowSchema: { name: 'per-org', uid: 'fs-uid' },
    priorityLevel: { name: 'tenants', uid: 'pl-uid' },
    ...(allowed ? {} : { message: 'too many requests from org-acme' }),
    release: () => void released++,
  };
  const impl: Limiter = {
    admit: async (_identity, _attrs, context) => {
      asked.push(context);
      return decision;
    },
    close: async () => {},
  };
  return { impl, asked, released: () => released };
}

function request() {
  const exchange = fakeContext({ url: '/clusters/root:org-acme:proj/api/v1/configmaps?watch=1' });
  parseWorkspacePath(exchange.ctx);
  exchange.ctx.identity = { user: 'alice', groups: [], extra: {} };
  return exchange;
}

test('an admitted request carries the flow headers and holds its slot until it is over', async () => {
  const l = limiter(true);
  const { ctx, res } = request();
  ctx.target = resolution('root:org-acme:proj', shard('east'), 'c-proj');
  await limitRate(l.impl)(ctx);
  assert.deepEqual(l.asked, [{ workspace: 'root:org-acme:proj', org: 'org-acme' }]);
  // They go out with whatever answers; here the gateway's own answer.
  respond(ctx, 200, { 'content-type': 'text/plain' }, 'ok');
  assert.equal(res.headers['x-kubernetes-pf-flowschema-uid'], 'fs-uid');
  assert.equal(res.headers['x-kubernetes-pf-prioritylevel-uid'], 'pl-uid');
  assert.equal(res.headers['content-type'], 'text/plain');
  assert.equal(ctx.limit?.flowSchema.name, 'per-org');
  assert.equal(l.released(), 0);
  ctx.clientClosed();
  assert.equal(l.released(), 1);
});

test('an unresolved workspace is limited by the path it names', async () => {
  const l = limiter(true);
  await limitRate(l.impl)(request().ctx);
  assert.deepEqual(l.asked, [{ workspace: 'root:org-acme:proj', org: 'org-acme' }]);
});

test('over the limit is 429 with Retry-After, still saying which flow judged it', async () => {
  const l = limiter(false);
  const { ctx, res } = request();
  // Run as the pipeline runs it, so the 429 Status is written.
  await compose([limitRate(l.impl)])(ctx);
  assert.equal(res.statusCode, 429);
  assert.equal(res.headers['retry-after'], '4');
  assert.equal(res.json().message, 'too many requests from org-acme');
  assert.equal(res.headers['x-kubernetes-pf-flowschema-uid'], 'fs-uid');
  assert.equal(res.headers['x-kubernetes-pf-prioritylevel-uid'], 'pl-uid');
});

test('a decision whose release() is a method is released on itself, once the request is over', async () => {
  class Held implements LimitDecision {
    readonly allowed = true;
    readonly retryAfterSeconds = 0;
    readonly flowSchema = { name: 'per-org', uid: 'fs-uid' };
    readonly priorityLevel = { name: 'tenants', uid: 'pl-uid' };
    released = 0;
    release(): void {
      this.released++;
    }
  }
  const decision = new Held();
  const asked: LimitContext[] = [];
  const impl: Limiter = {
    admit: (_identity, _attrs, context) => {
      asked.push(context);
      return decision;
    },
    close: async () => {},
  };
  const stage = limitRate(impl);
  const first = request();
  const second = request();
  let otherFinisher = 0;
  first.ctx.onFinished(() => otherFinisher++);
  await stage(first.ctx);
  await stage(second.ctx);
  // One context object per workspace, kept from one request to the next.
  assert.equal(asked[0], asked[1]);
  assert.deepEqual(asked[0], { workspace: 'root:org-acme:proj', org: 'org-acme' });
  first.ctx.onFinished({ release: () => otherFinisher++ });
  assert.equal(decision.released, 0);
  first.ctx.clientClosed();
  assert.equal(decision.released, 1);
  assert.equal(otherFinisher, 2, 'finishers before and after it ran too');
  second.ctx.clientClosed();
  second.ctx.clientClosed();
  assert.equal(decision.released, 2);
});
