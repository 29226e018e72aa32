import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('an unknown command fails with usage on stderr', async () => {
  await assert.rejects(run(process.execPath, ['src/cli.ts', 'no-such-command']), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 2);
    assert.match(err.stderr, /unknown command "no-such-command"/);
    assert.match(err.stderr, /usage: kcp-edge <command>/);
    return true;
  });
});
