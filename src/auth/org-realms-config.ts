// The `authentication.orgRealms` block of the gateway config, and the per-org override record kept in
// Redis. The gateway config's schema embeds `orgRealmsSchema`; its build step calls
// `buildOrgRealmsSettings`, which reads CA files and turns seconds into the settings the
// authenticator takes.
import type { BuildContext, DeepReadonly, FieldPath } from '../config/index.ts';
import { ASYMMETRIC_ALGORITHMS, DEFAULT_ORG_REALMS_SETTINGS, type AllowedAlgorithm, type ClaimMapping, type OrgRealmsSettings, type RealmOverride } from './realm-settings.ts';

const d = DEFAULT_ORG_REALMS_SETTINGS;
const text = { type: 'string', minLength: 1 };
const httpsUrl = { type: 'string', pattern: '^https://[^\\s]+$', errorMessage: 'must be an https:// URL' };
const seconds = (def: number, maximum = 86_400) => ({ type: 'number', minimum: 0, maximum, default: def });
const section = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  properties,
  required,
  default: {},
});
const claimMapping = (def: ClaimMapping) => ({
  type: 'object',
  additionalProperties: false,
  properties: { claim: text, prefix: { type: 'string' } },
  required: ['claim', 'prefix'],
  default: def,
});
const claimMappingOverride = { type: 'object', additionalProperties: false, properties: { claim: text, prefix: { type: 'string' } }, required: ['claim', 'prefix'] };
const audiences = { type: 'array', items: text, minItems: 1 };
const requiredClaims = { type: 'object', additionalProperties: { type: 'string' } };
const overrideProperties = {
  issuer: httpsUrl,
  discoveryUrl: httpsUrl,
  audiences,
  claimMappings: { type: 'object', additionalProperties: false, properties: { username: claimMappingOverride, groups: claimMappingOverride } },
  requiredClaims,
};

/** One org's override as stored in Redis (JSON); `ca` is the PEM itself. */
export const realmOverrideSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { ...overrideProperties, ca: { type: 'string', pattern: '-----BEGIN CERTIFICATE-----' } },
};

export const orgRealmsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['issuerTemplate'],
  properties: {
    issuerTemplate: { type: 'string', pattern: '^https://[^\\s]*\\{org\\}', errorMessage: 'must be an https:// URL containing {org}' },
    audiences: { ...audiences, default: d.audiences },
    caFile: text,
    algorithms: { type: 'array', items: { enum: [...ASYMMETRIC_ALGORITHMS] }, minItems: 1, uniqueItems: true, default: d.algorithms },
    leeway: section({ notBeforeSeconds: seconds(d.notBeforeLeewaySeconds, 600), expirySkewSeconds: seconds(d.expirySkewSeconds, 60) }),
    claimMappings: section({ username: claimMapping(d.claimMappings.username), groups: claimMapping(d.claimMappings.groups) }),
    requiredClaims: { ...requiredClaims, default: {} },
    maxTokenBytes: { type: 'integer', minimum: 512, maximum: 1024 * 1024, default: d.maxTokenBytes },
    tokenCache: section({
      maxEntries: { type: 'integer', minimum: 1, default: d.tokenCache.maxEntries },
      maxTtlSeconds: seconds(d.tokenCache.maxTtlSeconds),
    }),
    jwks: section({
      minRefetchIntervalSeconds: seconds(d.jwks.minRefetchIntervalMs / 1000, 3600),
      maxAgeSeconds: seconds(d.jwks.maxAgeMs / 1000),
      timeoutSeconds: { type: 'number', exclusiveMinimum: 0, maximum: 120, default: d.jwks.timeoutMs / 1000 },
      negativeCacheTtlSeconds: seconds(d.jwks.negativeCacheTtlMs / 1000),
    }),
    orgs: {
      type: 'object',
      default: {},
      propertyNames: { pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$', errorMessage: 'org names are DNS-1123 labels' },
      additionalProperties: { type: 'object', additionalProperties: false, properties: { ...overrideProperties, caFile: text } },
    },
  },
};

