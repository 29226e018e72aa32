// The Helm chart, checked as far as possible without helm (schema, references, template structure), and
// rendered and asserted on where helm is on PATH.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { schemaDeclares, structuralProblems, templateNames, valuesReferences, type JsonSchema } from './template-checks.ts';

const run = promisify(execFile);
const chartDir = join(import.meta.dirname, '../../charts/kcp-edge');
const valuesFiles = { default: join(chartDir, 'values.yaml'), full: join(chartDir, 'ci/full-values.yaml') };

type Values = Record<string, unknown>;

async function readYaml(path: string): Promise<Values> {
  return parse(await readFile(path, 'utf8')) as Values;
}

async function loadSchema(): Promise<JsonSchema> {
  return JSON.parse(await readFile(join(chartDir, 'values.schema.json'), 'utf8')) as JsonSchema;
}

async function templates(): Promise<Map<string, string>> {
  const dir = join(chartDir, 'templates');
  const files = (await readdir(dir)).filter((f) => /\.(ya?ml|tpl|txt)$/.test(f));
  return new Map(await Promise.all(files.map(async (f) => [f, await readFile(join(dir, f), 'utf8')] as const)));
}

function validator(schema: JsonSchema) {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
  return ajv.compile(schema);
}

test('Chart.yaml is a v2 application chart named after its folder, versioned like the package', async () => {
  const chart = await readYaml(join(chartDir, 'Chart.yaml'));
  const pkg = JSON.parse(await readFile(join(chartDir, '../../package.json'), 'utf8')) as { version: string };
  const chartSchema = {
    type: 'object',
    required: ['apiVersion', 'name', 'version', 'appVersion', 'type'],
    properties: {
      apiVersion: { const: 'v2' },
      name: { const: 'kcp-edge' },
      type: { const: 'application' },
      version: { type: 'string', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?$' },
      appVersion: { type: 'string', minLength: 1 },
      kubeVersion: { type: 'string' },
    },
  };
  const validate = new Ajv({ allErrors: true }).compile(chartSchema);
  assert.ok(validate(chart), JSON.stringify(validate.errors));
  assert.equal(chart.appVersion, pkg.version);
});

/** What helm validates: the chart's values.yaml with a user file coalesced over it (maps merge, the rest replaces). */
function coalesce(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const below = out[key];
    const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (value === null) delete out[key];
    else out[key] = isMap(value) && isMap(below) ? coalesce(below, value) : value;
  }
  return out;
}

for (const [name, path] of Object.entries(valuesFiles)) {
  test(`${name} values validate against values.schema.json`, async () => {
    const validate = validator(await loadSchema());
    const values = coalesce(await readYaml(valuesFiles.default), await readYaml(path));
    assert.ok(validate(values), JSON.stringify(validate.errors, null, 2));
  });
}

test('the schema rejects values that would ship an unsafe or broken install', async () => {
  const validate = validator(await loadSchema());
  const base = await readYaml(valuesFiles.default);
  const variants: { what: string; change: (v: Values) => void }[] = [
    { what: 'a writable root filesystem', change: (v) => ((v.securityContext as Values).readOnlyRootFilesystem = false) },
    { what: 'privilege escalation', change: (v) => ((v.securityContext as Values).allowPrivilegeEscalation = true) },
    { what: 'a misspelt top-level key', change: (v) => (v.replicas = 3) },
    { what: 'a replica count that is not a number', change: (v) => (v.replicaCount = 'two') },
    { what: 'no gateway worker process', change: (v) => (((v.config as Values).gateway as Values).workers = 0) },
    { what: 'no grace margin beyond the drain bound', change: (v) => (((v.gateway as Values).drain as Values).marginSeconds = 0) },
    { what: 'an unknown sync mode', change: (v) => ((v.sync as Values).mode = 'daemonset') },
    { what: 'per-group sync Deployments without groups', change: (v) => ((v.sync as Values).mode = 'deployments') },
    { what: 'a sync group name that is not a DNS label', change: (v) => ((v.sync as Values).groups = [{ name: 'Data_Bases' }]) },
    { what: 'a certificate that is not PEM', change: (v) => ((v.tls as Values).cert = 'not a certificate') },
    { what: 'a probe path without a leading slash', change: (v) => ((((v.gateway as Values).probes as Values).readiness as Values).path = 'readyz') },
  ];
  for (const { what, change } of variants) {
    const values = structuredClone(base);
    change(values);
    assert.equal(validate(values), false, `schema accepted ${what}`);
  }
});

test('every .Values reference in the templates is declared by the schema', async () => {
  const schema = await loadSchema();
  const undeclared: string[] = [];
  let count = 0;
  for (const [file, text] of await templates()) {
    for (const ref of valuesReferences(text)) {
      count += 1;
      if (!schemaDeclares(schema, ref)) undeclared.push(`${file}: .Values.${ref}`);
    }
  }
  assert.deepEqual(undeclared, []);
  assert.ok(count > 50, `expected the templates to read many values, found ${count}`);
  // The checker itself must be able to fail.
  assert.equal(schemaDeclares(schema, 'gateway.drain.nope'), false);
  assert.equal(schemaDeclares(schema, 'nope'), false);
  assert.equal(schemaDeclares(schema, 'gateway.resources.limits.cpu'), true);
  assert.equal(schemaDeclares(schema, 'caBundles.bundles.shards'), true);
  assert.equal(schemaDeclares(schema, 'config.gateway.upstream.caFile'), true);
});

