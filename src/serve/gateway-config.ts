// The gateway's own config file (config/gateway.yaml): what `kcp-edge serve` reads. Paths in it are
// relative to the file. `build` reads every referenced PEM so a missing or wrong certificate is
// reported with the field that names it, together with every other problem, before anything starts.
import { availableParallelism } from 'node:os';
import { buildOrgRealmsSettings, orgRealmsSchema, type RawOrgRealms } from '../auth/org-realms-config.ts';
import type { OrgRealmsSettings } from '../auth/realm-settings.ts';
import { buildServiceAccountsConfig, serviceAccountsSchema, type RawServiceAccounts, type ServiceAccountsConfig } from '../auth/service-accounts-config.ts';
import { parseTokenCsv } from '../auth/static-token.ts';
import type { TokenWebhookSettings } from '../auth/token-webhook.ts';
import { loadWebhookKubeconfig } from '../auth/webhook-kubeconfig.ts';
import { applyRedisAuth, type RedisAuthField } from '../routing/redis-auth-settings.ts';
import { parseRedisUrl, redactRedisUrl, type RedisConnectionConfig } from '../routing/redis-connection.ts';
import type { Shard } from '../routing/types.ts';
import { defaultClientConnectionLimits, type ClientConnectionLimits } from '../gateway/client-connection-limits.ts';
import { defaultDroppedGroups } from '../gateway/stages/authenticate.ts';
import { defaultUpstreamProtocol, type UpstreamProtocol } from '../gateway/shard-pools.ts';
import { defineConfig, type BuildContext, formatIssue, isConfigError, type FieldPath, type DeepReadonly } from '../config/index.ts';
import { defaultOpenWatchLimits, type OpenWatchLimits } from '../ratelimit/open-watch-cap.ts';
import { loadPolicyFile } from '../ratelimit/policy.ts';
import type { LogLevel } from '../log.ts';

interface RawGatewayConfig {
  listen: { address: string; port: number };
  workers: number | 'auto';
  tls: { certFile: string; keyFile: string };
  routing: {
    embedded?: { file: string };
    redis?: {
      url: string;
      username?: string;
      passwordFile?: string;
      sentinelUsername?: string;
      sentinelPasswordFile?: string;
      tls?: { caFile?: string; certFile?: string; keyFile?: string; serverName?: string };
      keyPrefix?: string;
      cacheMaxEntries: number;
      negativeCacheSeconds: number;
      runIndexer: boolean;
      seedShards: { name: string; url: string; caFile?: string; labels: Record<string, string> }[];
    };
  };
  shardHealth: { enabled: boolean; intervalSeconds: number; downIntervalSeconds: number; failureThreshold: number };
  authentication: {
    tokenFile?: string;
    clientCAFile?: string;
    orgRealms?: RawOrgRealms;
    serviceAccounts?: RawServiceAccounts;
    webhook?: { configFile: string; cacheTTLSeconds: number; negativeCacheTTLSeconds: number; timeoutSeconds: number };
  };
  upstream: { clientCertFile: string; clientKeyFile: string; caFile?: string; connectTimeoutSeconds: number; responseHeaderTimeoutSeconds: number; protocol: UpstreamProtocol };
  headers: { impersonation: 'pass' | 'drop'; droppedGroups: string[] };
  connections: {
    readHeaderTimeoutSeconds: number;
    idleTimeoutSeconds: number;
    http2: { maxConcurrentStreams: number; resetBurst: number; resetsPerSecond: number };
  };
  drain: { timeoutSeconds: number };
  memory: { releaseAfterQuietSeconds: number };
  log: { level: LogLevel };
  rateLimit?: { policyFile?: string };
  watches: { maxOpen: number; maxOpenPerOrg: number };
  admin?: { listen: { address: string; port: number }; tls?: { certFile: string; keyFile: string }; clientCAFile?: string; tokenFile?: string; group: string };
  tracing?: { endpoint: string; samplingRatio: number; serviceName: string; headers?: Record<string, string> };
  audit?: {
    policyFile: string;
    maxObjectBytes: number;
    log?: { path: string; maxSizeMB: number; maxBackups: number };
    webhook?: { url: string; caFile?: string; tokenFile?: string; bufferSize: number; batchMaxSize: number; batchMaxWaitSeconds: number };
  };
}

