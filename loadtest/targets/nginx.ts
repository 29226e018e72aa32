// nginx as a TLS-terminating reverse proxy tuned the way an operator would for this job: two workers,
// a keep-alive upstream pool that is never recycled mid-run, and real verification of the upstream.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { versionOf } from '../lib/install.ts';
import { freePort, LOOPBACK, waitForPort } from '../lib/net.ts';
import { LIST_PATH } from '../upstream/body.ts';
import type { BenchEnv, Target } from './types.ts';

function config(env: BenchEnv, dir: string, port: number, trustCaFile: string): string {
  return `
worker_processes 2;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream shard {
    server ${LOOPBACK}:${env.upstreamPort};
    keepalive ${env.connections};
    keepalive_requests 10000000;
    keepalive_timeout 120s;
  }
  server {
    # HTTP/2 for clients that offer it in ALPN (h2load); wrk offers no ALPN and gets HTTP/1.1.
    listen ${LOOPBACK}:${port} ssl http2;
    ssl_certificate ${env.serverCertFile};
    ssl_certificate_key ${env.serverKeyFile};
    ssl_protocols TLSv1.3;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    location / {
      proxy_pass https://shard;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_ssl_protocols TLSv1.3;
      proxy_ssl_verify on;
      proxy_ssl_trusted_certificate ${trustCaFile};
      proxy_ssl_name localhost;
      proxy_ssl_server_name on;
      proxy_ssl_session_reuse on;
      proxy_ssl_certificate ${env.clientCertFile};
      proxy_ssl_certificate_key ${env.clientKeyFile};
    }
  }
}
`;
}

export const nginx: Target = {
  name: 'nginx',
  describe: async () => `${(await versionOf('nginx', ['-v'])).replace(/^nginx version: /, '')}, 2 workers, upstream keepalive`,
  async start(env, trustCaFile) {
    const port = await freePort();
    const dir = join(env.dir, `nginx-${port}`);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const file = join(dir, 'nginx.conf');
    await writeFile(file, config(env, dir, port, trustCaFile));
    const managed = env.processes.spawn(`nginx-${port}`, 'nginx', ['-p', dir, '-e', join(dir, 'error.log'), '-c', file]);
    await waitForPort(port, { what: 'nginx', alive: () => managed.child.exitCode === null }).catch((err: Error) => {
      throw new Error(`${err.message}\n${managed.tail()}`);
    });
    return { port, path: LIST_PATH, headers: {}, pgids: [managed.pgid], stop: () => managed.stop() };
  },
};
