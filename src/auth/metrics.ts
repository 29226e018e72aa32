// Prometheus metrics of token authentication, registered on a registry the caller owns.
import { Counter, type Registry } from 'prom-client';
import type { AuthFailureReason } from './auth-failure.ts';

export interface AuthMetrics {
  failure(reason: AuthFailureReason): void;
  success(cache: 'hit' | 'miss'): void;
  jwksFetch(org: string, outcome: 'ok' | 'error'): void;
}

export function registerAuthMetrics(registry: Registry): AuthMetrics {
  const registers = [registry];
  const failures = new Counter({
    name: 'kcp_edge_authn_failures_total',
    help: 'Bearer tokens refused with 401, per reason (the reason never reaches the client).',
    labelNames: ['reason'] as const,
    registers,
  });
  const successes = new Counter({
    name: 'kcp_edge_authn_successes_total',
    help: 'Bearer tokens accepted, by whether the verified-token cache answered (hit) or the token was verified (miss).',
    labelNames: ['cache'] as const,
    registers,
  });
  const fetches = new Counter({
    name: 'kcp_edge_authn_jwks_fetches_total',
    help: 'JWKS fetches (with discovery when needed) per organisation realm and outcome.',
    labelNames: ['org', 'outcome'] as const,
    registers,
  });
  return {
    failure: (reason) => failures.inc({ reason }),
    success: (cache) => successes.inc({ cache }),
    jwksFetch: (org, outcome) => fetches.inc({ org, outcome }),
  };
}
