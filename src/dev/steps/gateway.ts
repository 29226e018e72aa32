// The gateway in front of the shards, started exactly as `kcp-edge serve` starts it: from a
// gateway.yaml written here (and left in the dev directory, so it doubles as a working example).
import { randomBytes } from 'node:crypto';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { gatewayConfigKind } from '../../serve/gateway-config.ts';
import { loadConfig } from '../../config/index.ts';
import { runGateway } from '../../serve/run-gateway.ts';
import { issueLoopbackServer } from '../../sim/index.ts';
import type { DevStep } from '../stack.ts';
import { gatewayClientName } from './shards.ts';

export const gateway: DevStep = {
  name: 'gateway',
  async run(stack) {
    const ca = stack.need(stack.ca, 'the dev CA');
    const frontProxyCA = stack.need(stack.frontProxyCA, 'the front-proxy CA');
    const [serving, client] = await Promise.all([issueLoopbackServer(ca, 'kcp-edge-gateway'), frontProxyCA.issue({ commonName: gatewayClientName, usage: 'client' })]);
    const certs = stack.files.certs;
    await Promise.all([
      writeFile(join(certs, 'gateway.crt'), serving.certPem),
      writeFile(join(certs, 'gateway.key'), serving.keyPem, { mode: 0o600 }),
      writeFile(join(certs, 'gateway-client.crt'), client.certPem),
      writeFile(join(certs, 'gateway-client.key'), client.keyPem, { mode: 0o600 }),
      // The admin listener's one token (group system:monitoring): for curl, a browser extension, Prometheus.
      // The policy kcp-edge ships, copied beside the config so the directory stands alone.
      copyFile(new URL('../../../config/audit-policy.yaml', import.meta.url), stack.files.auditPolicy),
      writeFile(stack.files.adminTokens, `${randomBytes(24).toString('base64url')},dev-admin,dev-admin,"system:monitoring"\n`, { mode: 0o600 }),
    ]);
    const doc = {
      listen: { address: '127.0.0.1', port: stack.gatewayPort ?? stack.options.port },
      tls: { certFile: join(certs, 'gateway.crt'), keyFile: join(certs, 'gateway.key') },
      upstream: { clientCertFile: join(certs, 'gateway-client.crt'), clientKeyFile: join(certs, 'gateway-client.key'), caFile: join(certs, 'ca.crt') },
      drain: { timeoutSeconds: 5 },
      admin: { listen: { address: '127.0.0.1', port: 0 }, tokenFile: stack.files.adminTokens },
      audit: { policyFile: stack.files.auditPolicy, log: { path: stack.files.auditLog, maxSizeMB: 50, maxBackups: 2 } },
      log: { level: 'info' },
      ...stack.gatewayConfig,
    };
    await writeFile(stack.files.gatewayConfig, `# Written by \`kcp-edge dev\`; \`kcp-edge serve --config ${stack.files.gatewayConfig}\` runs the same gateway.\n${stringify(doc)}`);
    const config = await loadConfig(gatewayConfigKind, stack.files.gatewayConfig);
    const logger = pino({ name: 'kcp-edge', level: config.logLevel }, pino.destination({ dest: stack.files.log, sync: true }));
    const running = await runGateway(stack.files.gatewayConfig, config, logger);
    stack.gateway = running;
    stack.onStop('gateway', () => running.close());
  },
};
