// Two CAs, as kcp deployments have: one for serving certificates and admin clients, and a separate
// front-proxy CA whose only client is the gateway, so only the gateway may assert X-Remote-* identity.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCertificateAuthority } from '../../sim/index.ts';
import type { DevStep } from '../stack.ts';

export const certificates: DevStep = {
  name: 'certificates',
  async run(stack) {
    [stack.ca, stack.frontProxyCA] = await Promise.all([createCertificateAuthority('kcp-edge-dev-ca'), createCertificateAuthority('kcp-edge-dev-front-proxy-ca')]);
    await mkdir(stack.files.certs, { recursive: true });
    await writeFile(join(stack.files.certs, 'ca.crt'), stack.ca.certPem);
  },
};
