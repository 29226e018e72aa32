// The audit log as a request observer: the gateway tells it when a watch's response starts and when a
// request is over; it asks the policy once per request and hands Events to the backends, which never
// block. Without an audit config this module is not loaded and nothing is observed.
//
// Stages: RequestReceived carries kube's requestReceivedTimestamp but is emitted together with the
// request's next stage (ResponseStarted for a watch, else ResponseComplete or Panic): the user and the
// workspace are known only after the pipeline's first stages, and a request refused before that (a bad
// path, a bad token) is audited as kube audits one, as system:anonymous.
import type { RequestContext, RequestObserver } from '../gateway/context.ts';
import type { AuditBackend } from './backend.ts';
import { auditEvent, auditSubject } from './event.ts';
import type { AuditDecision, AuditPolicy, AuditStage } from './policy.ts';

export class AuditObserver implements RequestObserver {
  readonly #policy: () => AuditPolicy;
  readonly #backends: readonly AuditBackend[];
  /** Decisions of requests whose response has started (watches), until they finish. */
  readonly #started = new WeakMap<RequestContext, AuditDecision>();

  /** `policy` is asked on each request: a reloaded policy applies to the next one. */
  constructor(policy: () => AuditPolicy, backends: readonly AuditBackend[]) {
    this.#policy = policy;
    this.#backends = backends;
  }

  responseStarted(ctx: RequestContext): void {
    const subject = auditSubject(ctx);
    const decision = this.#policy().decide(subject);
    this.#started.set(ctx, decision);
    if (decision.level === 'None') return;
    this.#emit(ctx, decision, 'RequestReceived', subject);
    this.#emit(ctx, decision, 'ResponseStarted', subject);
  }

  requestFinished(ctx: RequestContext): void {
    const subject = auditSubject(ctx);
    const earlier = this.#started.get(ctx);
    const decision = earlier ?? this.#policy().decide(subject);
    if (decision.level === 'None') return;
    if (earlier === undefined) this.#emit(ctx, decision, 'RequestReceived', subject);
    this.#emit(ctx, decision, panicked(ctx) ? 'Panic' : 'ResponseComplete', subject);
  }

  #emit(ctx: RequestContext, decision: AuditDecision, stage: AuditStage, subject: ReturnType<typeof auditSubject>): void {
    if (decision.omitStages.has(stage)) return;
    const event = auditEvent(ctx, subject, decision.level, stage, ctx.shard);
    for (const backend of this.#backends) backend.process(event);
  }
}

/** An unexpected exception in the gateway itself (not an answer it chose): kube's Panic stage. */
function panicked(ctx: RequestContext): boolean {
  const err = ctx.error;
  return err !== undefined && err.code === 'INTERNAL' && err.cause !== undefined;
}
