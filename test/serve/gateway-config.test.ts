import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { gatewayConfigKind } from '../../src/serve/gateway-config.ts';
import { createCertificateAuthority } from '../../src/sim/pki.ts';
import { withTempDir } from '../helpers/wait.ts';

async function writeCerts(dir: string): Promise<void> {
  const ca = await createCertificateAuthority('test-ca');
  const server = await ca.issue({ commonName: 'gateway', dnsNames: ['localhost'], usage: 'server' });
  const client = await ca.issue({ commonName: 'gateway-client', usage: 'client' });
  await mkdir(join(dir, 'certs'), { recursive: true });
  await writeFile(join(dir, 'certs/gateway.crt'), server.certPem);
  await writeFile(join(dir, 'certs/gateway.key'), server.keyPem);
  await writeFile(join(dir, 'certs/gateway-client.crt'), client.certPem);
  await writeFile(join(dir, 'certs/gateway-client.key'), client.keyPem);
  await writeFile(join(dir, 'certs/client-ca.crt'), ca.certPem);
  await writeFile(join(dir, 'certs/shards-ca.crt'), ca.certPem);
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(join(dir, 'certs/service-account.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
}

test('the example config/gateway.yaml is valid once its files exist, and maps every field', async () => {
  await withTempDir(async (dir) => {
    await writeCerts(dir);
    await copyFile('config/gateway.yaml', join(dir, 'gateway.yaml'));
    await copyFile('config/routing.yaml', join(dir, 'routing.yaml'));
    await writeFile(join(dir, 'tokens.csv'), 'secret-token,alice,alice-uid,"dev"\n');
    const config = await loadConfig(gatewayConfigKind, join(dir, 'gateway.yaml'));
    assert.deepEqual(config.listen, { host: '0.0.0.0', port: 6443 });
    assert.equal(config.workers, 1);
    assert.match(config.tls.cert, /BEGIN CERTIFICATE/);
    assert.match(config.tls.key, /PRIVATE KEY/);
    assert.equal(config.tls.certFile, join(dir, 'certs/gateway.crt'));
    assert.deepEqual(config.routing, { kind: 'embedded', file: join(dir, 'routing.yaml') });
    assert.equal(config.authentication.tokenFile, join(dir, 'tokens.csv'));
    assert.match(config.authentication.clientCA ?? '', /BEGIN CERTIFICATE/);
    assert.match(config.upstream.ca ?? '', /BEGIN CERTIFICATE/);
    // The files behind the PEMs, followed for rotation.
    assert.equal(config.authentication.clientCAFile, join(dir, 'certs/client-ca.crt'));
    assert.deepEqual(
      [config.upstream.certFile, config.upstream.keyFile, config.upstream.caFile],
      ['certs/gateway-client.crt', 'certs/gateway-client.key', 'certs/shards-ca.crt'].map((f) => join(dir, f)),
    );
    assert.equal(config.headers.impersonation, 'pass');
    assert.ok(config.headers.droppedGroups.includes('system:masters'));
    assert.equal(config.drainTimeoutMs, 30_000);
    assert.equal(config.logLevel, 'info');
    assert.deepEqual(config.watches, { maxOpen: 5000, maxOpenPerOrg: 2000 });
    assert.ok(Object.isFrozen(config.headers.droppedGroups));
    assert.equal(config.upstream.connectTimeoutMs, 5_000);
    assert.equal(config.upstream.responseHeaderTimeoutMs, 60_000);
    assert.equal(config.upstream.protocol, 'h2-for-watches');
    assert.deepEqual(config.connections, { readHeaderTimeoutMs: 32_000, idleTimeoutMs: 90_000, http2: { maxConcurrentStreams: 100, resetBurst: 200, resetsPerSecond: 20 } });
    const serviceAccounts = config.authentication.serviceAccounts!;
    assert.deepEqual(
      serviceAccounts.settings.issuers.map((i) => i.issuer),
      ['https://kcp.default.svc'],
    );
    assert.match(serviceAccounts.settings.issuers[0]!.keys[0]!, /BEGIN PUBLIC KEY/);
    assert.deepEqual(serviceAccounts.settings.audiences, ['https://kcp.default.svc'], 'audiences default to the issuers');
    assert.equal(serviceAccounts.settings.lookupCacheMs, 10_000);
    assert.deepEqual(serviceAccounts.lookup, { user: 'system:kcp-edge:token-lookup', groups: ['system:masters'], timeoutMs: 5000 });
  });
});

test('service-account issuers need keys from somewhere, and key files must hold keys; the webhook file must name a server', async () => {
  await withTempDir(async (dir) => {
    await writeCerts(dir);
    await writeFile(join(dir, 'not-a-key.pem'), 'hello');
    await writeFile(join(dir, 'webhook.kubeconfig'), 'apiVersion: v1\nkind: Config\nclusters: [{ name: a, cluster: {} }]\n');
    const file = join(dir, 'gateway.yaml');
    await writeFile(
      file,
      [
        'tls: { certFile: certs/gateway.crt, keyFile: certs/gateway.key }',
        'routing: { embedded: { file: routes.yaml } }',
        'upstream: { clientCertFile: certs/gateway-client.crt, clientKeyFile: certs/gateway-client.key }',
        'authentication:',
        '  serviceAccounts: { issuers: [{ issuer: https://a.example }, { issuer: https://b.example, keyFiles: [not-a-key.pem] }] }',
        '  webhook: { configFile: webhook.kubeconfig }',
      ].join('\n'),
    );
    await assert.rejects(loadConfig(gatewayConfigKind, file), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const text = err.message;
      assert.match(text, /authentication\.serviceAccounts\.issuers\[0\].*needs keyFiles, a discoveryUrl, or both/);
      assert.match(text, /authentication\.serviceAccounts\.issuers\[1\]\.keyFiles\[0\].*no PEM public or private key/);
      assert.match(text, /authentication\.webhook\.configFile.*server URL/);
      return true;
    });
  });
});

test('a minimal gateway config gets the documented defaults', async () => {
  await withTempDir(async (dir) => {
    await writeCerts(dir);
    const file = join(dir, 'gateway.yaml');
    await writeFile(
      file,
      [
        'tls: { certFile: certs/gateway.crt, keyFile: certs/gateway.key }',
        'routing: { embedded: { file: routes.yaml } }',
        'upstream: { clientCertFile: certs/gateway-client.crt, clientKeyFile: certs/gateway-client.key }',
      ].join('\n'),
    );
    const config = await loadConfig(gatewayConfigKind, file);
    assert.deepEqual(config.listen, { host: '0.0.0.0', port: 6443 });
    assert.deepEqual(config.authentication, {});
    assert.equal(config.workers, 1);
    assert.equal(config.upstream.ca, undefined);
    assert.equal(config.drainTimeoutMs, 30_000);
    assert.equal(config.memoryReleaseAfterQuietMs, 300_000, 'memory grown in a burst goes back after five quiet minutes');
    assert.equal(config.headers.impersonation, 'pass');
    // The open-watch bounds are on when the section is left out.
    assert.deepEqual(config.watches, { maxOpen: 5000, maxOpenPerOrg: 2000 });
    // Connection limits are on without being configured: kube-apiserver's timeouts, rapid-reset limits.
    assert.deepEqual(config.connections, { readHeaderTimeoutMs: 32_000, idleTimeoutMs: 90_000, http2: { maxConcurrentStreams: 100, resetBurst: 200, resetsPerSecond: 20 } });
    assert.equal(config.upstream.connectTimeoutMs, 5_000);
    assert.equal(config.upstream.responseHeaderTimeoutMs, 60_000);
  });
});

test('connection limits and upstream timeouts map to milliseconds; nonsense is refused', async () => {
  await withTempDir(async (dir) => {
    await writeCerts(dir);
    const file = join(dir, 'gateway.yaml');
    const base = ['tls: { certFile: certs/gateway.crt, keyFile: certs/gateway.key }', 'routing: { embedded: { file: routes.yaml } }'];
    await writeFile(
      file,
      [
        ...base,
        'upstream: { clientCertFile: certs/gateway-client.crt, clientKeyFile: certs/gateway-client.key, connectTimeoutSeconds: 0.5, responseHeaderTimeoutSeconds: 2, protocol: h2 }',
        'connections: { readHeaderTimeoutSeconds: 10, idleTimeoutSeconds: 0, http2: { maxConcurrentStreams: 250 } }',
      ].join('\n'),
    );
    const config = await loadConfig(gatewayConfigKind, file);
    assert.equal(config.upstream.connectTimeoutMs, 500);
    assert.equal(config.upstream.responseHeaderTimeoutMs, 2_000);
    assert.equal(config.upstream.protocol, 'h2');
    assert.deepEqual(config.connections, { readHeaderTimeoutMs: 10_000, idleTimeoutMs: 0, http2: { maxConcurrentStreams: 250, resetBurst: 200, resetsPerSecond: 20 } });

    await writeFile(
      file,
      [
        ...base,
        'upstream: { clientCertFile: certs/gateway-client.crt, clientKeyFile: certs/gateway-client.key, connectTimeoutSeconds: 0 }',
        'connections: { readHeaderTimeoutSeconds: 0, http2: { maxConcurrentStreams: 0, resetsPerSecond: 1.5 } }',
      ].join('\n'),
    );
    await assert.rejects(loadConfig(gatewayConfigKind, file), (err: ConfigError) => {
      assert.deepEqual(err.issues.map((i) => i.field).sort(), [
        'connections.http2.maxConcurrentStreams',
        'connections.http2.resetsPerSecond',
        'connections.readHeaderTimeoutSeconds',
        'upstream.connectTimeoutSeconds',
      ]);
      return true;
    });
  });
});

test('workers is a count, or "auto" for one per CPU this process may use', async () => {
  await withTempDir(async (dir) => {
    await writeCerts(dir);
    const file = join(dir, 'gateway.yaml');
    const base = [
      'tls: { certFile: certs/gateway.crt, keyFile: certs/gateway.key }',
      'routing: { embedded: { file: routes.yaml } }',
      'upstream: { clientCertFile: certs/gateway-client.crt, clientKeyFile: certs/gateway-client.key }',
    ];
    await writeFile(file, [...base, 'workers: 3'].join('\n'));
    assert.equal((await loadConfig(gatewayConfigKind, file)).workers, 3);
    await writeFile(file, [...base, 'workers: auto'].join('\n'));
    assert.equal((await loadConfig(gatewayConfigKind, file)).workers, availableParallelism());
  });
});

test('a redis routing store and shard health settings map to their values', async () => {
  await withTempDir(async (dir) => {
    await writeCerts(dir);
    const file = join(dir, 'gateway.yaml');
    await writeFile(
      file,
      [
        'tls: { certFile: certs/gateway.crt, keyFile: certs/gateway.key }',
        'routing: { redis: { url: "redis+sentinel://s1:26379,s2:26380/primary", keyPrefix: "edge-eu:", cacheMaxEntries: 5000,',
        '  seedShards: [{ name: shard-a, url: "https://a.internal:6443", caFile: certs/gateway.crt, labels: { region: eu } }, { name: shard-b, url: "https://b.internal:6443" }] } }',
        'shardHealth: { intervalSeconds: 2, failureThreshold: 5 }',
        'upstream: { clientCertFile: certs/gateway-client.crt, clientKeyFile: certs/gateway-client.key }',
      ].join('\n'),
    );
    const config = await loadConfig(gatewayConfigKind, file);
    assert.deepEqual(config.routing, {
      kind: 'redis',
      url: 'redis+sentinel://s1:26379,s2:26380/primary',
      redis: {
        mode: 'sentinel',
        nodes: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26380 },
        ],
        masterName: 'primary',
        keyPrefix: 'edge-eu:',
      },
      cacheMax: 5000,
      negativeTtlMs: 5000,
      runIndexer: false,
      seedShards: [
        { name: 'shard-a', url: 'https://a.internal:6443', ca: await readFile(join(dir, 'certs/gateway.crt'), 'utf8'), state: 'active', labels: { region: 'eu' } },
        { name: 'shard-b', url: 'https://b.internal:6443', state: 'active', labels: {} },
      ],
    });
    assert.deepEqual(config.shardHealth, { enabled: true, intervalMs: 2000, downIntervalMs: 1000, failureThreshold: 5 });
  });
});

