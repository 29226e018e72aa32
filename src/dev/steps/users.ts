// One user per organisation with a static bearer token (kube-apiserver's token-file format), until
// org-realm issuers replace them with real OIDC tokens.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { DevStep } from '../stack.ts';

export const devUsers: readonly { name: string; org: string }[] = [
  { name: 'alice', org: 'org-acme' },
  { name: 'bob', org: 'org-globex' },
];

export const users: DevStep = {
  name: 'users',
  async run(stack) {
    for (const { name, org } of devUsers) {
      stack.users.push({ name, org, token: randomBytes(24).toString('base64url'), groups: [`${org}:members`] });
    }
    const csv = stack.users.map((u) => `${u.token},${u.name},${u.name},"${u.groups.join(',')}"`).join('\n');
    await writeFile(stack.files.tokens, `${csv}\n`, { mode: 0o600 });
    stack.gatewayConfig['authentication'] = { tokenFile: stack.files.tokens };
  },
};
