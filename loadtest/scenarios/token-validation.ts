// Token validation: what the authenticate stage pays for an organisation-realm JWT the first time it sees
// it (signature check against the realm's JWKS) and every time after (hash + cache lookup), with real
// tokens from the stand-in Keycloak (RS256 and ES256 realms).
import { readFile } from 'node:fs/promises';
import { OrgRealmAuthenticator } from '../../src/auth/org-realm-authenticator.ts';
import { orgRealmsSettings } from '../../src/auth/realm-settings.ts';
import type { Credentials } from '../../src/auth/identity.ts';
import { startOidcIssuer, type SigningAlgorithm } from '../../src/sim/oidc-issuer.ts';
import { percentile } from '../lib/stats.ts';
import type { Scenario } from './index.ts';

interface Row {
  what: string;
  perSecond: number;
  p50us: number;
  p99us: number;
}

async function timed(what: string, count: number, run: (i: number) => Promise<unknown>): Promise<Row> {
  const latencies = new Float64Array(count);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await run(i);
    latencies[i] = (performance.now() - t) * 1000;
  }
  const seconds = (performance.now() - started) / 1000;
  const all = Array.from(latencies);
  return { what, perSecond: count / seconds, p50us: percentile(all, 50), p99us: percentile(all, 99) };
}

export const tokenValidation: Scenario = {
  name: 'tokens',
  async run({ env, log, quick }) {
    const distinct = quick ? 300 : 2000;
    const [certPem, keyPem, caPem] = await Promise.all([readFile(env.serverCertFile, 'utf8'), readFile(env.serverKeyFile, 'utf8'), readFile(env.caFile, 'utf8')]);
    const orgs: Record<SigningAlgorithm, string> = { RS256: 'org-rsa', ES256: 'org-ec', PS256: 'org-pss' };
    const issuer = await startOidcIssuer({ tls: { certPem, keyPem }, realms: [] });
    const authenticator = new OrgRealmAuthenticator({
      realms: orgRealmsSettings({ issuerTemplate: `${issuer.url}/realms/{org}`, ca: caPem, tokenCache: { maxEntries: 100_000, maxTtlSeconds: 300 } }),
    });
    const rows: Row[] = [];
    try {
      for (const algorithm of ['RS256', 'ES256'] as const) {
        const org = orgs[algorithm];
        await issuer.addRealm(org, algorithm);
        const credentials = (token: string): Credentials => ({ token, org, clientCertificate: undefined, workspace: `root:${org}:proj` });
        const tokens: string[] = [];
        for (let i = 0; i < distinct; i++) tokens.push(await issuer.mint(org, { user: `user-${i}`, groups: ['developers'] }));
        // The first token also fetches discovery and the JWKS; it is not part of the timed runs.
        await authenticator.authenticate(credentials(await issuer.mint(org, { user: 'warm-up' })));
        rows.push(await timed(`${algorithm}: first sight of a token (signature verified)`, distinct, (i) => authenticator.authenticate(credentials(tokens[i]!))));
        rows.push(await timed(`${algorithm}: cached token (hash + LRU)`, quick ? 50_000 : 200_000, (i) => authenticator.authenticate(credentials(tokens[i % distinct]!))));
        log(`tokens: ${algorithm} done`);
      }
    } finally {
      await authenticator.close();
      await issuer.close();
    }
    return {
      title: 'Token validation (organisation realms, real JWTs)',
      markdown: [
        'OrgRealmAuthenticator in this process, against the stand-in Keycloak over TLS; one validation at a time.',
        '',
        '| validation | per second | p50 µs | p99 µs |',
        '|---|---:|---:|---:|',
        ...rows.map((r) => `| ${r.what} | ${Math.round(r.perSecond).toLocaleString('en-US')} | ${r.p50us.toFixed(1)} | ${r.p99us.toFixed(1)} |`),
      ].join('\n'),
    };
  },
};
