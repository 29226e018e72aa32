// The audit log's own metrics: what each backend wrote, and what it dropped rather than hold up a request.
import { Counter, type Registry } from 'prom-client';

export interface AuditMetrics {
  written(backend: string, events: number): void;
  dropped(backend: string, events: number): void;
}

export function registerAuditMetrics(registry: Registry): AuditMetrics {
  const written = new Counter({
    name: 'kcp_edge_audit_events_total',
    help: 'Audit events handed to a backend (file: written; webhook: delivered in a batch the webhook accepted).',
    labelNames: ['backend'] as const,
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'kcp_edge_audit_events_dropped_total',
    help: 'Audit events dropped: the backend buffer was full, or the webhook refused or could not be reached.',
    labelNames: ['backend'] as const,
    registers: [registry],
  });
  for (const backend of ['file', 'webhook']) {
    written.inc({ backend }, 0);
    dropped.inc({ backend }, 0);
  }
  return {
    written: (backend, events) => written.inc({ backend }, events),
    dropped: (backend, events) => dropped.inc({ backend }, events),
  };
}
