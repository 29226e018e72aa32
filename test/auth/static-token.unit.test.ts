import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseTokenCsv, StaticTokenAuthenticator } from '../../src/auth/static-token.ts';
import { withTempDir } from '../helpers/wait.ts';

const none = { clientCertificate: undefined, org: undefined, workspace: undefined };

test('parses kube-apiserver token files: quoted groups, optional groups, CRLF, BOM', () => {
  const tokens = parseTokenCsv('\uFEFFt1,alice,1001,"dev,ops"\r\nt2,bob,1002\n\n"t,3",carol,1003,"a ""quoted"" group"\n', 'tokens.csv');
  assert.deepEqual(tokens.get('t1'), { user: 'alice', groups: ['dev', 'ops'], extra: {} });
  assert.deepEqual(tokens.get('t2'), { user: 'bob', groups: [], extra: {} });
  assert.deepEqual(tokens.get('t,3'), { user: 'carol', groups: ['a "quoted" group'], extra: {} });
  assert.throws(() => parseTokenCsv('t1,alice\n', 'tokens.csv'), /tokens\.csv:1: expected token,user,uid/);
  assert.throws(() => parseTokenCsv('ok,a,1\n"t1,alice,1\n', 'tokens.csv'), /tokens\.csv:2: unterminated/);
  assert.throws(() => parseTokenCsv(',alice,1\n', 'f'), /f:1: token and user must not be empty/);
});

test('authenticates known tokens, passes on unknown ones (another authenticator may know them)', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'tokens.csv');
    await writeFile(file, 'secret,alice,1,"dev"\n');
    const auth = await StaticTokenAuthenticator.fromFile(file);
    const identity = await auth.authenticate({ ...none, token: 'secret' });
    assert.equal(identity?.user, 'alice');
    assert.equal(await auth.authenticate({ ...none, token: 'secret' }), identity, 'the same Identity object every time');
    assert.equal(await auth.authenticate({ ...none, token: 'other' }), undefined);
    assert.equal(await auth.authenticate({ ...none, token: undefined }), undefined);
  });
});
