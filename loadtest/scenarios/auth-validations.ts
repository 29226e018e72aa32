// Validations per second of the org-realm authenticator, in process: cached (the verified-token cache
// answers: one SHA-256 and one map lookup) and uncached (every call verifies a signature: the cache is
// held to one entry while calls cycle through distinct tokens), per signing algorithm. Tokens come from
// the Keycloak stand-in over real HTTPS; the JWKS is fetched once and then held.
// Standalone: `node loadtest/scenarios/auth-validations.ts [--seconds 2]` (throughput with many in flight;
// the bench's `tokens` scenario measures one-at-a-time latency of the same two paths).
import { parseArgs } from 'node:util';
import { OrgRealmAuthenticator } from '../../src/auth/org-realm-authenticator.ts';
import { orgRealmsSettings, type OrgRealmsSettings } from '../../src/auth/realm-settings.ts';
import type { Credentials } from '../../src/auth/identity.ts';
import { startOidcIssuer, type SigningAlgorithm } from '../../src/sim/oidc-issuer.ts';
import { createCertificateAuthority, issueLoopbackServer } from '../../src/sim/pki.ts';
import type { ScenarioReport } from './index.ts';

const algorithms: SigningAlgorithm[] = ['RS256', 'ES256', 'PS256'];
const distinctTokens = 256;
const inFlight = 32;

async function measure(authenticator: OrgRealmAuthenticator, requests: Credentials[], seconds: number): Promise<number> {
  let done = 0;
  let next = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        const credentials = requests[next++ % requests.length]!;
        if ((await authenticator.authenticate(credentials)) === undefined) throw new Error('token refused');
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

export async function measureAuthValidations(seconds: number, log: (line: string) => void = () => undefined): Promise<ScenarioReport> {
  const ca = await createCertificateAuthority('auth bench CA');
  const issuer = await startOidcIssuer({ tls: await issueLoopbackServer(ca, 'oidc'), tokenLifetimeSeconds: 3600 });
  const rows: string[] = [];
  try {
    for (const alg of algorithms) {
      const org = `org-${alg.toLowerCase()}`;
      await issuer.addRealm(org, alg);
      const tokens = await Promise.all(Array.from({ length: distinctTokens }, (_, i) => issuer.mint(org, { user: `user-${i}`, groups: ['devs', 'ops'] })));
      const requests = tokens.map((token): Credentials => ({ token, org, workspace: `root:${org}:p`, clientCertificate: undefined }));
      const base: OrgRealmsSettings = orgRealmsSettings({ issuerTemplate: `${issuer.url}/realms/{org}`, ca: ca.certPem });
      const uncachedAuth = new OrgRealmAuthenticator({ realms: { ...base, tokenCache: { maxEntries: 1, maxTtlSeconds: 300 } } });
      const cachedAuth = new OrgRealmAuthenticator({ realms: base });
      try {
        // Warm: keys fetched, keys imported, cache filled.
        for (const r of requests) await Promise.all([uncachedAuth.authenticate(r), cachedAuth.authenticate(r)]);
        const uncached = await measure(uncachedAuth, requests, seconds);
        const cached = await measure(cachedAuth, requests, seconds);
        log(`auth ${alg}: uncached ${uncached.toFixed(0)}/s, cached ${cached.toFixed(0)}/s`);
        rows.push(`| ${alg} | ${tokens[0]!.length} | ${uncached.toFixed(0)} | ${cached.toFixed(0)} |`);
      } finally {
        await Promise.all([uncachedAuth.close(), cachedAuth.close()]);
      }
    }
  } finally {
    await issuer.close();
  }
  return {
    title: 'Token validations per second (one core of the gateway process)',
    markdown: [
      `In process, ${inFlight} validations in flight, ${seconds} s each, ${distinctTokens} distinct tokens per realm.`,
      '',
      '| algorithm | token bytes | uncached /s | cached /s |',
      '|---|---|---|---|',
      ...rows,
    ].join('\n'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' } } });
  const report = await measureAuthValidations(Number(values.seconds), (line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`\n## ${report.title}\n\n${report.markdown}\n`);
}
