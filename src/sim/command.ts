// `kcp-edge sim --dir D [--port N] [--name shard-a] [--authorization RBAC] [--external-url URL]`: one stand-in shard, with D/kubeconfig (admin, root
// cluster) and D/ca.crt written once it serves. Runs until SIGINT/SIGTERM.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exitCode } from '../command/lifecycle.ts';
import { parsePort } from '../command/listen-address.ts';
import type { Command } from '../command/types.ts';
import { startShard } from './index.ts';

export const command: Command = {
  summary: 'run one stand-in KCP shard in memory (writes <dir>/kubeconfig and <dir>/ca.crt)',
  options: {
    dir: { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    name: { type: 'string', default: 'shard-a' },
    mode: { type: 'string', default: 'kcp' },
    verbose: { type: 'boolean', default: false },
    authorization: { type: 'string', default: 'AlwaysAllow' },
    'external-url': { type: 'string' },
  },
  async run(values) {
    const dir = values['dir'];
    if (typeof dir !== 'string' || dir === '') {
      process.stderr.write('kcp-edge sim: --dir is required\n');
      return 2;
    }
    const mode = values['mode'];
    if (mode !== 'kcp' && mode !== 'kubernetes') {
      process.stderr.write('kcp-edge sim: --mode must be kcp or kubernetes\n');
      return 2;
    }
    const authorization = values['authorization'];
    if (authorization !== 'RBAC' && authorization !== 'AlwaysAllow') {
      process.stderr.write('kcp-edge sim: --authorization must be RBAC or AlwaysAllow\n');
      return 2;
    }
    const externalURL = values['external-url'];
    let port: number;
    try {
      port = parsePort(String(values['port']));
    } catch (err) {
      process.stderr.write(`kcp-edge sim: --port: ${(err as Error).message}\n`);
      return exitCode.usage;
    }
    const log = values['verbose'] === true ? (line: string) => process.stdout.write(`${line}\n`) : undefined;
    const shard = await startShard({
      name: String(values['name']),
      mode,
      host: String(values['host']),
      port,
      authorization,
      ...(typeof externalURL === 'string' && externalURL !== '' ? { externalURL } : {}),
      ...(log !== undefined ? { log } : {}),
    });
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'ca.crt'), shard.caPem);
    await writeFile(join(dir, 'kubeconfig'), await shard.kubeconfig(), { mode: 0o600 });
    process.stdout.write(`shard ${shard.name} serving at ${shard.url}${mode === 'kcp' ? ' (root cluster: /clusters/root)' : ''}\n`);
    process.stdout.write(`export KUBECONFIG=${join(dir, 'kubeconfig')}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await shard.close();
    return 0;
  },
};
