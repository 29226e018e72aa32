import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, defineConfig, loadConfig, parseConfig } from '../../src/config/index.ts';
import { withTempDir } from '../helpers/wait.ts';

interface Sample {
  name: string;
  port: number;
  mode: 'a' | 'b';
  items: { id: string; weight?: number }[];
  nested: { flag: boolean };
}

const sample = defineConfig<Sample>({
  what: 'sample config',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'port', 'items'],
    properties: {
      name: { type: 'string', minLength: 1 },
      port: { type: 'integer', minimum: 0, maximum: 65535 },
      mode: { enum: ['a', 'b'], default: 'a' },
      items: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['id'],
          properties: {
            id: { type: 'string', pattern: '^[a-z]+$', errorMessage: 'must be lower-case letters' },
            weight: { type: 'number' },
          },
        },
      },
      nested: { type: 'object', additionalProperties: false, properties: { flag: { type: 'boolean', default: false } }, default: {} },
    },
  },
});

async function issuesOf(text: string): Promise<string[]> {
  try {
    await parseConfig(sample, text, 'sample.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map((i) => `${i.line ?? '-'}:${i.field}: ${i.message}`);
  }
  assert.fail('expected a ConfigError');
}

const cases: { name: string; yaml: string; issues: string[] }[] = [
  {
    name: 'every bad field at once, each with its line',
    yaml: ['name: ""', 'port: 70000', 'mode: c', 'items:', '  - id: ok', '  - id: Bad1', '    weight: heavy', '  - {}', 'nested: { flag: yes }'].join('\n'),
    issues: [
      '1:name: must not be empty',
      '2:port: must be <= 65535',
      '3:mode: must be one of: "a", "b"',
      '6:items[1].id: must be lower-case letters',
      '7:items[1].weight: must be a number',
      '8:items[2].id: is required',
      '9:nested.flag: must be a boolean',
    ],
  },
  {
    name: 'unknown fields are named, with a suggestion when one is close',
    yaml: ['name: x', 'prot: 1', 'port: 1', 'items: []', 'colour: red'].join('\n'),
    issues: ['2:prot: is not a known field (did you mean "port"?)', '5:colour: is not a known field'],
  },
  {
    name: 'missing required fields point at the enclosing mapping',
    yaml: 'mode: b\n',
    issues: ['1:name: is required', '1:port: is required', '1:items: is required'],
  },
  {
    name: 'an empty file is an empty mapping',
    yaml: '',
    issues: ['-:name: is required', '-:port: is required', '-:items: is required'],
  },
  {
    name: 'a document that is not a mapping',
    yaml: '- a\n- b\n',
    issues: ['1:: must be a mapping'],
  },
  {
    name: 'YAML syntax errors carry their position',
    yaml: 'name: x\nport: [1, 2\n',
    issues: ['3:: YAML syntax: Missing , or : between flow sequence items'],
  },
  {
    name: 'duplicate keys are an error, not a silent override',
    yaml: 'name: x\nname: y\nport: 1\nitems: []\n',
    issues: ['2:: YAML syntax: Map keys must be unique'],
  },
];

for (const c of cases) {
  test(`config errors: ${c.name}`, async () => {
    const issues = await issuesOf(c.yaml);
    // Syntax messages vary in wording across yaml versions; compare their prefix and position.
    assert.deepEqual(
      issues.map((i) => (i.includes('YAML syntax') ? i.slice(0, i.indexOf('YAML syntax') + 11) : i)),
      c.issues.map((i) => (i.includes('YAML syntax') ? i.slice(0, i.indexOf('YAML syntax') + 11) : i)),
    );
  });
}

test('the error message lists every issue with file, line and field', async () => {
  await assert.rejects(parseConfig(sample, 'name: ""\nport: -1\nitems: []\n', 'dir/sample.yaml'), (err: Error) => {
    assert.equal(
      err.message,
      ['invalid sample config dir/sample.yaml (2 errors):', '  dir/sample.yaml:1:7: name: must not be empty', '  dir/sample.yaml:2:7: port: must be >= 0'].join('\n'),
    );
    return true;
  });
});

test('a valid file gives a deeply frozen value with defaults filled in', async () => {
  const value = await parseConfig(sample, 'name: x\nport: 8080\nitems:\n  - id: abc\n', 'sample.yaml');
  assert.equal(value.mode, 'a');
  assert.equal(value.nested.flag, false);
  assert.equal(value.items[0]?.id, 'abc');
  assert.ok(Object.isFrozen(value));
  assert.ok(Object.isFrozen(value.items));
  assert.ok(Object.isFrozen(value.items[0]));
  assert.ok(Object.isFrozen(value.nested));
  assert.throws(() => {
    (value.nested as { flag: boolean }).flag = true;
  }, TypeError);
});

test('build reads referenced files relative to the config and reports every failure with its field', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'present.pem'), 'PEM');
    const kind = defineConfig<{ files: string[] }, { contents: string[] }>({
      what: 'bundle config',
      schema: { type: 'object', required: ['files'], properties: { files: { type: 'array', items: { type: 'string' } } } },
      async build(raw, ctx) {
        const contents: string[] = [];
        for (const [i, f] of raw.files.entries()) {
          const text = await ctx.readReferencedFile(['files', i], f);
          if (text !== undefined) contents.push(text);
        }
        if (raw.files.length > 2) ctx.issue(['files'], 'lists more than two files');
        return { contents };
      },
    });
    const file = join(dir, 'bundle.yaml');
    await writeFile(file, 'files: [present.pem]\n');
    assert.deepEqual((await loadConfig(kind, file)).contents, ['PEM']);

    await writeFile(file, 'files:\n  - present.pem\n  - missing-a.pem\n  - missing-b.pem\n');
    await assert.rejects(loadConfig(kind, file), (err: ConfigError) => {
      assert.deepEqual(
        err.issues.map((i) => `${i.line}:${i.field}: ${i.message}`),
        [
          '2:files: lists more than two files',
          `3:files[1]: cannot read ${join(dir, 'missing-a.pem')}: no such file`,
          `4:files[2]: cannot read ${join(dir, 'missing-b.pem')}: no such file`,
        ],
      );
      return true;
    });
  });
});

test('a missing file is a ConfigError naming it', async () => {
  await assert.rejects(loadConfig(sample, '/nonexistent/sample.yaml'), (err: ConfigError) => {
    assert.equal(err.issues[0]?.message, 'file does not exist');
    assert.match(err.message, /\/nonexistent\/sample\.yaml/);
    return true;
  });
});
