// A pipeline is an ordered array of stages folded by compose(). A stage looks at the typed context,
// fills its part or answers; once the context says it responded, or that the client is gone, later
// stages are skipped: a stage that awaited I/O (a Redis lookup, a JWKS fetch) while the client reset
// the request never passes it on, so nothing is forwarded for a client that is no longer there.
import type { RequestContext } from './context.ts';
import { respondWithError, toGatewayError } from './respond.ts';

export type Stage = (ctx: RequestContext) => void | Promise<void>;

export type Pipeline = (ctx: RequestContext) => Promise<void>;

export function compose(stages: readonly Stage[]): Pipeline {
  stages.forEach((stage, i) => {
    if (typeof stage !== 'function') throw new TypeError(`pipeline stage ${i} is not a function`);
  });
  const frozen = Object.freeze([...stages]);
  const count = frozen.length;
  return async function runPipeline(ctx: RequestContext): Promise<void> {
    try {
      for (let i = 0; i < count && !ctx.responded && !ctx.clientGone; i++) {
        // Synchronous stages return undefined: no await, no microtask.
        const pending = frozen[i]!(ctx);
        if (pending !== undefined) await pending;
      }
    } catch (err) {
      if (!ctx.responded && !ctx.clientGone) respondWithError(ctx, toGatewayError(err));
      else ctx.error ??= toGatewayError(err);
    }
  };
}
