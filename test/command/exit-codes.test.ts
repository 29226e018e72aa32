// Exit statuses every command shares, checked on the CLI as a process: a bad flag is 2 with a message
// saying what the flag takes; nothing is started.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

const cases: [string[], RegExp][] = [
  [['sim', '--dir', 'unused', '--port', 'abc'], /^kcp-edge sim: --port: "abc" is not a port: a whole number from 0 to 65535/],
  [['sim', '--dir', 'unused', '--port', '0x10'], /^kcp-edge sim: --port: "0x10" is not a port/],
  [['dev', '--port', '1e3'], /^kcp-edge dev: --port: "1e3" is not a port/],
  [['sync', '--listen', '808O'], /^kcp-edge sync: --listen: "808O" is not a listen address/],
  [['index', '--log-level', 'loud', '--redis', 'redis://127.0.0.1:1'], /^kcp-edge index: --log-level must be one of fatal, error, warn, info, debug, trace, silent, not "loud"/],
];

for (const [args, message] of cases) {
  test(`kcp-edge ${args.join(' ')}: usage error, exit 2`, async () => {
    await assert.rejects(run(process.execPath, ['src/cli.ts', ...args]), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 2, err.stderr);
      assert.match(err.stderr, message);
      return true;
    });
  });
}