test('redis credentials and TLS map to absolute file paths; the contents stay in the files', async () => {
  await withTempDir(async (dir) => {
    await writeCerts(dir);
    await writeFile(join(dir, 'redis-password'), 'p4ss-in-file\n');
    await writeFile(join(dir, 'sentinel-password'), 's3ntinel\n');
    const file = join(dir, 'gateway.yaml');
    await writeFile(
      file,
      [
        'tls: { certFile: certs/gateway.crt, keyFile: certs/gateway.key }',
        'routing:',
        '  redis:',
        '    url: "rediss+sentinel://s1:26379/primary"',
        '    username: kcp-edge',
        '    passwordFile: redis-password',
        '    sentinelUsername: sentinel-user',
        '    sentinelPasswordFile: sentinel-password',
        '    tls: { caFile: certs/client-ca.crt, certFile: certs/gateway-client.crt, keyFile: certs/gateway-client.key, serverName: redis.internal }',
        'upstream: { clientCertFile: certs/gateway-client.crt, clientKeyFile: certs/gateway-client.key }',
      ].join('\n'),
    );
    const config = await loadConfig(gatewayConfigKind, file);
    assert.equal(config.routing.kind, 'redis');
    assert.deepEqual(config.routing.kind === 'redis' ? config.routing.redis : undefined, {
      mode: 'sentinel',
      nodes: [{ host: 's1', port: 26379 }],
      masterName: 'primary',
      keyPrefix: 'kcp-edge:',
      username: 'kcp-edge',
      passwordFile: join(dir, 'redis-password'),
      sentinelUsername: 'sentinel-user',
      sentinelPasswordFile: join(dir, 'sentinel-password'),
      tls: {
        caFile: join(dir, 'certs/client-ca.crt'),
        certFile: join(dir, 'certs/gateway-client.crt'),
        keyFile: join(dir, 'certs/gateway-client.key'),
        serverName: 'redis.internal',
      },
    });
    assert.ok(!JSON.stringify(config).includes('p4ss-in-file') && !JSON.stringify(config).includes('s3ntinel'));
  });
});

