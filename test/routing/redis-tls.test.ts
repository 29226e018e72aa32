// rediss:// against a real redis-server serving TLS only (Debian's redis-server 7 is built with TLS),
// with certificates from the project's PKI: a private CA trusted through caFile, refusals of a
// server the CA did not sign, a server name other than the address, mutual TLS, and Sentinel over TLS.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { applyRedisAuth, type RedisAuthSettings } from '../../src/routing/redis-auth-settings.ts';
import { classifyRedisError, parseRedisUrl } from '../../src/routing/redis-connection.ts';
import { whyFailed } from '../../src/routing/cli/common.ts';
import { RedisRouteStore } from '../../src/routing/redis-route-store.ts';
import { createCertificateAuthority, issueLoopbackServer } from '../../src/sim/pki.ts';
import { startRedis, startSentinel, type RedisServer } from '../helpers/redis.ts';
import { makeTempDir } from '../helpers/wait.ts';

const run = promisify(execFile);
const PASSWORD = 'tls-pw-Jd6yQe1s';

let files: Awaited<ReturnType<typeof makeTempDir>>;
const servers: Record<'private' | 'named' | 'mutual' | 'sentinel', RedisServer> = {} as never;
const file = (name: string) => join(files.dir, name);

before(async () => {
  files = await makeTempDir();
  const [ca, other] = await Promise.all([createCertificateAuthority('kcp-edge test Redis CA'), createCertificateAuthority('someone else')]);
  const [loopback, named, client] = await Promise.all([
    issueLoopbackServer(ca, 'redis'),
    ca.issue({ commonName: 'redis.internal', usage: 'server', dnsNames: ['redis.internal'] }),
    ca.issue({ commonName: 'kcp-edge', usage: 'client' }),
  ]);
  for (const [name, text] of Object.entries({
    'ca.crt': ca.certPem,
    'other-ca.crt': other.certPem,
    'client.crt': client.certPem,
    'client.key': client.keyPem,
    password: `${PASSWORD}\n`,
  })) {
    await writeFile(file(name), text);
  }
  [servers.private, servers.named, servers.mutual] = await Promise.all([
    startRedis({ tls: loopback, args: ['--requirepass', PASSWORD] }),
    startRedis({ tls: named }),
    startRedis({ tls: { ...loopback, clientCAPem: ca.certPem } }),
  ]);
  servers.sentinel = await startSentinel({ master: servers.private, masterPassword: PASSWORD, tls: { ...loopback, caPem: ca.certPem } });
});
after(async () => {
  for (const server of [servers.sentinel, servers.private, servers.named, servers.mutual]) await server[Symbol.asyncDispose]();
  await files[Symbol.asyncDispose]();
});

/** One round trip through a store on this connection: the shard list, or the error. */
async function roundTrip(url: string, settings: RedisAuthSettings): Promise<string> {
  const { connection, problems } = applyRedisAuth(parseRedisUrl(url), settings);
  assert.deepEqual(problems, []);
  const store = RedisRouteStore.connect(connection, { noRetry: true });
  try {
    await store.listShards();
    return 'ok';
  } catch (err) {
    return (whyFailed(err, store) as Error).message;
  } finally {
    await store.close();
  }
}

test('rediss:// with the private CA from caFile and the password from a file', async () => {
  assert.equal(await roundTrip(servers.private.url, { tls: { caFile: file('ca.crt') }, passwordFile: file('password') }), 'ok');
});

test('a server the CA did not sign is refused, with the system CAs as with another private CA', async () => {
  for (const tls of [{ caFile: file('other-ca.crt') }, {}]) {
    const outcome = await roundTrip(servers.private.url, { tls, passwordFile: file('password') });
    assert.match(outcome, /unable to verify the first certificate/);
    assert.equal(classifyRedisError(outcome), 'tls', outcome);
  }
  try {
    await run(process.execPath, [
      'src/cli.ts',
      'shards',
      'list',
      '--redis',
      servers.private.url,
      '--redis-ca-file',
      file('other-ca.crt'),
      '--redis-password-file',
      file('password'),
    ]);
    assert.fail('the command succeeded');
  } catch (err) {
    const { code, stderr } = err as { code: number; stderr: string };
    assert.equal(code, 1);
    assert.match(stderr, /^kcp-edge shards: TLS connection to Redis failed \(--redis-ca-file, --redis-server-name\): .*certificate/);
  }
});

test('serverName: a certificate for a DNS name, reached by address', async () => {
  const refused = await roundTrip(servers.named.url, { tls: { caFile: file('ca.crt') } });
  assert.match(refused, /does not match certificate's altnames/);
  assert.equal(await roundTrip(servers.named.url, { tls: { caFile: file('ca.crt'), serverName: 'redis.internal' } }), 'ok');
  assert.match(await roundTrip(servers.named.url, { tls: { caFile: file('ca.crt'), serverName: 'other.internal' } }), /does not match certificate's altnames/);
});

test('mutual TLS: the client certificate from certFile and keyFile, refused without', async () => {
  assert.equal(await roundTrip(servers.mutual.url, { tls: { caFile: file('ca.crt'), certFile: file('client.crt'), keyFile: file('client.key') } }), 'ok');
  // TLS 1.3: the server's alert may arrive after the client has written its first command.
  assert.match(await roundTrip(servers.mutual.url, { tls: { caFile: file('ca.crt') } }), /certificate required|ECONNRESET/);
});

test('rediss+sentinel://: TLS to the sentinel and to the master it names, with the same CA', async () => {
  assert.match(servers.sentinel.url, /^rediss\+sentinel:/);
  assert.equal(await roundTrip(servers.sentinel.url, { tls: { caFile: file('ca.crt') }, passwordFile: file('password') }), 'ok');
  // ioredis does not pass on why its connection to the sentinel closed (here: the certificate).
  assert.match(await roundTrip(servers.sentinel.url, { tls: { caFile: file('other-ca.crt') }, passwordFile: file('password') }), /^All sentinels are unreachable/);
});