type RawOverride = Omit<RealmOverride, 'ca'> & { caFile?: string };

export interface RawOrgRealms {
  issuerTemplate: string;
  audiences: string[];
  caFile?: string;
  algorithms: AllowedAlgorithm[];
  leeway: { notBeforeSeconds: number; expirySkewSeconds: number };
  claimMappings: { username: ClaimMapping; groups: ClaimMapping };
  requiredClaims: Record<string, string>;
  maxTokenBytes: number;
  tokenCache: { maxEntries: number; maxTtlSeconds: number };
  jwks: { minRefetchIntervalSeconds: number; maxAgeSeconds: number; timeoutSeconds: number; negativeCacheTtlSeconds: number };
  orgs: Record<string, RawOverride>;
}

async function readCa(ctx: BuildContext, path: FieldPath, file: string): Promise<string | undefined> {
  const pem = await ctx.readReferencedFile(path, file);
  if (pem !== undefined && !pem.includes('-----BEGIN CERTIFICATE-----')) ctx.issue(path, `${ctx.resolvePath(file)} does not contain a PEM certificate`);
  return pem;
}

const copyMapping = (m: DeepReadonly<ClaimMapping>): ClaimMapping => ({ claim: m.claim, prefix: m.prefix });

export async function buildOrgRealmsSettings(raw: DeepReadonly<RawOrgRealms>, ctx: BuildContext, at: FieldPath): Promise<OrgRealmsSettings> {
  const orgs: Record<string, RealmOverride> = {};
  for (const [org, o] of Object.entries(raw.orgs)) {
    const override: RealmOverride = {};
    if (o.issuer !== undefined) override.issuer = o.issuer;
    if (o.discoveryUrl !== undefined) override.discoveryUrl = o.discoveryUrl;
    if (o.audiences !== undefined) override.audiences = [...o.audiences];
    if (o.requiredClaims !== undefined) override.requiredClaims = { ...o.requiredClaims };
    if (o.claimMappings !== undefined) {
      override.claimMappings = {
        ...(o.claimMappings.username !== undefined ? { username: copyMapping(o.claimMappings.username) } : {}),
        ...(o.claimMappings.groups !== undefined ? { groups: copyMapping(o.claimMappings.groups) } : {}),
      };
    }
    if (o.caFile !== undefined) {
      const ca = await readCa(ctx, [...at, 'orgs', org, 'caFile'], o.caFile);
      if (ca !== undefined) override.ca = ca;
    }
    orgs[org] = override;
  }
  const ca = raw.caFile === undefined ? undefined : await readCa(ctx, [...at, 'caFile'], raw.caFile);
  return {
    issuerTemplate: raw.issuerTemplate,
    audiences: [...raw.audiences],
    ...(ca !== undefined ? { ca } : {}),
    algorithms: [...raw.algorithms],
    notBeforeLeewaySeconds: raw.leeway.notBeforeSeconds,
    expirySkewSeconds: raw.leeway.expirySkewSeconds,
    claimMappings: { username: copyMapping(raw.claimMappings.username), groups: copyMapping(raw.claimMappings.groups) },
    requiredClaims: { ...raw.requiredClaims },
    maxTokenBytes: raw.maxTokenBytes,
    tokenCache: { maxEntries: raw.tokenCache.maxEntries, maxTtlSeconds: raw.tokenCache.maxTtlSeconds },
    jwks: {
      minRefetchIntervalMs: raw.jwks.minRefetchIntervalSeconds * 1000,
      maxAgeMs: raw.jwks.maxAgeSeconds * 1000,
      timeoutMs: raw.jwks.timeoutSeconds * 1000,
      negativeCacheTtlMs: raw.jwks.negativeCacheTtlSeconds * 1000,
      maxResponseBytes: d.jwks.maxResponseBytes,
    },
    orgs,
  };
}
