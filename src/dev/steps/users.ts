// One user per organisation, with a real OIDC token signed by the org's realm on the stand-in
// issuer, and the gateway told to trust those realms (org-realm authentication, as in production).
import { join } from 'node:path';
import type { DevStep } from '../stack.ts';

export const devUsers: readonly { name: string; org: string }[] = [
  { name: 'alice', org: 'org-acme' },
  { name: 'bob', org: 'org-globex' },
];

/** The groups claim of every dev token; the gateway prefixes it with the org (org-acme:members). */
export const devGroup = 'members';

export const users: DevStep = {
  name: 'users',
  async run(stack) {
    const issuer = stack.need(stack.oidcIssuer, 'the OIDC issuer');
    for (const { name, org } of devUsers) {
      const token = await issuer.mint(org, { user: name, groups: [devGroup] });
      stack.users.push({ name, org, token, groups: [`${org}:${devGroup}`] });
    }
    stack.gatewayConfig['authentication'] = {
      orgRealms: { issuerTemplate: `${issuer.url}/realms/{org}`, caFile: join(stack.files.certs, 'ca.crt') },
    };
  },
};