/** Where the routing table lives: a local file, or the Redis table shared by every replica. */
export type RoutingSource =
  | { kind: 'embedded'; file: string }
  | {
      kind: 'redis';
      /** Credentials and TLS material as file paths (absolute), read by the clients and followed. */
      redis: RedisConnectionConfig;
      /** The URL with any password in it redacted: for messages. */
      url: string;
      cacheMax: number;
      negativeTtlMs: number;
      runIndexer: boolean;
      /** Shards the indexer registers when it finds the table without a generation (new, or lost by Redis). */
      seedShards: Shard[];
    };

export interface GatewayConfig {
  listen: { host: string; port: number };
  /** Processes serving the listener; 1 = this process alone, more = a supervisor and that many workers ("auto" resolved). */
  workers: number;
  /** Serving certificate and key (PEM), and the files they came from (for rotation). */
  tls: { cert: string; key: string; certFile: string; keyFile: string };
  routing: RoutingSource;
  /** Active /readyz probes and passive failure counting per shard; disabled = every shard not marked down is tried. */
  shardHealth: { enabled: boolean; intervalMs: number; downIntervalMs: number; failureThreshold: number };
  authentication: {
    /** Absolute path of a kube-apiserver style token file (token,user,uid,"group1,group2"). */
    tokenFile?: string;
    /** PEM bundle of CAs whose client certificates authenticate users; clients are asked for one when set. */
    clientCA?: string;
    /** The file it came from (absolute), followed for rotation. */
    clientCAFile?: string;
    /** Organisation-realm JWTs: a token on a workspace of org X must be signed by X's realm. */
    orgRealms?: OrgRealmsSettings;
    /** kcp service-account tokens: good only on their own logical cluster, while their ServiceAccount exists. */
    serviceAccounts?: ServiceAccountsConfig;
    /** A TokenReview webhook asked about bearer tokens no other authenticator accepted. */
    webhook?: TokenWebhookSettings;
  };
  /**
   * How the gateway connects to shards: its client certificate (mTLS), the CA for shards naming none, the
   * files (absolute) they came from, followed for rotation, and how long a shard may take to accept a
   * connection (TCP and TLS) and to answer with headers.
   */
  upstream: {
    cert: string;
    key: string;
    ca?: string;
    certFile: string;
    keyFile: string;
    caFile?: string;
    connectTimeoutMs: number;
    responseHeaderTimeoutMs: number;
    /** HTTP/2 (streams share connections) or HTTP/1.1 (a connection per request) to the shards. */
    protocol: UpstreamProtocol;
  };
  headers: { impersonation: 'pass' | 'drop'; droppedGroups: string[] };
  /** Client connections: HTTP/1.1 header and idle timeouts, HTTP/2 idle timeout, stream and reset limits. */
  connections: ClientConnectionLimits;
  drainTimeoutMs: number;
  /** How long a process must have been quiet before memory grown in a burst is handed back; 0 = never. */
  memoryReleaseAfterQuietMs: number;
  logLevel: LogLevel;
  /** The rate policy; absent = no rate limiting. Counters go to the routing store's Redis when it has one. */
  rateLimit?: { policyFile?: string };
  /** Bounds on open watches per gateway process, in total and per organisation (0 = none). */
  watches: OpenWatchLimits;
  /**
   * The admin listener (/metrics, the status page): its own port and TLS (default: the serving
   * certificate), open to identities in `group` by client certificate (clientCA) or token (tokenFile).
   * Absent = no admin listener, and so no /metrics.
   */
  admin?: AdminConfig;
  /** The audit log (audit.k8s.io/v1 Events under an audit.k8s.io/v1 Policy); absent = none, nothing observed. */
  audit?: AuditConfig;
  /** OpenTelemetry traces over OTLP/HTTP; absent = off, nothing loaded. */
  tracing?: { endpoint: string; samplingRatio: number; serviceName: string; headers?: Record<string, string> };
}

