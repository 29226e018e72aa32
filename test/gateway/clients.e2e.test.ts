// End to end: what a new user tries first with kubectl and helm, through the gateway to two stand-in shards.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { findHelm } from '../charts/helm.ts';
import { kubectlIn, kubectlMissing, stackWorkspaces, startKubectlStack, type KubectlStack } from './kubectl-stack.ts';

const front = stackWorkspaces[0].context;
const back = stackWorkspaces[1].context;

test('kubectl version answers through the gateway in every workspace', { skip: kubectlMissing }, async (t) => {
  const stack = await startKubectlStack(t);
  for (const context of [front, back]) {
    const out = JSON.parse(await kubectlIn(stack, context)('version', '-o', 'json')) as { serverVersion?: { major: string; gitVersion: string } };
    assert.equal(out.serverVersion?.major, '1', `${context}: ${JSON.stringify(out)}`);
  }
});

async function writeChart(stack: KubectlStack, greeting: string): Promise<string> {
  const chart = join(stack.dir, 'hello-chart');
  await mkdir(join(chart, 'templates'), { recursive: true });
  await writeFile(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: hello\nversion: 0.1.0\n');
  await writeFile(join(chart, 'values.yaml'), `greeting: ${greeting}\n`);
  await writeFile(
    join(chart, 'templates', 'configmap.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  greeting: {{ .Values.greeting | quote }}\n',
  );
  return chart;
}

test('helm install, upgrade, rollback, list and uninstall a ConfigMap chart through the gateway', { skip: kubectlMissing }, async (t) => {
  const lookup = await findHelm();
  if ('unavailable' in lookup) return t.skip(lookup.unavailable);
  const { helm } = lookup;
  t.after(() => helm.dispose());
  const stack = await startKubectlStack(t);
  const kubectl = kubectlIn(stack, front);
  const helmIn = (...args: string[]) => helm.run(['--kubeconfig', stack.kubeconfig, '--kube-context', front, '--namespace', 'default', ...args]);
  const greeting = () => kubectl('get', 'configmap', 'hi-settings', '-o', 'jsonpath={.data.greeting}');

  const chart = await writeChart(stack, 'hello');
  await helmIn('install', 'hi', chart, '--wait', '--timeout', '30s');
  assert.equal(await greeting(), 'hello');
  await helmIn('upgrade', 'hi', chart, '--set', 'greeting=bonjour');
  assert.equal(await greeting(), 'bonjour');
  await helmIn('rollback', 'hi', '1');
  assert.equal(await greeting(), 'hello');
  const releases = JSON.parse(await helmIn('list', '-o', 'json')) as Array<{ name: string; revision: string; status: string }>;
  assert.deepEqual(
    releases.map((r) => [r.name, r.revision, r.status]),
    [['hi', '3', 'deployed']],
  );
  // The release lives in its workspace only.
  const elsewhere = JSON.parse(await helm.run(['--kubeconfig', stack.kubeconfig, '--kube-context', back, '--namespace', 'default', 'list', '-o', 'json'])) as unknown[];
  assert.deepEqual(elsewhere, []);
  await helmIn('uninstall', 'hi');
  await assert.rejects(greeting(), /NotFound|not found/);
  assert.deepEqual(JSON.parse(await helmIn('list', '-o', 'json')), []);
});

test('kubectl explain reads real schemas through the gateway, built-in kinds and CRDs alike', { skip: kubectlMissing }, async (t) => {
  const stack = await startKubectlStack(t);
  const kubectl = kubectlIn(stack, front);
  const data = await kubectl('explain', 'configmap.data');
  assert.match(data, /KIND:\s+ConfigMap/);
  assert.match(data, /FIELD:\s+data <map\[string\]string>/);
  assert.match(data, /Data contains the configuration data/);
  assert.match(await kubectl('explain', 'service.spec.ports.targetPort'), /Number or name of the port/);
  assert.match(await kubectl('explain', 'pods.spec.containers.env'), /FIELD:\s+env <\[\]EnvVar>/);
  // The v2 document, in the protobuf encoding client-go reads it in.
  const v2 = await kubectl('explain', '--output=plaintext-openapiv2', 'configmap.data');
  assert.match(v2, /FIELD:\s+data <map\[string\]string>/);
  assert.match(v2, /Data contains the configuration data/);

  const crd = join(stack.dir, 'crd.yaml');
  await writeFile(
    crd,
    [
      'apiVersion: apiextensions.k8s.io/v1',
      'kind: CustomResourceDefinition',
      'metadata: {name: widgets.example.com}',
      'spec:',
      '  group: example.com',
      '  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}',
      '  scope: Namespaced',
      '  versions:',
      '  - name: v1',
      '    served: true',
      '    storage: true',
      '    schema:',
      '      openAPIV3Schema:',
      '        type: object',
      '        properties:',
      '          spec:',
      '            type: object',
      '            description: What the widget should be.',
      '            properties:',
      '              size: {type: integer, description: How many sprockets the widget has.}',
      '',
    ].join('\n'),
  );
  assert.match(await kubectl('apply', '-f', crd), /created/);
  assert.match(await kubectl('explain', 'widgets.spec.size'), /How many sprockets the widget has/);
});

test('kubectl apply of a Service whose port changed leaves the new port, through the gateway', { skip: kubectlMissing }, async (t) => {
  const stack = await startKubectlStack(t);
  const kubectl = kubectlIn(stack, front);
  const manifest = join(stack.dir, 'svc.yaml');
  const service = (port: number) =>
    `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - name: http\n    port: ${port}\n    targetPort: 8080\n`;
  await writeFile(manifest, service(80));
  assert.match(await kubectl('apply', '-f', manifest), /service\/web created/);
  await writeFile(manifest, service(8081));
  assert.match(await kubectl('apply', '-f', manifest), /service\/web configured/);
  const ports = JSON.parse(await kubectl('get', 'service', 'web', '-o', 'jsonpath={.spec.ports}')) as Array<{ name: string; port: number; targetPort: number }>;
  assert.deepEqual(
    ports.map((p) => [p.name, p.port, p.targetPort]),
    [['http', 8081, 8080]],
  );

  // Two ports, the first of which changes: the order of the manifest is kept.
  const pair = (port: number) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: pair\nspec:\n  ports:\n  - {name: http, port: ${port}}\n  - {name: https, port: 443}\n`;
  await writeFile(manifest, pair(80));
  assert.match(await kubectl('apply', '-f', manifest), /service\/pair created/);
  await writeFile(manifest, pair(8080));
  assert.match(await kubectl('apply', '-f', manifest), /service\/pair configured/);
  const paired = JSON.parse(await kubectl('get', 'service', 'pair', '-o', 'jsonpath={.spec.ports}')) as Array<{ name: string; port: number }>;
  assert.deepEqual(
    paired.map((p) => [p.name, p.port]),
    [
      ['http', 8080],
      ['https', 443],
    ],
  );

  // The same with server-side apply, two ports of which one changes.
  const twoPorts = (port: number) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  ports:\n  - {name: http, port: ${port}}\n  - {name: https, port: 443}\n`;
  await writeFile(manifest, twoPorts(80));
  assert.match(await kubectl('apply', '--server-side', '-f', manifest), /service\/api serverside-applied/);
  await writeFile(manifest, twoPorts(8080));
  assert.match(await kubectl('apply', '--server-side', '-f', manifest), /service\/api serverside-applied/);
  const applied = JSON.parse(await kubectl('get', 'service', 'api', '-o', 'jsonpath={.spec.ports}')) as Array<{ name: string; port: number }>;
  assert.deepEqual(
    applied.map((p) => [p.name, p.port]),
    [
      ['http', 8080],
      ['https', 443],
    ],
  );
});

test('kubectl apply validates manifests against the schemas: a typo is refused, --validate=false lets it through', { skip: kubectlMissing }, async (t) => {
  const stack = await startKubectlStack(t);
  const kubectl = kubectlIn(stack, front);
  const manifest = join(stack.dir, 'typo.yaml');
  await writeFile(manifest, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\ndta:\n  a: b\n');
  await assert.rejects(kubectl('apply', '-f', manifest), /strict decoding error: unknown field "dta"/);
  await assert.rejects(kubectl('get', 'configmap', 'typo'), /NotFound|not found/);
  assert.match(await kubectl('apply', '--validate=false', '-f', manifest), /configmap\/typo created/);
  // A pod with the fields people write passes.
  const pod = join(stack.dir, 'pod.yaml');
  await writeFile(
    pod,
    [
      'apiVersion: v1',
      'kind: Pod',
      'metadata: {name: web, labels: {app: web}}',
      'spec:',
      '  restartPolicy: Always',
      '  terminationGracePeriodSeconds: 5',
      '  containers:',
      '  - name: web',
      '    image: nginx:1.27',
      '    imagePullPolicy: IfNotPresent',
      '    args: ["-g", "daemon off;"]',
      '    ports: [{name: http, containerPort: 80, protocol: TCP}]',
      '    env: [{name: A, value: "1"}, {name: B, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]',
      '    resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 64Mi}}',
      '    readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 5}',
      '    securityContext: {runAsNonRoot: false, allowPrivilegeEscalation: false}',
      '    volumeMounts: [{name: cache, mountPath: /var/cache/nginx}]',
      '  volumes: [{name: cache, emptyDir: {sizeLimit: 64Mi}}, {name: cfg, configMap: {name: typo}}]',
      '  tolerations: [{key: k, operator: Exists}]',
      '',
    ].join('\n'),
  );
  assert.match(await kubectl('apply', '-f', pod), /pod\/web created/);
});
