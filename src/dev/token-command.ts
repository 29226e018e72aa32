// `kcp-edge dev token --dir D --org org-acme --user alice`: a fresh token of a dev user, from the running
// stack's OIDC issuer (the password grant, as Keycloak offers it), printed as the last line so scripts
// can take it with `tail -n1`. Where the issuer is and which CA it uses come from D/gateway.yaml.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { parse } from 'yaml';
import type { Command, OptionValues } from '../command/types.ts';
import { devGroup } from './steps/users.ts';

interface RealmsInConfig {
  issuerTemplate: string;
  caFile: string | undefined;
}

async function realmsOf(dir: string): Promise<RealmsInConfig> {
  const file = join(dir, 'gateway.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`${file} does not exist: is \`kcp-edge dev --dir ${dir}\` running?`);
  }
  const doc = parse(text) as { authentication?: { orgRealms?: { issuerTemplate?: unknown; caFile?: unknown } } } | null;
  const realms = doc?.authentication?.orgRealms;
  if (typeof realms?.issuerTemplate !== 'string') throw new Error(`${file} configures no org realms (authentication.orgRealms)`);
  return { issuerTemplate: realms.issuerTemplate, caFile: typeof realms.caFile === 'string' ? resolve(dir, realms.caFile) : undefined };
}

async function token(values: OptionValues): Promise<number> {
  const dir = resolve(String(values['dir']));
  const org = String(values['org']);
  const user = String(values['user']);
  const groups = Array.isArray(values['group']) ? values['group'].map(String) : [devGroup];
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(org)) {
    process.stderr.write(`kcp-edge dev token: --org "${org}" is not an org name\n`);
    return 2;
  }
  let realms: RealmsInConfig;
  try {
    realms = await realmsOf(dir);
  } catch (err) {
    process.stderr.write(`kcp-edge dev token: ${(err as Error).message}\n`);
    return 1;
  }
  const endpoint = `${realms.issuerTemplate.replaceAll('{org}', org)}/protocol/openid-connect/token`;
  const agent = new Agent({ connect: realms.caFile === undefined ? {} : { ca: await readFile(realms.caFile, 'utf8') } });
  try {
    const form = new URLSearchParams({ grant_type: 'password', client_id: 'kcp-edge', username: user });
    for (const g of groups) form.append('group', g);
    const res = await request(endpoint, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.body.json().catch(() => ({}))) as { access_token?: unknown; error?: unknown };
    if (res.statusCode !== 200 || typeof body.access_token !== 'string') {
      process.stderr.write(`kcp-edge dev token: ${endpoint} answered ${res.statusCode}: ${String(body.error ?? 'no token')}\n`);
      return 1;
    }
    process.stderr.write(`token of ${user} in ${org} (as ${org}:${user}); use it as a bearer token:\n`);
    process.stdout.write(`${body.access_token}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`kcp-edge dev token: cannot reach ${endpoint}: ${(err as Error).message} (is \`kcp-edge dev --dir ${dir}\` running?)\n`);
    return 1;
  } finally {
    await agent.close();
  }
}

export const command: Command = {
  summary: "print a fresh token of a dev user from the running stack's OIDC issuer (the token is the last line)",
  options: {
    dir: { type: 'string', default: '.kcp-edge/dev' },
    org: { type: 'string', default: 'org-acme' },
    user: { type: 'string', default: 'alice' },
    group: { type: 'string', multiple: true },
  },
  run: token,
};
