// The pod's tar against GNU tar: what one writes, the other reads, long names included.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { createTar, extractTar } from '../../../src/sim/pods/tar.ts';
import { withTempDir } from '../../helpers/wait.ts';

const run = promisify(execFile);
const skip = spawnSync('tar', ['--version']).status === 0 ? false : 'no tar on PATH to compare with';
const longName = `deep/${'a-rather-long-directory-name/'.repeat(5)}file.txt`;

test('archives written here are read by GNU tar', { skip }, async () => {
  await withTempDir(async (dir) => {
    const mtime = new Date('2026-01-02T03:04:05Z');
    const archive = createTar([
      { name: 'tmp/dir', type: 'dir', mode: 0o755, mtime, data: Buffer.alloc(0) },
      { name: 'tmp/dir/small.txt', type: 'file', mode: 0o640, mtime, data: Buffer.from('small\n') },
      { name: `tmp/${longName}`, type: 'file', mode: 0o644, mtime, data: Buffer.alloc(1500, 'x') },
    ]);
    await writeFile(join(dir, 'a.tar'), archive);
    await mkdir(join(dir, 'out'));
    await run('tar', ['xf', join(dir, 'a.tar'), '-C', join(dir, 'out')]);
    assert.equal(await readFile(join(dir, 'out/tmp/dir/small.txt'), 'utf8'), 'small\n');
    assert.equal((await readFile(join(dir, 'out/tmp', longName))).length, 1500);
    const { stdout } = await run('tar', ['tvf', join(dir, 'a.tar')]);
    assert.match(stdout, /-rw-r----- root\/root\s+6 2026-01-02 \d\d:04 tmp\/dir\/small\.txt/);
  });
});

test('archives written by GNU tar (long names, pax headers) are read here', { skip }, async () => {
  await withTempDir(async (dir) => {
    await mkdir(join(dir, 'src', longName, '..'), { recursive: true });
    await writeFile(join(dir, 'src', longName), 'deep content\n');
    await writeFile(join(dir, 'src', 'top.bin'), Buffer.from([0, 1, 2, 255]));
    for (const format of ['gnu', 'pax']) {
      const { stdout } = await run('tar', [`--format=${format}`, '-cf', '-', '-C', join(dir, 'src'), '.'], { encoding: 'buffer' });
      const entries = extractTar(stdout);
      const byName = new Map(entries.map((e) => [e.name.replace(/^\.\//, ''), e]));
      assert.equal(byName.get(longName)?.data.toString(), 'deep content\n', format);
      assert.deepEqual([...(byName.get('top.bin')?.data ?? [])], [0, 1, 2, 255], format);
      assert.equal(byName.get('deep/')?.type, 'dir', format);
    }
  });
});
