// Prometheus metrics of token authentication, registered on a registry the caller owns.
import { Counter, type Registry } from 'prom-client';
import type { AuthFailureReason } from './auth-failure.ts';
import { SeriesValues, type ValueSeries } from '../metric-series.ts';

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
  // Counted on every request: plain numbers per label set (metric-series.ts), read at scrape time.
  const successes = new SeriesValues('counter', {
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
  const successSeries = new Map<string, ValueSeries>();
  return {
    failure: (reason) => failures.inc({ reason }),
    success: (cache) => {
      let s = successSeries.get(cache);
      if (s === undefined) successSeries.set(cache, (s = successes.series({ cache })));
      s.value += 1;
    },
    jwksFetch: (org, outcome) => fetches.inc({ org, outcome }),
  };
}
