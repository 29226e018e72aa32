// Where audit events go. A backend takes an event and returns at once: it never makes a request wait.
import type { AuditEvent } from './event.ts';

export interface AuditBackend {
  /** Queues the event; drops (and counts) it when the backend's buffer is full. Never blocks, never throws. */
  process(event: AuditEvent): void;
  /** Writes out what is queued, then stops. */
  close(): Promise<void>;
}
