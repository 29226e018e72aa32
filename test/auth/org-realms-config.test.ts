import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { gatewayConfigKind } from '../../src/serve/gateway-config.ts';
import { isConfigError, loadConfig } from '../../src/config/index.ts';
import { createCertificateAuthority } from '../../src/sim/pki.ts';
import { withTempDir } from '../helpers/wait.ts';

async function gatewayFiles(dir: string): Promise<string> {
  const ca = await createCertificateAuthority('test-ca');
  const server = await ca.issue({ commonName: 'gateway', usage: 'server' });
  await mkdir(join(dir, 'certs'), { recursive: true });
  await writeFile(join(dir, 'certs/pair.crt'), server.certPem);
  await writeFile(join(dir, 'certs/pair.key'), server.keyPem);
  await writeFile(join(dir, 'certs/keycloak-ca.crt'), ca.certPem);
  return [
    'tls: { certFile: certs/pair.crt, keyFile: certs/pair.key }',
    'routing: { embedded: { file: routes.yaml } }',
    'upstream: { clientCertFile: certs/pair.crt, clientKeyFile: certs/pair.key }',
  ].join('\n');
}

test('authentication.orgRealms: defaults, seconds to settings, CA files read relative to the config', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'gateway.yaml');
    await writeFile(
      file,
      `${await gatewayFiles(dir)}
authentication:
  orgRealms:
    issuerTemplate: https://keycloak.example.com/realms/{org}
    caFile: certs/keycloak-ca.crt
    jwks: { minRefetchIntervalSeconds: 30 }
    orgs:
      org-acme:
        issuer: https://sso.acme.example/realms/acme
        audiences: [kcp-edge, kubernetes]
        claimMappings: { username: { claim: email, prefix: "" } }
        requiredClaims: { tier: gold }
`,
    );
    const config = await loadConfig(gatewayConfigKind, file);
    const realms = config.authentication.orgRealms!;
    assert.equal(realms.issuerTemplate, 'https://keycloak.example.com/realms/{org}');
    assert.match(realms.ca ?? '', /BEGIN CERTIFICATE/);
    assert.deepEqual(realms.audiences, ['kcp-edge']);
    assert.deepEqual(realms.algorithms, ['RS256', 'ES256', 'PS256']);
    assert.equal(realms.notBeforeLeewaySeconds, 60);
    assert.equal(realms.jwks.minRefetchIntervalMs, 30_000);
    assert.equal(realms.jwks.maxAgeMs, 600_000);
    assert.deepEqual(realms.claimMappings.username, { claim: 'preferred_username', prefix: '{org}:' });
    assert.deepEqual(realms.orgs['org-acme'], {
      issuer: 'https://sso.acme.example/realms/acme',
      audiences: ['kcp-edge', 'kubernetes'],
      claimMappings: { username: { claim: 'email', prefix: '' } },
      requiredClaims: { tier: 'gold' },
    });
  });
});

test('authentication.orgRealms: every problem is reported with its field', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'gateway.yaml');
    await writeFile(
      file,
      `${await gatewayFiles(dir)}
authentication:
  orgRealms:
    issuerTemplate: https://keycloak.example.com/realms/fixed
    algorithms: [RS256, HS256]
    orgs:
      Org_Acme: {}
      org-globex: { issuer: "http://plain.example/realms/globex", caFile: certs/missing.crt }
`,
    );
    await assert.rejects(loadConfig(gatewayConfigKind, file), (err: unknown) => {
      assert.ok(isConfigError(err));
      const text = err.message;
      assert.match(text, /authentication\.orgRealms\.issuerTemplate: must be an https:\/\/ URL containing \{org\}/);
      assert.match(text, /authentication\.orgRealms\.algorithms\[1\]/);
      assert.match(text, /org names are DNS-1123 labels/);
      assert.match(text, /authentication\.orgRealms\.orgs\.org-globex\.issuer: must be an https:\/\/ URL/);
      return true;
    });
  });
});
