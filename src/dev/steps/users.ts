// The dev users, each with a real OIDC token signed by its org's realm on the stand-in issuer, and the
// gateway told to trust those realms (org-realm authentication, as in production). Each org has an owner
// (admin of the org's workspaces); carol may only look at org-acme:proj-frontend, so tenant permissions
// can be tried at once.
import { join } from 'node:path';
import type { DevStep, DevUser } from '../stack.ts';

export const devUsers: readonly Omit<DevUser, 'token' | 'groups'>[] = [
  { name: 'alice', org: 'org-acme', access: { owner: true } },
  { name: 'bob', org: 'org-globex', access: { owner: true } },
  { name: 'carol', org: 'org-acme', access: { viewer: 'root:org-acme:proj-frontend' } },
];

/** The groups claim of every dev token; the gateway prefixes it with the org (org-acme:members). */
export const devGroup = 'members';

export const users: DevStep = {
  name: 'users',
  async run(stack) {
    const issuer = stack.need(stack.oidcIssuer, 'the OIDC issuer');
    for (const user of devUsers) {
      const token = await issuer.mint(user.org, { user: user.name, groups: [devGroup] });
      stack.users.push({ ...user, token, groups: [`${user.org}:${devGroup}`] });
    }
    stack.gatewayConfig['authentication'] = {
      orgRealms: { issuerTemplate: `${issuer.url}/realms/{org}`, caFile: join(stack.files.certs, 'ca.crt') },
    };
  },
};
