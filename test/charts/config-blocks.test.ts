// The chart passes config blocks through verbatim, so its defaults and its full example must be configs
// the product itself accepts: checked against the very schemas `kcp-edge serve` and `sync` validate with.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { gatewayConfigKind } from '../../src/serve/gateway-config.ts';
import { routingFileKind } from '../../src/routing/embedded-file.ts';
import { policySchema } from '../../src/ratelimit/policy-schema.ts';
import { syncConfigKind } from '../../src/sync/config.ts';
import { coalesce } from './template-checks.ts';

type Values = Record<string, unknown>;
const chartDir = join(import.meta.dirname, '../../charts/kcp-edge');

/** The file's values as the templates see them: coalesced over the chart's values.yaml, as helm does. */
async function values(file: string): Promise<{ config: Record<string, Values>; sync: { mode: string; groups: { name: string; config?: Values }[] } }> {
  const read = async (name: string) => parse(await readFile(join(chartDir, name), 'utf8')) as Values;
  return coalesce(await read('values.yaml'), await read(file)) as never;
}

function check(what: string, validate: ((data: unknown) => boolean) & { errors?: unknown }, data: unknown): void {
  // The product's validators fill in defaults: give them a copy.
  assert.ok(validate(structuredClone(data)), `${what}: ${JSON.stringify(validate.errors, null, 2)}`);
}

const validatePolicy = new Ajv({ allErrors: true, strict: false }).compile(policySchema);

for (const file of ['values.yaml', 'ci/full-values.yaml']) {
  test(`${file}: the gateway, routing and rate policy blocks are valid product configs`, async () => {
    const { config } = await values(file);
    check('gateway', gatewayConfigKind.validate, config.gateway);
    check('routing', routingFileKind.validate, config.routing);
    if (Object.keys(config.ratelimit ?? {}).length > 0) check('ratelimit', validatePolicy, config.ratelimit);
  });
}

test('full-values.yaml: every per-group sync config (config.sync merged with the group) is a valid sync config', async () => {
  const { config, sync } = await values('ci/full-values.yaml');
  assert.equal(sync.mode, 'deployments');
  for (const group of sync.groups) {
    // The same merge the chart's ConfigMap does (mergeOverwrite): the group's keys win.
    const merged = { ...config.sync, ...(group.config ?? {}) };
    check(`sync group ${group.name}`, syncConfigKind.validate, merged);
  }
});

test('the product validators refuse a broken block (the check can fail)', () => {
  assert.equal(gatewayConfigKind.validate({ listen: { port: 'https' } }), false);
  assert.equal(validatePolicy({ kind: 'Nope' }), false);
});
