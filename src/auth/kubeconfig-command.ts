// `kcp-edge kubeconfig`: the kubeconfig a member of an organisation uses for one workspace. The user
// logs in with standard tools: an `exec` credential plugin (`kubectl oidc-login get-token`, i.e.
// int128/kubelogin) against the org's realm, so no token is ever written into the file.
import { readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import type { Command, OptionValues } from '../command/types.ts';
import { parseWorkspaceRef, orgOf } from '../workspaces/request-path.ts';
import { isGatewayError } from '../kube/gateway-error.ts';

export interface OidcKubeconfigSpec {
  /** Canonical workspace path (root:org-acme:proj-frontend). */
  workspace: string;
  /** Gateway base URL, e.g. https://edge.example.com */
  server: string;
  /** The org realm's issuer URL. */
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** PEM of the CA that signs the gateway's serving certificate; the system trust store when absent. */
  caPem?: string;
  extraScopes: string[];
}

export function renderOidcKubeconfig(spec: OidcKubeconfigSpec): string {
  // Named like the dev stack's contexts: the path without root:, so `--context org-acme:proj-frontend` reads naturally.
  const name = spec.workspace.replace(/^root:/, '');
  const org = orgOf(spec.workspace) ?? name;
  const user = `oidc:${org}`;
  const args = [
    'oidc-login',
    'get-token',
    `--oidc-issuer-url=${spec.issuer}`,
    `--oidc-client-id=${spec.clientId}`,
    ...(spec.clientSecret !== undefined ? [`--oidc-client-secret=${spec.clientSecret}`] : []),
    ...spec.extraScopes.map((scope) => `--oidc-extra-scope=${scope}`),
  ];
  return stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name,
          cluster: {
            server: `${spec.server.replace(/\/+$/, '')}/clusters/${spec.workspace}`,
            ...(spec.caPem !== undefined ? { 'certificate-authority-data': Buffer.from(spec.caPem).toString('base64') } : {}),
          },
        },
      ],
      users: [
        {
          name: user,
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1beta1',
              command: 'kubectl',
              args,
              interactiveMode: 'IfAvailable',
              provideClusterInfo: false,
            },
          },
        },
      ],
      contexts: [{ name, context: { cluster: name, user } }],
      'current-context': name,
      preferences: {},
    },
    { lineWidth: 0 },
  );
}

const str = (values: OptionValues, name: string): string | undefined => {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
};

export const command: Command = {
  summary:
    'write a kubeconfig for one workspace whose user logs in to the org realm with `kubectl oidc-login` ' +
    '(--workspace org-acme:proj-frontend --server https://edge.example.com --issuer https://keycloak.example.com/realms/{org})',
  options: {
    workspace: { type: 'string' },
    server: { type: 'string' },
    issuer: { type: 'string' },
    'client-id': { type: 'string', default: 'kcp-edge' },
    'client-secret': { type: 'string' },
    'ca-file': { type: 'string' },
    'extra-scope': { type: 'string', multiple: true },
    output: { type: 'string', short: 'o' },
  },
  async run(values) {
    const fail = (message: string) => {
      process.stderr.write(`kcp-edge kubeconfig: ${message}\n`);
      return 2;
    };
    const workspaceArg = str(values, 'workspace');
    const server = str(values, 'server');
    const issuerArg = str(values, 'issuer');
    if (workspaceArg === undefined || server === undefined || issuerArg === undefined) return fail('--workspace, --server and --issuer are required');
    let workspace: string;
    try {
      const ref = parseWorkspaceRef(workspaceArg);
      workspace = ref.fallbackKey ?? ref.key;
    } catch (err) {
      return fail(isGatewayError(err) ? (err.internalReason ?? err.message) : String(err));
    }
    const org = orgOf(workspace);
    if (org === undefined) return fail(`workspace "${workspaceArg}" names no organisation`);
    if (!/^https:\/\//.test(server)) return fail('--server must be an https:// URL');
    // The issuer may be given as the gateway's template; the org of the workspace fills it in.
    const issuer = issuerArg.replaceAll('{org}', org);
    if (!/^https:\/\//.test(issuer)) return fail('--issuer must be an https:// URL');
    const caFile = str(values, 'ca-file');
    const scopes = values['extra-scope'];
    const text = renderOidcKubeconfig({
      workspace,
      server,
      issuer,
      clientId: str(values, 'client-id') ?? 'kcp-edge',
      ...(str(values, 'client-secret') !== undefined ? { clientSecret: str(values, 'client-secret')! } : {}),
      ...(caFile !== undefined ? { caPem: await readFile(caFile, 'utf8') } : {}),
      extraScopes: Array.isArray(scopes) ? scopes.map(String) : ['email', 'groups'],
    });
    const output = str(values, 'output');
    if (output === undefined) process.stdout.write(text);
    else await writeFile(output, text, { mode: 0o600 });
    return 0;
  },
};