const invalid: { name: string; yaml: string[]; issues: string[] }[] = [
  {
    name: 'schema problems, all at once',
    yaml: [
      'listen: { port: 99999, adress: 127.0.0.1 }',
      'tls: { certFile: certs/gateway.crt }',
      'routing: { redis: { url: "http://x" } }',
      'upstream: { clientCertFile: "" , clientKeyFile: k }',
      'headers: { impersonation: maybe }',
      'drain: { timeoutSeconds: -1 }',
      'log: { level: loud }',
      'workers: 0',
      'watches: { maxOpen: -1, maxOpenPerOrg: 1.5, perUser: 3 }',
    ],
    issues: [
      '1:listen.port: must be <= 65535',
      '1:listen.adress: is not a known field (did you mean "address"?)',
      '2:tls.keyFile: is required',
      '3:routing.redis.url: must be a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL',
      '4:upstream.clientCertFile: must not be empty',
      '5:headers.impersonation: must be one of: "pass", "drop"',
      '6:drain.timeoutSeconds: must be >= 0',
      '7:log.level: must be one of: "fatal", "error", "warn", "info", "debug", "trace", "silent"',
      '8:workers: must be a whole number from 1 to 256, or "auto"',
      '9:watches.maxOpen: must be >= 0',
      '9:watches.maxOpenPerOrg: must be an integer',
      '9:watches.perUser: is not a known field',
    ],
  },
  {
    name: 'missing sections',
    yaml: ['log: { level: info }'],
    issues: [
      '1:routing: is required',
      '1:tls.certFile: is required',
      '1:tls.keyFile: is required',
      '1:upstream.clientCertFile: is required',
      '1:upstream.clientKeyFile: is required',
    ],
  },
  {
    name: 'referenced files that are missing or not PEM, and no routing store',
    yaml: [
      'tls: { certFile: certs/gateway.key, keyFile: nope.key }',
      'routing: {}',
      'authentication: { tokenFile: tokens.csv, clientCAFile: certs/gateway.crt }',
      'upstream: { clientCertFile: certs/gateway-client.crt, clientKeyFile: certs/gateway-client.crt }',
    ],
    issues: [
      '1:tls.certFile: DIR/certs/gateway.key does not contain a PEM certificate',
      '1:tls.keyFile: cannot read DIR/nope.key: no such file',
      '2:routing: must name exactly one routing store (embedded or redis)',
      '3:authentication.tokenFile: cannot read DIR/tokens.csv: no such file',
      '4:upstream.clientKeyFile: DIR/certs/gateway-client.crt does not contain a PEM private key',
    ],
  },
];

