// Every shard issues service-account tokens under its own issuer and publishes that issuer's keys;
// the gateway is told to trust each one, fetching the keys by OIDC discovery as it would from kcp
// shards, and to notice a deleted ServiceAccount within a couple of seconds.
import { join } from 'node:path';
import type { DevStep } from '../stack.ts';

/** How long the dev gateway trusts its last answer about a ServiceAccount (the deletion bound). */
export const devLookupCacheSeconds = 2;

export const serviceAccounts: DevStep = {
  name: 'service-accounts',
  async run(stack) {
    const caFile = join(stack.files.certs, 'ca.crt');
    const issuers = [...stack.shards.values()].map((shard) => ({
      issuer: shard.serviceAccountIssuer,
      discoveryUrl: `${shard.url}/.well-known/openid-configuration`,
      caFile,
    }));
    const authentication = (stack.gatewayConfig['authentication'] ?? {}) as Record<string, unknown>;
    stack.gatewayConfig['authentication'] = { ...authentication, serviceAccounts: { issuers, lookup: { cacheSeconds: devLookupCacheSeconds } } };
  },
};
