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
  await assert.rejects(
    async () => stage(request('wrong')),
    (err) => isGatewayError(err) && err.httpStatus === 401 && err.internalReason === 'token expired',
  );
  await assert.rejects(
    async () => authenticate([tokenAuthenticator('t', alice)])(request()),
    (err) => isGatewayError(err) && err.internalReason === 'no authenticator accepted the credentials',
  );
});

/** Knows one token's identity in memory; any other token with a workspace is for authenticate() to judge. */
function cachingAuthenticator(token: string, identity: Identity, asked: string[]): Authenticator {
  return {
    verified: (credentials) => (credentials.token === undefined ? null : credentials.token === token ? identity : undefined),
    authenticate: async (credentials) => {
      asked.push(credentials.token ?? '');
      return credentials.token === 'late' ? identity : undefined;
    },
  };
}

test('an identity held in memory is taken at once: no promise, authenticate() never asked', () => {
  const asked: string[] = [];
  const ctx = request('t-alice');
  const result = authenticate([cachingAuthenticator('t-alice', alice, asked)])(ctx);
  assert.equal(result, undefined, 'answered synchronously');
  assert.deepEqual(ctx.identity, { user: 'alice', groups: ['dev'], extra: {} });
  assert.deepEqual(asked, []);
});

test('"not mine" (null) passes to the next authenticator; "cannot say" (undefined) asks authenticate(), in order', async () => {
  const asked: string[] = [];
  const other: Identity = { user: 'bob', groups: [], extra: {} };
  // No token: the caching authenticator says null, the client-certificate-like one after it decides.
  const anonymous = request();
  await authenticate([cachingAuthenticator('t-alice', alice, asked), tokenAuthenticator('x', other), { authenticate: async () => other }])(anonymous);
  assert.equal(anonymous.identity, other);
  // A token it has not verified yet: its own authenticate() is asked first, then the next ones.
  const late = request('late');
  const result = authenticate([cachingAuthenticator('t-alice', alice, asked), tokenAuthenticator('late', other)])(late);
  assert.ok(result instanceof Promise);
  await result;
  assert.deepEqual(asked, ['late']);
  assert.deepEqual(late.identity, { user: 'alice', groups: ['dev'], extra: {} }, 'the first authenticator still wins');
});
