// caddy's reverse_proxy with TLS on both hops. max_conns_per_host equals the client's connection count
// and the pool is pre-filled by the bench: Debian's caddy (Go 1.19) otherwise abandons half-finished
// upstream handshakes under load and pays a handshake for nearly every request.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { versionOf } from '../lib/install.ts';
import { freePort, LOOPBACK, waitForPort } from '../lib/net.ts';
import { LIST_PATH } from '../upstream/body.ts';
import type { BenchEnv, Target } from './types.ts';

function config(env: BenchEnv, dir: string, port: number, trustCaFile: string): object {
  return {
    admin: { disabled: true },
    logging: { logs: { default: { level: 'ERROR' } } },
    storage: { module: 'file_system', root: join(dir, 'storage') },
    apps: {
      tls: { certificates: { load_files: [{ certificate: env.serverCertFile, key: env.serverKeyFile, tags: ['bench'] }] } },
      http: {
        servers: {
          bench: {
            listen: [`${LOOPBACK}:${port}`],
            protocols: ['h1', 'h2'],
            automatic_https: { disable: true },
            tls_connection_policies: [{ certificate_selection: { any_tag: ['bench'] }, protocol_min: 'tls1.3' }],
            routes: [
              {
                handle: [
                  {
                    handler: 'reverse_proxy',
                    upstreams: [{ dial: `${LOOPBACK}:${env.upstreamPort}` }],
                    transport: {
                      protocol: 'http',
                      versions: ['1.1'],
                      max_conns_per_host: env.connections,
                      keep_alive: { enabled: true, max_idle_conns: env.connections * 2, max_idle_conns_per_host: env.connections, idle_timeout: '120s' },
                      tls: {
                        root_ca_pem_files: [trustCaFile],
                        server_name: 'localhost',
                        client_certificate_file: env.clientCertFile,
                        client_certificate_key_file: env.clientKeyFile,
                      },
                    },
                  },
                ],
              },
            ],
          },
        },
      },
    },
  };
}

export const caddy: Target = {
  name: 'caddy',
  describe: async () => `caddy ${(await versionOf('caddy', ['version'])).split(' ')[0]} reverse_proxy`,
  async start(env, trustCaFile) {
    const port = await freePort();
    const dir = join(env.dir, `caddy-${port}`);
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'caddy.json');
    await writeFile(file, JSON.stringify(config(env, dir, port, trustCaFile), null, 2));
    const processEnv = { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
    const managed = env.processes.spawn(`caddy-${port}`, 'caddy', ['run', '--config', file], { env: processEnv });
    await waitForPort(port, { what: 'caddy', alive: () => managed.child.exitCode === null }).catch((err: Error) => {
      throw new Error(`${err.message}\n${managed.tail()}`);
    });
    return { port, path: LIST_PATH, headers: {}, pgids: [managed.pgid], stop: () => managed.stop() };
  },
};
