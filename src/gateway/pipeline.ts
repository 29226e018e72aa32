// A pipeline is an ordered array of stages folded by compose(). A stage looks at the typed context,
// fills its part or answers; once the context says it responded, or that the client is gone, later
// stages are skipped: a stage that awaited I/O (a Redis lookup, a JWKS fetch) while the client reset
// the request never passes it on, so nothing is forwarded for a client that is no longer there.
import type { RequestContext } from './context.ts';
import { respondWithError, toGatewayError } from './respond.ts';

export type Stage = (ctx: RequestContext) => void | Promise<void>;

/** Runs to the end synchronously while every stage does (undefined); a promise from the first that waits. */
export type Pipeline = (ctx: RequestContext) => void | Promise<void>;

export function compose(stages: readonly Stage[]): Pipeline {
  stages.forEach((stage, i) => {
    if (typeof stage !== 'function') throw new TypeError(`pipeline stage ${i} is not a function`);
  });
  const frozen = Object.freeze([...stages]);
  const count = frozen.length;

  function fail(ctx: RequestContext, err: unknown): void {
    if (!ctx.responded && !ctx.clientGone) respondWithError(ctx, toGatewayError(err));
    else ctx.error ??= toGatewayError(err);
  }

  // Once a stage has returned a promise, the rest runs here, awaiting each stage that waits.
  async function runFrom(ctx: RequestContext, pending: Promise<void>, next: number): Promise<void> {
    try {
      await pending;
      for (let i = next; i < count && !ctx.responded && !ctx.clientGone; i++) {
        const waiting = frozen[i]!(ctx);
        if (waiting !== undefined) await waiting;
      }
    } catch (err) {
      fail(ctx, err);
    }
  }

  // Synchronous until a stage returns a promise: a request whose stages all answer from memory (the
  // steady state: cached route, cached token, local rate counters) allocates no promise and waits
  // for no microtask on its way to the shard.
  return function runPipeline(ctx: RequestContext): void | Promise<void> {
    for (let i = 0; i < count && !ctx.responded && !ctx.clientGone; i++) {
      let pending: void | Promise<void>;
      try {
        pending = frozen[i]!(ctx);
      } catch (err) {
        fail(ctx, err);
        return;
      }
      if (pending !== undefined) return runFrom(ctx, pending, i + 1);
    }
  };
}
