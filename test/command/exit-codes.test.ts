// Exit statuses every command shares, checked on the CLI as a process: a bad flag is 2 with a message
// saying what the flag takes, a file that is missing or invalid is 1; nothing is started.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

const usage = 2;
const config = 1;

const cases: [string[], number, RegExp][] = [
  [['sim', '--dir', 'unused', '--port', 'abc'], usage, /^kcp-edge sim: --port: "abc" is not a port: a whole number from 0 to 65535/],
  [['sim', '--dir', 'unused', '--port', '0x10'], usage, /^kcp-edge sim: --port: "0x10" is not a port/],
  [['dev', '--port', '1e3'], usage, /^kcp-edge dev: --port: "1e3" is not a port/],
  [['sync', '--listen', '808O'], usage, /^kcp-edge sync: --listen: "808O" is not a listen address/],
  [
    ['index', '--log-level', 'loud', '--redis', 'redis://127.0.0.1:1'],
    usage,
    /^kcp-edge index: --log-level must be one of fatal, error, warn, info, debug, trace, silent, not "loud"/,
  ],
  [['index', '--redis', 'redis://127.0.0.1:1', '--kubeconfig', 'no-such.kubeconfig'], config, /^kcp-edge index: .*no-such\.kubeconfig/],
  [['serve', '--config', 'no-such-gateway.yaml'], config, /^kcp-edge serve: .*no-such-gateway\.yaml/],
  [['sync', '--config', 'no-such-sync.yaml'], config, /^kcp-edge sync: .*no-such-sync\.yaml/],
];

for (const [args, code, message] of cases) {
  test(`kcp-edge ${args.join(' ')}: exit ${code}`, async () => {
    await assert.rejects(run(process.execPath, ['src/cli.ts', ...args]), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, code, err.stderr);
      assert.match(err.stderr, message);
      return true;
    });
  });
}
