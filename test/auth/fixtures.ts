// A CA, a stand-in Keycloak with one realm per org, and authenticators pointed at it.
import type { TestContext } from 'node:test';
import { Registry } from 'prom-client';
import { registerAuthMetrics } from '../../src/auth/metrics.ts';
import { OrgRealmAuthenticator } from '../../src/auth/org-realm-authenticator.ts';
import { orgRealmsSettings, type OrgRealmsSettings } from '../../src/auth/realm-settings.ts';
import { startOidcIssuer, type OidcIssuer } from '../../src/sim/oidc-issuer.ts';
import { createCertificateAuthority, issueLoopbackServer, type CertificateAuthority } from '../../src/sim/pki.ts';
import type { Credentials } from '../../src/auth/identity.ts';

export interface IssuerFixture {
  ca: CertificateAuthority;
  issuer: OidcIssuer;
  settings(overrides?: Partial<OrgRealmsSettings>): OrgRealmsSettings;
}

export async function startIssuerFixture(t: TestContext, realms = ['org-acme', 'org-globex']): Promise<IssuerFixture> {
  const ca = await createCertificateAuthority('kcp-edge test CA');
  const issuer = await startOidcIssuer({ tls: await issueLoopbackServer(ca, 'oidc'), realms });
  t.after(() => issuer.close());
  return {
    ca,
    issuer,
    settings: (overrides = {}) => orgRealmsSettings({ issuerTemplate: `${issuer.url}/realms/{org}`, ca: ca.certPem, ...overrides }),
  };
}

export function newAuthenticator(t: TestContext, settings: OrgRealmsSettings) {
  const registry = new Registry();
  const authenticator = new OrgRealmAuthenticator({ realms: settings, metrics: registerAuthMetrics(registry) });
  t.after(() => authenticator.close());
  return { authenticator, registry };
}

export function credentials(org: string | undefined, token: string | undefined): Credentials {
  return { token, org, clientCertificate: undefined, workspace: org === undefined ? undefined : `root:${org}:proj` };
}

export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want)).reduce((sum, v) => sum + v.value, 0);
}