export interface AuditConfig {
  policyFile: string;
  /** Request and response bodies larger than this are left out of their events (Request, RequestResponse). */
  maxObjectBytes: number;
  log?: { path: string; maxSizeBytes: number; maxBackups: number };
  webhook?: { url: string; caPem?: string; token?: string; bufferSize: number; batchMaxSize: number; batchMaxWaitMs: number };
}

export interface AdminConfig {
  listen: { host: string; port: number };
  tls: { cert: string; key: string; certFile: string; keyFile: string };
  clientCA?: string;
  clientCAFile?: string;
  tokenFile?: string;
  group: string;
}

const file = { type: 'string', minLength: 1 };
// Sections default to {} so their own defaults apply when a section is left out.
const object = (properties: Record<string, unknown>, required: string[] = [], defaulted = true) => ({
  type: 'object',
  additionalProperties: false,
  properties,
  required,
  ...(defaulted ? { default: {} } : {}),
});

const schema = object(
  {
    listen: object({
      address: { type: 'string', minLength: 1, default: '0.0.0.0' },
      port: { type: 'integer', minimum: 0, maximum: 65535, default: 6443 },
    }),
    // pattern applies to strings only, minimum/maximum to integers only: one rule, one message.
    workers: { type: ['integer', 'string'], minimum: 1, maximum: 256, pattern: '^auto$', default: 1, errorMessage: 'must be a whole number from 1 to 256, or "auto"' },
    tls: object({ certFile: file, keyFile: file }, ['certFile', 'keyFile']),
    routing: object(
      {
        embedded: object({ file }, ['file'], false),
        redis: object(
          {
            url: { type: 'string', pattern: '^rediss?(\\+sentinel|\\+cluster)?://', errorMessage: 'must be a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL' },
            // Credentials and TLS material beside the URL, the secrets as files (mounted Secrets, followed when rotated).
            username: { type: 'string', minLength: 1 },
            passwordFile: file,
            sentinelUsername: { type: 'string', minLength: 1 },
            sentinelPasswordFile: file,
            tls: object({ caFile: file, certFile: file, keyFile: file, serverName: { type: 'string', minLength: 1 } }, [], false),
            keyPrefix: { type: 'string' },
            cacheMaxEntries: { type: 'integer', minimum: 1, default: 100000 },
            negativeCacheSeconds: { type: 'number', minimum: 0, maximum: 300, default: 5 },
            runIndexer: { type: 'boolean', default: false },
            seedShards: {
              type: 'array',
              default: [],
              items: object(
                {
                  name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$', errorMessage: 'must be a DNS label' },
                  url: { type: 'string', pattern: '^https?://[^/]', errorMessage: 'must be an https:// URL' },
                  caFile: file,
                  labels: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
                },
                ['name', 'url'],
                false,
              ),
            },
          },
          ['url'],
          false,
        ),
      },
      [],
      false,
    ),
    shardHealth: object({
      enabled: { type: 'boolean', default: true },
      intervalSeconds: { type: 'number', exclusiveMinimum: 0, default: 5 },
      downIntervalSeconds: { type: 'number', exclusiveMinimum: 0, default: 1 },
      failureThreshold: { type: 'integer', minimum: 1, default: 3 },
    }),
    authentication: object({
      tokenFile: file,
      clientCAFile: file,
      orgRealms: orgRealmsSchema,
      serviceAccounts: serviceAccountsSchema,
      // kube-apiserver's --authentication-token-webhook-config-file and -cache-ttl (2 minutes, for both answers).
      webhook: object(
        {
          configFile: file,
          cacheTTLSeconds: { type: 'number', minimum: 0, maximum: 86_400, default: 120 },
          negativeCacheTTLSeconds: { type: 'number', minimum: 0, maximum: 86_400, default: 120 },
          timeoutSeconds: { type: 'number', exclusiveMinimum: 0, maximum: 60, default: 10 },
        },
        ['configFile'],
        false,
      ),
    }),
    upstream: object(
      {
        clientCertFile: file,
        clientKeyFile: file,
        caFile: file,
        connectTimeoutSeconds: { type: 'number', exclusiveMinimum: 0, maximum: 300, default: 5 },
        responseHeaderTimeoutSeconds: { type: 'number', exclusiveMinimum: 0, maximum: 3600, default: 60 },
        protocol: { enum: ['h1', 'h2', 'h2-for-watches'], default: defaultUpstreamProtocol },
      },
      ['clientCertFile', 'clientKeyFile'],
    ),
    headers: object({
      impersonation: { enum: ['pass', 'drop'], default: 'pass' },
      // kcp's front-proxy drops these: a client must never obtain them by asking the gateway.
      droppedGroups: { type: 'array', items: { type: 'string', minLength: 1 }, default: [...defaultDroppedGroups] },
    }),
    connections: object({
      readHeaderTimeoutSeconds: { type: 'number', exclusiveMinimum: 0, maximum: 3600, default: defaultClientConnectionLimits.readHeaderTimeoutMs / 1000 },
      idleTimeoutSeconds: { type: 'number', minimum: 0, maximum: 86400, default: defaultClientConnectionLimits.idleTimeoutMs / 1000 },
      http2: object({
        maxConcurrentStreams: { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1, default: defaultClientConnectionLimits.http2.maxConcurrentStreams },
        resetBurst: { type: 'integer', minimum: 1, maximum: 1_000_000, default: defaultClientConnectionLimits.http2.resetBurst },
        resetsPerSecond: { type: 'integer', minimum: 1, maximum: 1_000_000, default: defaultClientConnectionLimits.http2.resetsPerSecond },
      }),
    }),
    drain: object({ timeoutSeconds: { type: 'number', minimum: 0, maximum: 3600, default: 30 } }),
    memory: object({ releaseAfterQuietSeconds: { type: 'number', minimum: 0, maximum: 86_400, default: 300 } }),
    log: object({ level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' } }),
    rateLimit: object({ policyFile: file }, [], false),
    watches: object({
      maxOpen: { type: 'integer', minimum: 0, default: defaultOpenWatchLimits.maxOpen },
      maxOpenPerOrg: { type: 'integer', minimum: 0, default: defaultOpenWatchLimits.maxOpenPerOrg },
    }),
    admin: object(
      {
        listen: object({
          address: { type: 'string', minLength: 1, default: '0.0.0.0' },
          port: { type: 'integer', minimum: 0, maximum: 65535, default: 6444 },
        }),
        tls: object({ certFile: file, keyFile: file }, ['certFile', 'keyFile'], false),
        clientCAFile: file,
        tokenFile: file,
        // kube-apiserver's default RBAC lets this group read /metrics.
        group: { type: 'string', minLength: 1, default: 'system:monitoring' },
      },
      [],
      false,
    ),
    tracing: object(
      {
        endpoint: { type: 'string', pattern: '^https?://', errorMessage: 'must be an http:// or https:// URL (OTLP/HTTP, e.g. http://otel-collector:4318/v1/traces)' },
        samplingRatio: { type: 'number', minimum: 0, maximum: 1, default: 0.01 },
        serviceName: { type: 'string', minLength: 1, default: 'kcp-edge' },
        headers: { type: 'object', additionalProperties: { type: 'string' } },
      },
      ['endpoint'],
      false,
    ),
    audit: object(
      {
        policyFile: file,
        // kube-apiserver's --audit-log-truncate-max-event-size default.
        maxObjectBytes: { type: 'integer', minimum: 0, default: 102400 },
        log: object(
          {
            path: file,
            maxSizeMB: { type: 'number', exclusiveMinimum: 0, default: 100 },
            maxBackups: { type: 'integer', minimum: 0, default: 10 },
          },
          ['path'],
          false,
        ),
        webhook: object(
          {
            url: { type: 'string', pattern: '^https?://', errorMessage: 'must be an http:// or https:// URL' },
            caFile: file,
            tokenFile: file,
            bufferSize: { type: 'integer', minimum: 1, default: 10000 },
            batchMaxSize: { type: 'integer', minimum: 1, default: 400 },
            batchMaxWaitSeconds: { type: 'number', exclusiveMinimum: 0, default: 1 },
          },
          ['url'],
          false,
        ),
      },
      ['policyFile'],
      false,
    ),
  },
  ['tls', 'routing', 'upstream'],
  false,
);

async function readPem(ctx: BuildContext, path: FieldPath, name: string, kind: 'CERTIFICATE' | 'PRIVATE KEY'): Promise<string | undefined> {
  const text = await ctx.readReferencedFile(path, name);
  if (text !== undefined && !new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(text)) {
    ctx.issue(path, `${ctx.resolvePath(name)} does not contain a PEM ${kind.toLowerCase()}`);
  }
  return text;
}

async function build(raw: DeepReadonly<RawGatewayConfig>, ctx: BuildContext): Promise<GatewayConfig> {
  const cert = await readPem(ctx, ['tls', 'certFile'], raw.tls.certFile, 'CERTIFICATE');
  const key = await readPem(ctx, ['tls', 'keyFile'], raw.tls.keyFile, 'PRIVATE KEY');
  const clientCA =
    raw.authentication.clientCAFile === undefined ? undefined : await readPem(ctx, ['authentication', 'clientCAFile'], raw.authentication.clientCAFile, 'CERTIFICATE');
  const orgRealms = raw.authentication.orgRealms === undefined ? undefined : await buildOrgRealmsSettings(raw.authentication.orgRealms, ctx, ['authentication', 'orgRealms']);
  const serviceAccounts =
    raw.authentication.serviceAccounts === undefined ? undefined : await buildServiceAccountsConfig(raw.authentication.serviceAccounts, ctx, ['authentication', 'serviceAccounts']);
  const rawWebhook = raw.authentication.webhook;
  let webhook: TokenWebhookSettings | undefined;
  if (rawWebhook !== undefined) {
    try {
      webhook = {
        endpoint: await loadWebhookKubeconfig(ctx.resolvePath(rawWebhook.configFile)),
        cacheTtlMs: Math.round(rawWebhook.cacheTTLSeconds * 1000),
        negativeCacheTtlMs: Math.round(rawWebhook.negativeCacheTTLSeconds * 1000),
        timeoutMs: Math.round(rawWebhook.timeoutSeconds * 1000),
        maxTokenBytes: 16 * 1024,
      };
    } catch (err) {
      ctx.issue(['authentication', 'webhook', 'configFile'], (err as Error).message);
    }
  }
  if (raw.authentication.tokenFile !== undefined) {
    const tokens = await ctx.readReferencedFile(['authentication', 'tokenFile'], raw.authentication.tokenFile);
    try {
      if (tokens !== undefined) parseTokenCsv(tokens, ctx.resolvePath(raw.authentication.tokenFile));
    } catch (err) {
      ctx.issue(['authentication', 'tokenFile'], (err as Error).message);
    }
  }
  const upstreamCert = await readPem(ctx, ['upstream', 'clientCertFile'], raw.upstream.clientCertFile, 'CERTIFICATE');
  const upstreamKey = await readPem(ctx, ['upstream', 'clientKeyFile'], raw.upstream.clientKeyFile, 'PRIVATE KEY');
  const upstreamCA = raw.upstream.caFile === undefined ? undefined : await readPem(ctx, ['upstream', 'caFile'], raw.upstream.caFile, 'CERTIFICATE');

  const sources = Object.keys(raw.routing);
  if (sources.length !== 1) ctx.issue(['routing'], 'must name exactly one routing store (embedded or redis)');
  let routing: RoutingSource = { kind: 'embedded', file: ctx.resolvePath(raw.routing.embedded?.file ?? '') };
  const redis = raw.routing.redis;
  if (redis !== undefined) {
    const connection = await buildRedisConnection(redis, ctx);
    if (connection !== undefined) {
      routing = {
        kind: 'redis',
        redis: connection,
        url: redactRedisUrl(redis.url),
        cacheMax: redis.cacheMaxEntries,
        negativeTtlMs: Math.round(redis.negativeCacheSeconds * 1000),
        runIndexer: redis.runIndexer,
        seedShards: await buildSeedShards(redis.seedShards, ctx),
      };
    }
  }

  // The policy file is config too: `serve --check` and a start report its problems with the rest.
  const policyFile = raw.rateLimit?.policyFile === undefined ? undefined : ctx.resolvePath(raw.rateLimit.policyFile);
  if (policyFile !== undefined) {
    try {
      await loadPolicyFile(policyFile);
    } catch (err) {
      ctx.issue(['rateLimit', 'policyFile'], isConfigError(err) ? err.issues.map(formatIssue).join('; ') : (err as Error).message);
    }
  }

  const audit = raw.audit === undefined ? undefined : await buildAudit(raw.audit, ctx);
  const admin =
    raw.admin === undefined
      ? undefined
      : await buildAdmin(raw.admin, ctx, { cert: cert ?? '', key: key ?? '', certFile: ctx.resolvePath(raw.tls.certFile), keyFile: ctx.resolvePath(raw.tls.keyFile) });

  return {
    listen: { host: raw.listen.address, port: raw.listen.port },
    workers: workerCount(raw.workers),
    tls: { cert: cert ?? '', key: key ?? '', certFile: ctx.resolvePath(raw.tls.certFile), keyFile: ctx.resolvePath(raw.tls.keyFile) },
    routing,
    shardHealth: {
      enabled: raw.shardHealth.enabled,
      intervalMs: Math.round(raw.shardHealth.intervalSeconds * 1000),
      downIntervalMs: Math.round(raw.shardHealth.downIntervalSeconds * 1000),
      failureThreshold: raw.shardHealth.failureThreshold,
    },
    authentication: {
      ...(raw.authentication.tokenFile === undefined ? {} : { tokenFile: ctx.resolvePath(raw.authentication.tokenFile) }),
      ...(orgRealms === undefined ? {} : { orgRealms }),
      ...(serviceAccounts === undefined ? {} : { serviceAccounts }),
      ...(webhook === undefined ? {} : { webhook }),
      ...(clientCA === undefined || raw.authentication.clientCAFile === undefined ? {} : { clientCA, clientCAFile: ctx.resolvePath(raw.authentication.clientCAFile) }),
    },
    upstream: {
      cert: upstreamCert ?? '',
      key: upstreamKey ?? '',
      certFile: ctx.resolvePath(raw.upstream.clientCertFile),
      keyFile: ctx.resolvePath(raw.upstream.clientKeyFile),
      ...(upstreamCA === undefined || raw.upstream.caFile === undefined ? {} : { ca: upstreamCA, caFile: ctx.resolvePath(raw.upstream.caFile) }),
      connectTimeoutMs: Math.round(raw.upstream.connectTimeoutSeconds * 1000),
      responseHeaderTimeoutMs: Math.round(raw.upstream.responseHeaderTimeoutSeconds * 1000),
      protocol: raw.upstream.protocol,
    },
    headers: { impersonation: raw.headers.impersonation, droppedGroups: [...raw.headers.droppedGroups] },
    connections: {
      readHeaderTimeoutMs: Math.round(raw.connections.readHeaderTimeoutSeconds * 1000),
      idleTimeoutMs: Math.round(raw.connections.idleTimeoutSeconds * 1000),
      http2: { ...raw.connections.http2 },
    },
    drainTimeoutMs: Math.round(raw.drain.timeoutSeconds * 1000),
    memoryReleaseAfterQuietMs: Math.round(raw.memory.releaseAfterQuietSeconds * 1000),
    logLevel: raw.log.level,
    ...(raw.rateLimit === undefined ? {} : { rateLimit: policyFile === undefined ? {} : { policyFile } }),
    watches: { maxOpen: raw.watches.maxOpen, maxOpenPerOrg: raw.watches.maxOpenPerOrg },
    ...(admin === undefined ? {} : { admin }),
    ...(audit === undefined ? {} : { audit }),
    ...(raw.tracing === undefined
      ? {}
      : {
          tracing: {
            endpoint: raw.tracing.endpoint,
            samplingRatio: raw.tracing.samplingRatio,
            serviceName: raw.tracing.serviceName,
            ...(raw.tracing.headers === undefined ? {} : { headers: { ...raw.tracing.headers } }),
          },
        }),
  };
}

type RawAudit = NonNullable<DeepReadonly<RawGatewayConfig>['audit']>;

async function buildAudit(raw: RawAudit, ctx: BuildContext): Promise<AuditConfig> {
  if (raw.log === undefined && raw.webhook === undefined) ctx.issue(['audit'], 'must name a backend: log, webhook or both');
  const policyFile = ctx.resolvePath(raw.policyFile);
  try {
    const { loadAuditPolicy } = await import('../audit/policy.ts');
    await loadAuditPolicy(policyFile);
  } catch (err) {
    ctx.issue(['audit', 'policyFile'], isConfigError(err) ? err.issues.map(formatIssue).join('; ') : (err as Error).message);
  }
  const webhook = raw.webhook;
  const caPem = webhook?.caFile === undefined ? undefined : await readPem(ctx, ['audit', 'webhook', 'caFile'], webhook.caFile, 'CERTIFICATE');
  const token = webhook?.tokenFile === undefined ? undefined : (await ctx.readReferencedFile(['audit', 'webhook', 'tokenFile'], webhook.tokenFile))?.trim();
  return {
    policyFile,
    maxObjectBytes: raw.maxObjectBytes,
    ...(raw.log === undefined ? {} : { log: { path: ctx.resolvePath(raw.log.path), maxSizeBytes: Math.round(raw.log.maxSizeMB * 1024 * 1024), maxBackups: raw.log.maxBackups } }),
    ...(webhook === undefined
      ? {}
      : {
          webhook: {
            url: webhook.url,
            ...(caPem === undefined ? {} : { caPem }),
            ...(token === undefined ? {} : { token }),
            bufferSize: webhook.bufferSize,
            batchMaxSize: webhook.batchMaxSize,
            batchMaxWaitMs: Math.round(webhook.batchMaxWaitSeconds * 1000),
          },
        }),
  };
}

type RawAdmin = NonNullable<DeepReadonly<RawGatewayConfig>['admin']>;

async function buildAdmin(raw: RawAdmin, ctx: BuildContext, serving: AdminConfig['tls']): Promise<AdminConfig> {
  if (raw.clientCAFile === undefined && raw.tokenFile === undefined) {
    ctx.issue(['admin'], 'must name clientCAFile or tokenFile (or both): the admin listener admits nobody anonymously');
  }
  let tls = serving;
  if (raw.tls !== undefined) {
    const cert = await readPem(ctx, ['admin', 'tls', 'certFile'], raw.tls.certFile, 'CERTIFICATE');
    const key = await readPem(ctx, ['admin', 'tls', 'keyFile'], raw.tls.keyFile, 'PRIVATE KEY');
    tls = { cert: cert ?? '', key: key ?? '', certFile: ctx.resolvePath(raw.tls.certFile), keyFile: ctx.resolvePath(raw.tls.keyFile) };
  }
  const clientCA = raw.clientCAFile === undefined ? undefined : await readPem(ctx, ['admin', 'clientCAFile'], raw.clientCAFile, 'CERTIFICATE');
  if (raw.tokenFile !== undefined) {
    const tokens = await ctx.readReferencedFile(['admin', 'tokenFile'], raw.tokenFile);
    try {
      if (tokens !== undefined) parseTokenCsv(tokens, ctx.resolvePath(raw.tokenFile));
    } catch (err) {
      ctx.issue(['admin', 'tokenFile'], (err as Error).message);
    }
  }
  return {
    listen: { host: raw.listen.address, port: raw.listen.port },
    tls,
    ...(clientCA === undefined || raw.clientCAFile === undefined ? {} : { clientCA, clientCAFile: ctx.resolvePath(raw.clientCAFile) }),
    ...(raw.tokenFile === undefined ? {} : { tokenFile: ctx.resolvePath(raw.tokenFile) }),
    group: raw.group,
  };
}

type RawRedis = NonNullable<DeepReadonly<RawGatewayConfig>['routing']['redis']>;

/** The seed shards with their CA bundles read; a name given twice is reported. */
async function buildSeedShards(seeds: RawRedis['seedShards'], ctx: BuildContext): Promise<Shard[]> {
  const shards: Shard[] = [];
  const seen = new Set<string>();
  for (const [i, seed] of seeds.entries()) {
    const at: FieldPath = ['routing', 'redis', 'seedShards', i];
    if (seen.has(seed.name)) ctx.issue([...at, 'name'], `shard "${seed.name}" is named twice`);
    seen.add(seed.name);
    const ca = seed.caFile === undefined ? undefined : await readPem(ctx, [...at, 'caFile'], seed.caFile, 'CERTIFICATE');
    shards.push({ name: seed.name, url: seed.url, ...(ca === undefined ? {} : { ca }), state: 'active', labels: { ...seed.labels } });
  }
  return shards;
}

/**
 * The shared table's connection: the URL plus the settings beside it. The secret files are read here
 * only to report a missing or empty one (or a PEM that is none) with the rest; their content is not
 * kept, the clients read and follow the files themselves.
 */
async function buildRedisConnection(redis: RawRedis, ctx: BuildContext): Promise<RedisConnectionConfig | undefined> {
  const at = (...path: string[]): FieldPath => ['routing', 'redis', ...path];
  let base: RedisConnectionConfig;
  try {
    base = parseRedisUrl(redis.url);
  } catch (err) {
    ctx.issue(at('url'), (err as Error).message);
    return undefined;
  }
  if (redis.keyPrefix !== undefined) base.keyPrefix = redis.keyPrefix;
  const tls =
    redis.tls === undefined
      ? undefined
      : {
          ...(redis.tls.caFile === undefined ? {} : { caFile: ctx.resolvePath(redis.tls.caFile) }),
          ...(redis.tls.certFile === undefined ? {} : { certFile: ctx.resolvePath(redis.tls.certFile) }),
          ...(redis.tls.keyFile === undefined ? {} : { keyFile: ctx.resolvePath(redis.tls.keyFile) }),
          ...(redis.tls.serverName === undefined ? {} : { serverName: redis.tls.serverName }),
        };
  const { connection, problems } = applyRedisAuth(base, {
    ...(redis.username === undefined ? {} : { username: redis.username }),
    ...(redis.passwordFile === undefined ? {} : { passwordFile: ctx.resolvePath(redis.passwordFile) }),
    ...(redis.sentinelUsername === undefined ? {} : { sentinelUsername: redis.sentinelUsername }),
    ...(redis.sentinelPasswordFile === undefined ? {} : { sentinelPasswordFile: ctx.resolvePath(redis.sentinelPasswordFile) }),
    ...(tls === undefined ? {} : { tls }),
  });
  const fieldPath = (field: RedisAuthField): FieldPath => at(...field.split('.'));
  for (const problem of problems) ctx.issue(fieldPath(problem.field), problem.message);
  for (const field of ['passwordFile', 'sentinelPasswordFile'] as const) {
    const name = redis[field];
    if (name === undefined) continue;
    const text = await ctx.readReferencedFile(at(field), name);
    if (text !== undefined && text.trim() === '') ctx.issue(at(field), `${ctx.resolvePath(name)} is empty`);
  }
  if (redis.tls?.caFile !== undefined) await readPem(ctx, at('tls', 'caFile'), redis.tls.caFile, 'CERTIFICATE');
  if (redis.tls?.certFile !== undefined) await readPem(ctx, at('tls', 'certFile'), redis.tls.certFile, 'CERTIFICATE');
  if (redis.tls?.keyFile !== undefined) await readPem(ctx, at('tls', 'keyFile'), redis.tls.keyFile, 'PRIVATE KEY');
  return problems.length === 0 ? connection : undefined;
}

/** "auto" is one worker per CPU this process may use (libuv counts the affinity mask and a cgroup CPU limit). */
export function workerCount(workers: number | 'auto'): number {
  return workers === 'auto' ? availableParallelism() : workers;
}

export const gatewayConfigKind = defineConfig<RawGatewayConfig, GatewayConfig>({ what: 'gateway config', schema, build });
