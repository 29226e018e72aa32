import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Authenticator, Credentials, Identity } from '../../../src/auth/identity.ts';
import { authenticate } from '../../../src/gateway/stages/authenticate.ts';
import { parseWorkspacePath } from '../../../src/gateway/stages/parse-workspace-path.ts';
import { GatewayError, isGatewayError } from '../../../src/kube/gateway-error.ts';
import { fakeContext } from '../fake-context.ts';

const alice: Identity = { user: 'alice', groups: ['dev', 'system:masters'], extra: {} };

/** Accepts one bearer token; says "not mine" to anything else. */
function tokenAuthenticator(token: string, identity: Identity, seen: Credentials[] = []): Authenticator {
  return {
    authenticate: async (credentials) => {
      seen.push(credentials);
      return credentials.token === token ? identity : undefined;
    },
  };
}

const refusing: Authenticator = {
  authenticate: async () => {
    throw new GatewayError('UNAUTHORIZED', 'Unauthorized', { internalReason: 'token expired' });
  },
};

function request(token?: string) {
  const { ctx } = fakeContext({ url: '/clusters/root:org-acme:proj/api', headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
  parseWorkspacePath(ctx);
  return ctx;
}

test('the first authenticator that knows the credentials sets the identity, without the privileged groups', async () => {
  const seen: Credentials[] = [];
  const ctx = request('t-alice');
  await authenticate([tokenAuthenticator('other', alice), tokenAuthenticator('t-alice', alice, seen)])(ctx);
  assert.deepEqual(ctx.identity, { user: 'alice', groups: ['dev'], extra: {} });
  assert.equal(seen[0]?.token, 't-alice');
  assert.equal(seen[0]?.org, 'org-acme', 'the org comes from the path until the workspace is resolved');
  assert.equal(seen[0]?.workspace, 'root:org-acme:proj');
});

test('the same identity in gives the same filtered identity out (the forwarder caches by it)', async () => {
  const stage = authenticate([tokenAuthenticator('t', alice)]);
  const first = request('t');
  const second = request('t');
  await stage(first);
  await stage(second);
  assert.equal(first.identity, second.identity);
});

test('the dropped groups are configurable', async () => {
  const ctx = request('t');
  await authenticate([tokenAuthenticator('t', alice)], ['dev'])(ctx);
  assert.deepEqual(ctx.identity?.groups, ['system:masters']);
});

test('no authenticator accepting is 401, with the first failure as the internal reason', async () => {
  const stage = authenticate([tokenAuthenticator('t', alice), refusing]);
  await assert.rejects(stage(request('wrong')), (err) => isGatewayError(err) && err.httpStatus === 401 && err.internalReason === 'token expired');
  await assert.rejects(
    authenticate([tokenAuthenticator('t', alice)])(request()),
    (err) => isGatewayError(err) && err.internalReason === 'no authenticator accepted the credentials',
  );
});