for (const c of invalid) {
  test(`gateway config errors: ${c.name}`, async () => {
    await withTempDir(async (dir) => {
      await writeCerts(dir);
      const file = join(dir, 'gateway.yaml');
      await writeFile(file, c.yaml.join('\n'));
      await assert.rejects(loadConfig(gatewayConfigKind, file), (err: ConfigError) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(
          err.issues.map((i) => `${i.line}:${i.field}: ${i.message.replaceAll(dir, 'DIR')}`),
          c.issues,
        );
        return true;
      });
    });
  });
}

test('admin, audit and tracing map to their settings; each is off when absent, and refused when it admits or logs nothing', async () => {
  await withTempDir(async (dir) => {
    await writeCerts(dir);
    await copyFile(join(import.meta.dirname, '../../config/audit-policy.yaml'), join(dir, 'audit-policy.yaml'));
    await writeFile(join(dir, 'admin-tokens.csv'), 'scrape,prometheus,1,"system:monitoring"\n');
    const base = [
      'tls: { certFile: certs/gateway.crt, keyFile: certs/gateway.key }',
      'routing: { embedded: { file: routes.yaml } }',
      'upstream: { clientCertFile: certs/gateway-client.crt, clientKeyFile: certs/gateway-client.key }',
    ];
    const file = join(dir, 'gateway.yaml');
    await writeFile(file, base.join('\n'));
    const bare = await loadConfig(gatewayConfigKind, file);
    assert.deepEqual([bare.admin, bare.audit, bare.tracing], [undefined, undefined, undefined]);

    await writeFile(
      file,
      [
        ...base,
        'admin: { tokenFile: admin-tokens.csv, clientCAFile: certs/client-ca.crt }',
        'audit: { policyFile: audit-policy.yaml, log: { path: logs/audit.log }, webhook: { url: "https://sink.example.com/audit" } }',
        'tracing: { endpoint: "http://collector:4318/v1/traces" }',
      ].join('\n'),
    );
    const config = await loadConfig(gatewayConfigKind, file);
    assert.deepEqual(config.admin?.listen, { host: '0.0.0.0', port: 6444 });
    assert.equal(config.admin?.group, 'system:monitoring');
    assert.equal(config.admin?.tokenFile, join(dir, 'admin-tokens.csv'));
    assert.equal(config.admin?.tls.certFile, join(dir, 'certs/gateway.crt'), 'the serving certificate by default');
    assert.match(config.admin?.clientCA ?? '', /BEGIN CERTIFICATE/);
    assert.deepEqual(config.audit?.log, { path: join(dir, 'logs/audit.log'), maxSizeBytes: 100 * 1024 * 1024, maxBackups: 10 });
    assert.deepEqual(config.audit?.webhook, { url: 'https://sink.example.com/audit', bufferSize: 10000, batchMaxSize: 400, batchMaxWaitMs: 1000 });
    assert.equal(config.audit?.maxObjectBytes, 102400, "bodies up to kube's default event size are recorded");
    assert.deepEqual(config.tracing, { endpoint: 'http://collector:4318/v1/traces', samplingRatio: 0.01, serviceName: 'kcp-edge' });

    await writeFile(join(dir, 'bad-policy.yaml'), 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{ level: Loud }]\n');
    const refused = async (lines: string[], expected: RegExp[]) =>
      assert.rejects(loadConfig(gatewayConfigKind, (await writeFile(file, [...base, ...lines].join('\n')), file)), (err: ConfigError) => {
        for (const e of expected) assert.match(err.message, e);
        return true;
      });
    await refused(['tracing: { endpoint: "collector:4318", samplingRatio: 2 }'], [/tracing\.endpoint: must be an http/, /tracing\.samplingRatio: must be <= 1/]);
    // Checked after the schema, all together: an admin listener nobody may enter, an audit log with no backend or a broken policy.
    await refused(
      ['admin: {}', 'audit: { policyFile: bad-policy.yaml }'],
      [/admin: must name clientCAFile or tokenFile/, /audit: must name a backend/, /audit\.policyFile: .*rules\[0\]\.level/],
    );
  });
});
