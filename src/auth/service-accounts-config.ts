// The `authentication.serviceAccounts` block of the gateway config: which issuers sign kcp
// service-account tokens and where their keys are (PEM files, as kube-apiserver's
// --service-account-key-file, and/or the issuer's OIDC discovery), and how the gateway checks that a
// token's ServiceAccount still exists on its shard.
import type { BuildContext, DeepReadonly, FieldPath } from '../config/index.ts';
import { DEFAULT_ORG_REALMS_SETTINGS } from './realm-settings.ts';
import type { ServiceAccountSettings } from './service-account-authenticator.ts';
import { parsePublicKeys, type ServiceAccountIssuer } from './service-account-keys.ts';

const text = { type: 'string', minLength: 1 };
const seconds = (def: number, maximum = 86_400) => ({ type: 'number', minimum: 0, maximum, default: def });
const section = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, properties, default: {} });

export const serviceAccountsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['issuers'],
  properties: {
    issuers: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['issuer'],
        properties: {
          // kcp's default is https://kcp.default.svc (not a URL anyone can reach): keys then come from files.
          issuer: text,
          keyFiles: { type: 'array', items: text },
          discoveryUrl: { type: 'string', pattern: '^https://[^\\s]+$', errorMessage: 'must be an https:// URL' },
          caFile: text,
        },
      },
    },
    audiences: { type: 'array', items: text, minItems: 1 },
    legacyTokens: { type: 'boolean', default: true },
    leewaySeconds: seconds(60, 600),
    maxTokenBytes: { type: 'integer', minimum: 512, maximum: 1024 * 1024, default: 16 * 1024 },
    tokenCache: section({ maxEntries: { type: 'integer', minimum: 1, default: 10_000 }, maxTtlSeconds: seconds(300) }),
    lookup: section({
      enabled: { type: 'boolean', default: true },
      cacheSeconds: seconds(10, 3600),
      timeoutSeconds: { type: 'number', exclusiveMinimum: 0, maximum: 60, default: 5 },
      user: { ...text, default: 'system:kcp-edge:token-lookup' },
      groups: { type: 'array', items: text, default: ['system:masters'] },
    }),
  },
};

export interface RawServiceAccounts {
  issuers: { issuer: string; keyFiles?: string[]; discoveryUrl?: string; caFile?: string }[];
  audiences?: string[];
  legacyTokens: boolean;
  leewaySeconds: number;
  maxTokenBytes: number;
  tokenCache: { maxEntries: number; maxTtlSeconds: number };
  lookup: { enabled: boolean; cacheSeconds: number; timeoutSeconds: number; user: string; groups: string[] };
}

export interface ServiceAccountsConfig {
  settings: ServiceAccountSettings;
  /** Absent: tokens are not checked against the shards (good until they expire, whatever is deleted). */
  lookup: { user: string; groups: string[]; timeoutMs: number } | undefined;
}

export async function buildServiceAccountsConfig(raw: DeepReadonly<RawServiceAccounts>, ctx: BuildContext, at: FieldPath): Promise<ServiceAccountsConfig> {
  const issuers: ServiceAccountIssuer[] = [];
  for (const [i, entry] of raw.issuers.entries()) {
    const here: FieldPath = [...at, 'issuers', i];
    if ((entry.keyFiles ?? []).length === 0 && entry.discoveryUrl === undefined) ctx.issue(here, 'needs keyFiles, a discoveryUrl, or both');
    if (issuers.some((other) => other.issuer === entry.issuer)) ctx.issue([...here, 'issuer'], `${entry.issuer} is listed twice`);
    const keys: string[] = [];
    for (const [k, file] of (entry.keyFiles ?? []).entries()) {
      const pem = await ctx.readReferencedFile([...here, 'keyFiles', k], file);
      if (pem === undefined) continue;
      try {
        parsePublicKeys(pem, ctx.resolvePath(file));
        keys.push(pem);
      } catch (err) {
        ctx.issue([...here, 'keyFiles', k], (err as Error).message);
      }
    }
    const ca = entry.caFile === undefined ? undefined : await ctx.readReferencedFile([...here, 'caFile'], entry.caFile);
    if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----')) ctx.issue([...here, 'caFile'], `${ctx.resolvePath(entry.caFile!)} does not contain a PEM certificate`);
    issuers.push({ issuer: entry.issuer, keys, discoveryUrl: entry.discoveryUrl, ca });
  }
  return {
    settings: {
      issuers,
      // kube-apiserver (and kcp's front-proxy) default --api-audiences to the issuers.
      audiences: raw.audiences === undefined ? issuers.map((i) => i.issuer) : [...raw.audiences],
      legacyTokens: raw.legacyTokens,
      leewaySeconds: raw.leewaySeconds,
      maxTokenBytes: raw.maxTokenBytes,
      tokenCache: { maxEntries: raw.tokenCache.maxEntries, maxTtlSeconds: raw.tokenCache.maxTtlSeconds },
      lookupCacheMs: Math.round(raw.lookup.cacheSeconds * 1000),
      jwks: { ...DEFAULT_ORG_REALMS_SETTINGS.jwks },
    },
    lookup: raw.lookup.enabled ? { user: raw.lookup.user, groups: [...raw.lookup.groups], timeoutMs: Math.round(raw.lookup.timeoutSeconds * 1000) } : undefined,
  };
}
