// What an organisation realm is: the settings every realm shares (from the gateway config), the
// per-org overrides (config file or Redis), and the resolved Realm one token is checked against.

/** Asymmetric JWS algorithms only: `none` and HMAC can never be configured. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type AllowedAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

export interface ClaimMapping {
  claim: string;
  /** Prepended to every value; `{org}` stands for the realm's organisation. */
  prefix: string;
}

export interface ClaimMappings {
  username: ClaimMapping;
  groups: ClaimMapping;
}

/** Per-org deviations from the template; every field optional. The same shape lives in Redis. */
export interface RealmOverride {
  issuer?: string;
  discoveryUrl?: string;
  /** PEM bundle trusted for discovery and JWKS of this realm. */
  ca?: string;
  audiences?: string[];
  claimMappings?: { username?: ClaimMapping; groups?: ClaimMapping };
  /** Claims that must be present with exactly this string value (or contain it, for arrays). */
  requiredClaims?: Record<string, string>;
}

export interface JwksSettings {
  /** Unknown kid → at most one refetch per realm per this interval. */
  minRefetchIntervalMs: number;
  /** Keys older than this are refreshed in the background (kept when the refresh fails). */
  maxAgeMs: number;
  timeoutMs: number;
  /** How long a kid that a fresh JWKS did not contain is answered without asking again. */
  negativeCacheTtlMs: number;
  maxResponseBytes: number;
}

export interface OrgRealmsSettings {
  /** e.g. https://keycloak.example.com/realms/{org} */
  issuerTemplate: string;
  audiences: string[];
  /** PEM bundle for every realm without its own; the system trust store when absent. */
  ca?: string;
  algorithms: AllowedAlgorithm[];
  notBeforeLeewaySeconds: number;
  expirySkewSeconds: number;
  claimMappings: ClaimMappings;
  requiredClaims: Record<string, string>;
  /** Tokens longer than this are rejected before anything parses them. */
  maxTokenBytes: number;
  tokenCache: { maxEntries: number; maxTtlSeconds: number };
  jwks: JwksSettings;
  orgs: Record<string, RealmOverride>;
}

export const DEFAULT_ORG_REALMS_SETTINGS: Readonly<Omit<OrgRealmsSettings, 'issuerTemplate'>> = Object.freeze<Omit<OrgRealmsSettings, 'issuerTemplate'>>({
  audiences: ['kcp-edge'],
  algorithms: ['RS256', 'ES256', 'PS256'],
  notBeforeLeewaySeconds: 60,
  expirySkewSeconds: 5,
  claimMappings: { username: { claim: 'preferred_username', prefix: '{org}:' }, groups: { claim: 'groups', prefix: '{org}:' } },
  requiredClaims: {},
  maxTokenBytes: 16 * 1024,
  tokenCache: { maxEntries: 10_000, maxTtlSeconds: 300 },
  jwks: { minRefetchIntervalMs: 10_000, maxAgeMs: 10 * 60_000, timeoutMs: 5_000, negativeCacheTtlMs: 60_000, maxResponseBytes: 1024 * 1024 },
  orgs: {},
});

export function orgRealmsSettings(partial: Partial<OrgRealmsSettings> & { issuerTemplate: string }): OrgRealmsSettings {
  return { ...DEFAULT_ORG_REALMS_SETTINGS, ...partial, jwks: { ...DEFAULT_ORG_REALMS_SETTINGS.jwks, ...partial.jwks } } as OrgRealmsSettings;
}

/** Everything one token of one org is checked against. */
export interface Realm {
  org: string;
  issuer: string;
  discoveryUrl: string;
  ca: string | undefined;
  audiences: string[];
  algorithms: AllowedAlgorithm[];
  notBeforeLeewaySeconds: number;
  expirySkewSeconds: number;
  claimMappings: ClaimMappings;
  requiredClaims: Record<string, string>;
  /** Changes whenever where or how the keys are fetched changes, so a key set is rebuilt then. */
  keySource: string;
}

// An org is a DNS-1123 label (the path parser guarantees it); checked again because it becomes part of a URL.
const orgName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function isOrgName(org: string): boolean {
  return orgName.test(org);
}

const withOrg = (mapping: ClaimMapping, org: string): ClaimMapping => ({ claim: mapping.claim, prefix: mapping.prefix.replaceAll('{org}', org) });

export function resolveRealm(settings: OrgRealmsSettings, org: string, override: RealmOverride = {}): Realm {
  const issuer = override.issuer ?? settings.issuerTemplate.replaceAll('{org}', org);
  const discoveryUrl = override.discoveryUrl ?? `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const ca = override.ca ?? settings.ca;
  return {
    org,
    issuer,
    discoveryUrl,
    ca,
    audiences: override.audiences ?? settings.audiences,
    algorithms: settings.algorithms,
    notBeforeLeewaySeconds: settings.notBeforeLeewaySeconds,
    expirySkewSeconds: settings.expirySkewSeconds,
    claimMappings: {
      username: withOrg(override.claimMappings?.username ?? settings.claimMappings.username, org),
      groups: withOrg(override.claimMappings?.groups ?? settings.claimMappings.groups, org),
    },
    requiredClaims: { ...settings.requiredClaims, ...override.requiredClaims },
    keySource: JSON.stringify([issuer, discoveryUrl, ca ?? '']),
  };
}
