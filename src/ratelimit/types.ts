// The seams of the rate-limit concern: what the gateway's rate stage calls, and what it gets back.
// Implementations (in-memory for the embedded mode, Redis with a local fallback for replicas) sit
// behind `Limiter`; the stage never knows which one it talks to.
import type { Identity } from '../auth/identity.ts';
import type { RequestAttributes } from '../kube/request-attributes.ts';

export interface LimitDecision {
  allowed: boolean;
  /** Whole seconds, >= 1 when !allowed; 0 when allowed. */
  retryAfterSeconds: number;
  flowSchema: { name: string; uid: string };
  priorityLevel: { name: string; uid: string };
  /** Readable reason for the 429 Status when !allowed. */
  message?: string;
  /** Frees a watch slot / in-flight slot; idempotent; no-op when none was taken. Call it on the decision (it may use `this`). */
  release(): void;
}

export interface LimitContext {
  org?: string;
  workspace?: string;
}

export interface Limiter {
  /** At once when the counters are in this process; a promise when they are elsewhere (Redis). */
  admit(identity: Identity, attrs: RequestAttributes, context: LimitContext): LimitDecision | Promise<LimitDecision>;
  close(): Promise<void>;
}
