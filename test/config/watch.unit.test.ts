import assert from 'node:assert/strict';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, defineConfig, watchConfig, type Config } from '../../src/config/index.ts';
import { waitFor, withTempDir } from '../helpers/wait.ts';

const kind = defineConfig<{ level: string; count: number }>({
  what: 'sample config',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['level', 'count'],
    properties: { level: { enum: ['info', 'debug'] }, count: { type: 'integer', minimum: 1 } },
  },
});

test('hot reload picks up a change, survives a broken edit and recovers', async (t) => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'sample.yaml');
    await writeFile(file, 'level: info\ncount: 1\n');
    const applied: Config<{ level: string; count: number }>[] = [];
    const rejected: Error[] = [];
    const watcher = await watchConfig(kind, file, {
      debounceMs: 20,
      onChange: (next) => void applied.push(next),
      onRejected: (err) => void rejected.push(err),
    });
    t.after(() => watcher.close());
    assert.equal(watcher.current.count, 1);

    await writeFile(file, 'level: debug\ncount: 2\n');
    await waitFor(() => watcher.current.count === 2, { what: 'the edit to apply' });
    assert.equal(watcher.current.level, 'debug');
    assert.equal(applied.length, 1);

    // Broken: two bad fields. The previous value keeps serving and the rejection names both.
    await writeFile(file, 'level: loud\ncount: 0\n');
    const err = await waitFor(() => rejected[0], { what: 'the broken edit to be rejected' });
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(
      err.issues.map((i) => i.field),
      ['level', 'count'],
    );
    assert.equal(watcher.current.count, 2);
    assert.equal(watcher.generation, 1);

    // Editors save by renaming a new file over the old one; the watch must survive that.
    await writeFile(join(dir, 'sample.yaml.tmp'), 'level: info\ncount: 3\n');
    await rename(join(dir, 'sample.yaml.tmp'), file);
    await waitFor(() => watcher.current.count === 3, { what: 'the renamed-over file to apply' });
    assert.equal(watcher.generation, 2);
  });
});

test('a rejected onChange keeps the previous value, and a removed file is a rejected edit', async (t) => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'sample.yaml');
    await writeFile(file, 'level: info\ncount: 1\n');
    const rejected: Error[] = [];
    const watcher = await watchConfig(kind, file, {
      debounceMs: 20,
      onChange: (next) => {
        if (next.count === 13) throw new Error('13 is refused by the consumer');
      },
      onRejected: (err) => void rejected.push(err),
    });
    t.after(() => watcher.close());

    await writeFile(file, 'level: info\ncount: 13\n');
    await waitFor(() => rejected.length === 1, { what: 'the consumer to refuse' });
    assert.equal(rejected[0]?.message, '13 is refused by the consumer');
    assert.equal(watcher.current.count, 1);

    await rm(file);
    await waitFor(() => rejected.length === 2, { what: 'the removal to be rejected' });
    assert.match(rejected[1]?.message ?? '', /file was removed/);
    assert.equal(watcher.current.count, 1);
  });
});

test('an invalid file at start is a ConfigError, not a watcher', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'sample.yaml');
    await writeFile(file, 'level: info\n');
    await assert.rejects(watchConfig(kind, file), (err: ConfigError) => err.issues[0]?.field === 'count');
  });
});
