// The audit log a gateway config names: its policy (followed: an edit applies to the next request, a
// broken edit keeps the previous policy), its backends, and the observer the gateway tells.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AuditObserver } from '../audit/audit-observer.ts';
import type { AuditBackend } from '../audit/backend.ts';
import { FileAuditBackend } from '../audit/file-backend.ts';
import { registerAuditMetrics } from '../audit/metrics.ts';
import { auditPolicyKind } from '../audit/policy.ts';
import { WebhookAuditBackend } from '../audit/webhook-backend.ts';
import { watchConfig } from '../config/index.ts';
import type { AuditConfig } from './gateway-config.ts';

export interface AuditLog {
  observer: AuditObserver;
  /** Writes out what the backends hold; after the gateway has drained. */
  close(): Promise<void>;
}

export async function openAuditLog(config: AuditConfig, registry: Registry, logger: Logger): Promise<AuditLog> {
  const log = logger.child({ component: 'audit' });
  const metrics = registerAuditMetrics(registry);
  const policy = await watchConfig(auditPolicyKind, config.policyFile, { log });
  const backends: AuditBackend[] = [];
  try {
    if (config.log !== undefined) backends.push(await FileAuditBackend.open({ ...config.log, metrics, log }));
    if (config.webhook !== undefined) backends.push(new WebhookAuditBackend({ ...config.webhook, metrics, log }));
  } catch (err) {
    policy.close();
    throw err;
  }
  return {
    observer: new AuditObserver(() => policy.current, backends, { maxObjectBytes: config.maxObjectBytes }),
    async close() {
      policy.close();
      await Promise.all(backends.map((b) => b.close()));
    },
  };
}
