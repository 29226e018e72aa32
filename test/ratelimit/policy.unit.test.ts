import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isConfigError } from '../../src/config/index.ts';
import { parsePolicy, stableUid } from '../../src/ratelimit/policy.ts';

async function problemsOf(text: string): Promise<{ path: string; message: string; line?: number }[]> {
  try {
    await parsePolicy(text, 'policy.yaml');
  } catch (err) {
    assert.ok(isConfigError(err), String(err));
    assert.match(err.message, /^invalid rate policy policy\.yaml/);
    return err.issues.map((i) => ({ path: i.field, message: i.message, line: i.line }));
  }
  assert.fail('expected the policy to be rejected');
}

test('an empty file yields the built-in exempt and catch-all entries, frozen', async () => {
  const policy = await parsePolicy('', 'empty.yaml');
  assert.deepEqual(
    policy.flowSchemas.map((f) => f.name),
    ['probes', 'catch-all'],
  );
  assert.deepEqual(
    policy.priorityLevels.map((l) => [l.name, l.exempt]),
    [
      ['exempt', true],
      ['catch-all', false],
    ],
  );
  assert.ok(Object.isFrozen(policy) && Object.isFrozen(policy.flowSchemas) && Object.isFrozen(policy.flowSchemas[0]));
  assert.equal(policy.flowSchemas[1]!.uid, stableUid('flowschema', 'catch-all'));
  assert.match(policy.flowSchemas[1]!.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
});

test('flow schemas sort by precedence then name; file entries override built-ins of the same name', async () => {
  const policy = await parsePolicy(`
priorityLevels:
  - name: catch-all
    limits: { rate: 5 }
  - name: tenants
    uid: tenants-uid
    limits: { rate: 10, burst: 20, maxOpenWatches: 3, watchStartsPerSecond: 1, maxInFlight: 4 }
flowSchemas:
  - { name: zeta, precedence: 500, priorityLevel: tenants, rules: [{}] }
  - { name: alpha, precedence: 500, priorityLevel: tenants, distinguisher: byOrg, rules: [{ orgs: ["*"] }] }
`);
  assert.deepEqual(
    policy.flowSchemas.map((f) => f.name),
    ['probes', 'alpha', 'zeta', 'catch-all'],
  );
  const catchAll = policy.priorityLevels.find((l) => l.name === 'catch-all')!;
  assert.deepEqual(catchAll.limits, { rate: 5, burst: 5, maxOpenWatches: undefined, watchStartsPerSecond: undefined, watchStartBurst: 1, maxInFlight: undefined });
  assert.equal(policy.priorityLevels.find((l) => l.name === 'tenants')!.uid, 'tenants-uid');
});

const invalid: { name: string; yaml: string; expect: { path: string; message: RegExp; line?: number }[] }[] = [
  {
    name: 'unknown field',
    yaml: 'priorityLevels:\n  - name: a\n    limits: { rate: 1, brust: 2 }\n',
    expect: [{ path: 'priorityLevels[0].limits.brust', message: /is not a known field \(did you mean "burst"\?\)/, line: 3 }],
  },
  {
    name: 'missing required field',
    yaml: 'flowSchemas:\n  - name: a\n    rules: [{}]\n',
    expect: [{ path: 'flowSchemas[0].priorityLevel', message: /is required/ }],
  },
  {
    name: 'bad verb and bad rate, reported together',
    yaml: 'priorityLevels:\n  - { name: a, limits: { rate: 0 } }\nflowSchemas:\n  - { name: f, priorityLevel: a, rules: [{ verbs: [get, lsit] }] }\n',
    expect: [
      { path: 'priorityLevels[0].limits.rate', message: /must be > 0/ },
      { path: 'flowSchemas[0].rules[0].verbs[1]', message: /must be one of/ },
    ],
  },
  {
    name: 'undefined priority level',
    yaml: 'flowSchemas:\n  - { name: f, priorityLevel: nope, rules: [{}] }\n',
    expect: [{ path: 'flowSchemas[0].priorityLevel', message: /"nope", which is not defined/ }],
  },
  {
    name: 'neither exempt nor limits',
    yaml: 'priorityLevels:\n  - { name: a }\n',
    expect: [{ path: 'priorityLevels[0]', message: /exactly one/ }],
  },
  {
    name: 'duplicate names',
    yaml: 'priorityLevels:\n  - { name: a, exempt: true }\n  - { name: a, exempt: true }\n',
    expect: [{ path: 'priorityLevels[1].name', message: /duplicate/ }],
  },
  {
    name: 'cost over a burst',
    yaml: 'costs: { listWithoutLimit: 30 }\npriorityLevels:\n  - { name: a, limits: { rate: 5, burst: 10 } }\n',
    expect: [{ path: 'costs.listWithoutLimit', message: /exceeds priorityLevels\[0\]\.limits\.burst \(10\)/ }],
  },
  {
    name: 'resources and non-resource paths in one rule',
    yaml: 'flowSchemas:\n  - { name: f, priorityLevel: exempt, rules: [{ resources: [pods], nonResourcePaths: [/x] }] }\n',
    expect: [{ path: 'flowSchemas[0].rules[0].nonResourcePaths', message: /not both/ }],
  },
  {
    name: 'bad distinguisher',
    yaml: 'flowSchemas:\n  - { name: f, priorityLevel: exempt, distinguisher: byNamespace, rules: [{}] }\n',
    expect: [{ path: 'flowSchemas[0].distinguisher', message: /"byUser", "byWorkspace", "byOrg"/ }],
  },
  {
    name: 'unknown verb in costs',
    yaml: 'costs: { verbs: { lst: 2 } }\n',
    expect: [{ path: 'costs.verbs.lst', message: /is not a known field \(did you mean "list"\?\)/ }],
  },
  {
    name: 'YAML syntax error',
    yaml: 'flowSchemas: [\n',
    expect: [{ path: '', message: /^YAML syntax: / }],
  },
];

for (const c of invalid) {
  test(`validation names the field: ${c.name}`, async () => {
    const problems = await problemsOf(c.yaml);
    for (const e of c.expect) {
      assert.ok(
        problems.some((p) => p.path === e.path && e.message.test(p.message) && (e.line === undefined || p.line === e.line)),
        `expected ${e.path} ${e.message} in ${JSON.stringify(problems)}`,
      );
    }
  });
}
