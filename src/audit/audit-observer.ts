// The audit log as a request observer: the gateway tells it when a request is about to go to its shard,
// when a watch's response starts and when a request is over; it asks the policy once per request and
// hands Events to the backends, which never block. Without an audit config this module is not loaded and
// nothing is observed.
//
// Stages: RequestReceived carries kube's requestReceivedTimestamp but is emitted together with the
// request's next stage (ResponseStarted for a watch, else ResponseComplete or Panic): the user and the
// workspace are known only after the pipeline's first stages, and a request refused before that (a bad
// path, a bad token) is audited as kube audits one, as system:anonymous.
//
// Bodies: at Request and RequestResponse the forwarder keeps the request body (and at RequestResponse the
// response body) as it streams past, up to maxObjectBytes; they are decoded once the request is over,
// for its ResponseComplete (or Panic) event only, as kube records objects. Watches, followed logs, exec,
// port-forward and upgrades are never tapped.
import type { RequestContext, RequestObserver } from '../gateway/context.ts';
import { BodyCapture } from '../gateway/body-capture.ts';
import type { AuditBackend } from './backend.ts';
import { auditEvent, auditSubject } from './event.ts';
import type { AuditDecision, AuditPolicy, AuditStage } from './policy.ts';
import { recordedObjects, type RecordedObjects } from './recorded-objects.ts';

/** kube-apiserver's --audit-log-truncate-max-event-size default: a larger body is left out of its event. */
export const defaultMaxObjectBytes = 102_400;

export interface AuditObserverOptions {
  /** A request or response body larger than this is not recorded (the event says so). */
  maxObjectBytes?: number;
}

export class AuditObserver implements RequestObserver {
  readonly #policy: () => AuditPolicy;
  readonly #backends: readonly AuditBackend[];
  readonly #maxObjectBytes: number;
  /** Decisions taken before the request ended (when it was forwarded), so one request sees one policy. */
  readonly #decided = new WeakMap<RequestContext, AuditDecision>();
  /** Requests whose RequestReceived went out with their ResponseStarted (watches). */
  readonly #started = new WeakSet<RequestContext>();

  /** `policy` is asked on each request: a reloaded policy applies to the next one. */
  constructor(policy: () => AuditPolicy, backends: readonly AuditBackend[], options: AuditObserverOptions = {}) {
    this.#policy = policy;
    this.#backends = backends;
    this.#maxObjectBytes = options.maxObjectBytes ?? defaultMaxObjectBytes;
  }

  requestForwarding(ctx: RequestContext): void {
    const decision = this.#decide(ctx);
    if (ctx.longRunning || ctx.upgrade !== undefined) return;
    if (decision.level === 'Request' || decision.level === 'RequestResponse') ctx.requestBodyCapture = new BodyCapture(this.#maxObjectBytes);
    if (decision.level === 'RequestResponse') ctx.responseBodyCapture = new BodyCapture(this.#maxObjectBytes);
  }

  responseStarted(ctx: RequestContext): void {
    const subject = auditSubject(ctx);
    const decision = this.#decide(ctx);
    this.#started.add(ctx);
    if (decision.level === 'None') return;
    this.#emit(ctx, decision, 'RequestReceived', subject);
    this.#emit(ctx, decision, 'ResponseStarted', subject);
  }

  requestFinished(ctx: RequestContext): void {
    const subject = auditSubject(ctx);
    const decision = this.#decided.get(ctx) ?? this.#policy().decide(subject);
    if (decision.level === 'None') return;
    if (!this.#started.has(ctx)) this.#emit(ctx, decision, 'RequestReceived', subject);
    const stage = panicked(ctx) ? 'Panic' : 'ResponseComplete';
    if (decision.omitStages.has(stage)) return;
    const objects = decision.level === 'Metadata' ? undefined : recordedObjects(ctx.requestBodyCapture, ctx.responseBodyCapture, decision.omitManagedFields);
    this.#emit(ctx, decision, stage, subject, objects);
  }

  #decide(ctx: RequestContext): AuditDecision {
    let decision = this.#decided.get(ctx);
    if (decision === undefined) {
      decision = this.#policy().decide(auditSubject(ctx));
      this.#decided.set(ctx, decision);
    }
    return decision;
  }

  #emit(ctx: RequestContext, decision: AuditDecision, stage: AuditStage, subject: ReturnType<typeof auditSubject>, objects?: RecordedObjects): void {
    if (decision.omitStages.has(stage)) return;
    const event = auditEvent(ctx, subject, decision.level, stage, ctx.shard, objects);
    for (const backend of this.#backends) backend.process(event);
  }
}

/** An unexpected exception in the gateway itself (not an answer it chose): kube's Panic stage. */
function panicked(ctx: RequestContext): boolean {
  const err = ctx.error;
  return err !== undefined && err.code === 'INTERNAL' && err.cause !== undefined;
}