test('templates are well formed and include only templates that are defined', async () => {
  const all = await templates();
  const problems = [...all].flatMap(([file, text]) => structuralProblems(file, text));
  assert.deepEqual(problems, []);
  const defined = new Set([...all.values()].flatMap((t) => templateNames(t).defined));
  const missing = [...all].flatMap(([file, t]) => templateNames(t).used.filter((n) => !defined.has(n)).map((n) => `${file}: ${n}`));
  assert.deepEqual(missing, []);
  // The checker itself must be able to fail.
  assert.equal(structuralProblems('x', '{{ if .a }}x').length, 1);
  assert.equal(structuralProblems('x', '{{ end }}').length, 1);
  assert.equal(structuralProblems('x', '{{ .a }').length, 1);
});

// ---- rendering, where helm is installed ----

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  rules?: unknown[];
}

async function helmOnPath(): Promise<boolean> {
  try {
    await run('helm', ['version', '--short']);
    return true;
  } catch {
    return false;
  }
}

async function render(extraArgs: string[]): Promise<KubeObject[]> {
  const { stdout } = await run('helm', ['template', 'edge', chartDir, '--namespace', 'kcp-edge', ...extraArgs], { maxBuffer: 16 << 20 });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

function one(objects: KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

interface Container {
  name: string;
  args: string[];
  securityContext: Record<string, unknown>;
  livenessProbe?: { httpGet: { path: string } };
  readinessProbe?: { httpGet: { path: string } };
  volumeMounts: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext: Record<string, unknown>;
  volumes: { name: string }[];
}
const podSpec = (o: KubeObject) => ((o.spec!.template as { spec: PodSpec }).spec);

test('helm lint and helm template render both values files as expected', async (t) => {
  if (!(await helmOnPath())) {
    t.skip('helm not on PATH');
    return;
  }
  for (const path of Object.values(valuesFiles)) {
    await run('helm', ['lint', chartDir, '-f', path]);
  }

  const defaults = await render(['-f', valuesFiles.default]);
  const gateway = one(defaults, 'Deployment', 'edge-kcp-edge');
  const pod = podSpec(gateway);
  assert.equal(gateway.spec!.replicas, 2);
  assert.deepEqual(pod.containers.map((c) => c.name), ['gateway']);
  const container = pod.containers[0]!;
  assert.deepEqual(container.args, ['serve', '--config', '/etc/kcp-edge/gateway.yaml']);
  assert.equal((container as Container & { ports: { containerPort: number }[] }).ports[0]!.containerPort, 6443);
  assert.equal(container.livenessProbe?.httpGet.path, '/livez');
  assert.equal(container.readinessProbe?.httpGet.path, '/readyz');
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.terminationGracePeriodSeconds, 5 + 30 + 10, 'preStop pause + drain bound + margin');
  assert.ok(container.volumeMounts.some((m) => m.mountPath === '/tmp'), 'a read-only root needs a writable /tmp');
  one(defaults, 'Service');
  one(defaults, 'PodDisruptionBudget');
  one(defaults, 'ServiceAccount');
  const config = one(defaults, 'ConfigMap');
  assert.deepEqual(Object.keys(config.data!).sort(), ['gateway.yaml', 'ratelimit.yaml', 'routing.yaml', 'sync.yaml']);
  const gatewayConfig = parse(config.data!['gateway.yaml']!) as { tls: { certFile: string }; upstream: { clientCertFile: string } };
  assert.equal(gatewayConfig.tls.certFile, '/var/run/kcp-edge/tls/tls.crt');
  assert.ok(container.volumeMounts.some((m) => gatewayConfig.upstream.clientCertFile.startsWith(`${m.mountPath}/`)), 'the shard client certificate is mounted where the config says');
  const tls = one(defaults, 'Secret', 'edge-kcp-edge-tls');
  assert.ok(Buffer.from(tls.data!['tls.crt']!, 'base64').toString().includes('BEGIN CERTIFICATE'), 'self-signed serving certificate');
  assert.equal(defaults.filter((o) => ['HorizontalPodAutoscaler', 'ServiceMonitor', 'ClusterRole'].includes(o.kind)).length, 0);

  const full = await render(['-f', valuesFiles.full]);
  const fullGateway = one(full, 'Deployment', 'edge');
  assert.equal(fullGateway.spec!.replicas, undefined, 'the HPA owns the replica count');
  assert.equal(podSpec(fullGateway).terminationGracePeriodSeconds, 85);
  one(full, 'HorizontalPodAutoscaler');
  one(full, 'ServiceMonitor');
  assert.equal(full.filter((o) => o.kind === 'Secret').length, 1, 'only the CA bundle Secret: TLS comes from existing Secrets');
  const syncs = full.filter((o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === 'sync');
  assert.deepEqual(syncs.map((d) => d.metadata.name).sort(), ['edge-sync-databases', 'edge-sync-queues']);
  assert.deepEqual(podSpec(syncs.find((d) => d.metadata.name === 'edge-sync-databases')!).containers[0]!.args, ['sync', '--config', '/etc/kcp-edge/sync-databases.yaml']);
  const fullConfig = one(full, 'ConfigMap');
  const merged = parse(fullConfig.data!['sync-databases.yaml']!) as { agentName: string; resources: unknown[] };
  assert.equal(merged.agentName, 'edge');
  assert.equal(merged.resources.length, 1);
  assert.ok(one(full, 'ClusterRole').rules!.length >= 4);

  const sidecar = await render(['-f', valuesFiles.full, '--set', 'sync.mode=sidecar']);
  assert.deepEqual(podSpec(one(sidecar, 'Deployment', 'edge')).containers.map((c) => c.name), ['gateway', 'sync']);
  assert.equal(sidecar.filter((o) => o.kind === 'Deployment').length, 1);
});
