// Stage: who is asking. Authenticators are tried in order (like kube-apiserver's union authenticator);
// the first identity wins. Privileged groups are dropped so no client can claim them at a shard.
import type { TLSSocket } from 'node:tls';
import { bearerToken, hasRepeatedAuthorization, verifiedClientCertificate } from '../../auth/credentials.ts';
import type { Authenticator, Credentials, Identity } from '../../auth/identity.ts';
import { GatewayError, isGatewayError } from '../../kube/gateway-error.ts';
import { orgOf } from '../../workspaces/request-path.ts';
import type { RequestContext } from '../context.ts';

/** kcp's front-proxy drops these too: a shard grants them everything. */
export const defaultDroppedGroups: readonly string[] = Object.freeze([
  'system:masters',
  'system:kcp:logical-cluster-admin',
  'system:kcp:external-logical-cluster-admin',
]);

export function authenticate(authenticators: readonly Authenticator[], droppedGroups: readonly string[] = defaultDroppedGroups) {
  const dropped = new Set(droppedGroups);
  // Authenticators hand back the same Identity for the same credentials; so does this filter, which
  // lets the forwarder cache the identity's header block.
  const filtered = new WeakMap<Identity, Identity>();
  function withoutDroppedGroups(identity: Identity): Identity {
    let safe = filtered.get(identity);
    if (safe === undefined) {
      safe = identity.groups.some((g) => dropped.has(g)) ? { ...identity, groups: identity.groups.filter((g) => !dropped.has(g)) } : identity;
      filtered.set(identity, safe);
    }
    return safe;
  }

  return async function authenticateRequest(ctx: RequestContext): Promise<void> {
    if (hasRepeatedAuthorization(ctx.req.rawHeaders)) {
      throw new GatewayError('UNAUTHORIZED', 'Unauthorized', { internalReason: 'more than one Authorization header' });
    }
    const credentials = credentialsOf(ctx);
    let failure: unknown;
    for (const authenticator of authenticators) {
      try {
        const identity = await authenticator.authenticate(credentials);
        if (identity !== undefined) {
          ctx.identity = withoutDroppedGroups(identity);
          return;
        }
      } catch (err) {
        failure ??= err;
      }
    }
    throw new GatewayError('UNAUTHORIZED', 'Unauthorized', {
      // An authenticator's GatewayError says "Unauthorized" to the client and why in internalReason.
      internalReason: isGatewayError(failure)
        ? (failure.internalReason ?? failure.message)
        : failure instanceof Error
          ? failure.message
          : 'no authenticator accepted the credentials',
    });
  };
}

function credentialsOf(ctx: RequestContext): Credentials {
  const req = ctx.req;
  // HTTP/2: the connection is the session (req.socket is a per-stream proxy).
  const connection: object = 'stream' in req ? (req.stream.session ?? req.socket) : req.socket;
  const workspace = ctx.target?.route.path ?? ctx.parsed?.refs[ctx.parsed.routeBy]?.key;
  return {
    token: bearerToken(req.headers),
    clientCertificate: verifiedClientCertificate(connection, req.socket as TLSSocket),
    org: workspace === undefined ? undefined : orgOf(workspace),
    workspace,
  };
}
