// The Helm chart, checked without helm: Chart.yaml, the values schema, the template references and
// structure. kcp-edge-helm.test.ts renders it with a real helm.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { coalesce, schemaDeclares, structuralProblems, templateNames, valuesReferences, type JsonSchema } from './template-checks.ts';

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
    { what: 'two sync workers writing for one group', change: (v) => Object.assign(v.sync as Values, { mode: 'deployments', groups: [{ name: 'databases', replicas: 2 }] }) },
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
  const missing = [...all].flatMap(([file, t]) =>
    templateNames(t)
      .used.filter((n) => !defined.has(n))
      .map((n) => `${file}: ${n}`),
  );
  assert.deepEqual(missing, []);
  // The checker itself must be able to fail.
  assert.equal(structuralProblems('x', '{{ if .a }}x').length, 1);
  assert.equal(structuralProblems('x', '{{ end }}').length, 1);
  assert.equal(structuralProblems('x', '{{ .a }').length, 1);
});
