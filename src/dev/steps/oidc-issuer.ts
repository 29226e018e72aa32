// A Keycloak stand-in with one realm per organisation (its own issuer URL and signing keys), served
// over HTTPS with the dev CA. The gateway validates the dev users' tokens against it exactly as it
// would against Keycloak; `kcp-edge dev token` asks it for fresh ones.
import { issueLoopbackServer } from '../../sim/index.ts';
import { startOidcIssuer } from '../../sim/oidc-issuer.ts';
import type { DevStep } from '../stack.ts';
import { devUsers } from './users.ts';

/** Dev tokens outlive a working day, so the kubeconfig written at start keeps working. */
export const devTokenLifetimeSeconds = 12 * 60 * 60;

export const oidcIssuer: DevStep = {
  name: 'oidc-issuer',
  async run(stack) {
    const ca = stack.need(stack.ca, 'the dev CA');
    const issuer = await startOidcIssuer({
      tls: await issueLoopbackServer(ca, 'kcp-edge-dev-oidc'),
      realms: [...new Set(devUsers.map((u) => u.org))],
      tokenLifetimeSeconds: devTokenLifetimeSeconds,
    });
    stack.onStop('oidc issuer', () => issuer.close());
    stack.oidcIssuer = issuer;
  },
};
