// Stage: who is asking. Authenticators are tried in order (like kube-apiserver's union authenticator);
// the first identity wins. Privileged groups are dropped so no client can claim them at a shard.
import type { TLSSocket } from 'node:tls';
import { bearerToken, hasRepeatedAuthorization, verifiedClientCertificate } from '../../auth/credentials.ts';
import type { Authenticator, Credentials, Identity } from '../../auth/identity.ts';
import { GatewayError, isGatewayError } from '../../kube/gateway-error.ts';
import { orgOf } from '../../workspaces/request-path.ts';
import type { RequestContext } from '../context.ts';

/**
 * kcp's front-proxy drops these too: a shard grants them everything, and the initializer/terminator
 * groups are asserted only by kcp's own lifecycle virtual workspaces after their own checks.
 */
export const defaultDroppedGroups: readonly string[] = Object.freeze([
  'system:masters',
  'system:kcp:logical-cluster-admin',
  'system:kcp:external-logical-cluster-admin',
  'system:kcp:initializer:*',
  'system:kcp:terminator:*',
]);

/** A group matcher for names and `prefix*` patterns, the only wildcard kcp's --drop-groups knows. */
export function groupMatcher(patterns: readonly string[]): (group: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (group) => exact.has(group) || prefixes.some((prefix) => group.startsWith(prefix));
}

export function authenticate(authenticators: readonly Authenticator[], droppedGroups: readonly string[] = defaultDroppedGroups) {
  const dropped = groupMatcher(droppedGroups);
  // Authenticators hand back the same Identity for the same credentials; so does this filter, which
  // lets the forwarder cache the identity's header block.
  const filtered = new WeakMap<Identity, Identity>();
  function withoutDroppedGroups(identity: Identity): Identity {
    let safe = filtered.get(identity);
    if (safe === undefined) {
      safe = identity.groups.some(dropped) ? { ...identity, groups: identity.groups.filter((g) => !dropped(g)) } : identity;
      filtered.set(identity, safe);
    }
    return safe;
  }

  return function authenticateRequest(ctx: RequestContext): void | Promise<void> {
    if (hasRepeatedAuthorization(ctx.req.rawHeaders)) {
      throw new GatewayError('UNAUTHORIZED', 'Unauthorized', { internalReason: 'more than one Authorization header' });
    }
    const credentials = credentialsOf(ctx);
    // The steady state, at once: authenticators that hold the answer in memory give it without a
    // promise (null: not theirs to judge, the next one is asked); the first that cannot say goes
    // the way that may wait, in the same order.
    for (let i = 0; i < authenticators.length; i++) {
      const known = authenticators[i]!.verified?.(credentials);
      if (known === undefined) return authenticateFrom(ctx, credentials, i);
      if (known !== null) {
        ctx.identity = withoutDroppedGroups(known);
        return;
      }
    }
    return authenticateFrom(ctx, credentials, authenticators.length);
  };

  async function authenticateFrom(ctx: RequestContext, credentials: Credentials, start: number): Promise<void> {
    let failure: unknown;
    for (let i = start; i < authenticators.length; i++) {
      const authenticator = authenticators[i]!;
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
    // Nobody vouched for the caller. When one authenticator could not decide because something it
    // depends on is out (a shard to look a service account up on), that outage is the answer.
    if (isGatewayError(failure) && failure.code !== 'UNAUTHORIZED') throw failure;
    throw new GatewayError('UNAUTHORIZED', 'Unauthorized', {
      // An authenticator's GatewayError says "Unauthorized" to the client and why in internalReason.
      internalReason: isGatewayError(failure)
        ? (failure.internalReason ?? failure.message)
        : failure instanceof Error
          ? failure.message
          : 'no authenticator accepted the credentials',
    });
  }
}

const apiExportHead = '/services/apiexport/';

function credentialsOf(ctx: RequestContext): Credentials {
  const req = ctx.req;
  // HTTP/2: the connection is the session (req.socket is a per-stream proxy).
  const connection: object = 'stream' in req ? (req.stream.session ?? req.socket) : req.socket;
  const workspace = ctx.target?.route.path ?? ctx.parsed?.refs[ctx.parsed.routeBy]?.key;
  // In an APIExport's virtual workspace the export's owner is who acts (a provider's sync agent), so
  // the owner's cluster is the one a cluster-bound credential must belong to.
  const own = ctx.parsed?.head === apiExportHead ? ctx.resolutions[0] : ctx.target;
  return {
    token: bearerToken(req.headers),
    clientCertificate: verifiedClientCertificate(connection, req.socket as TLSSocket),
    org: workspace === undefined ? undefined : orgOf(workspace),
    workspace,
    cluster: own?.route.cluster,
  };
}
