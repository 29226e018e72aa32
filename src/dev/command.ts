// `kcp-edge dev --dir D [--port N]` (what `npm start` runs): the whole local stack in one process —
// two stand-in shards, workspaces on both, the gateway in front — and D/kubeconfig once it serves.
import { relative } from 'node:path';
import { exitCode } from '../command/lifecycle.ts';
import { parsePort } from '../command/listen-address.ts';
import type { Command, OptionValues } from '../command/types.ts';
import type { DevStack } from './stack.ts';

function summary(stack: DevStack): string {
  const shown = (p: string) => (relative(process.cwd(), p).startsWith('..') ? p : relative(process.cwd(), p));
  const kubeconfig = shown(stack.files.kubeconfig);
  const byShard = [...stack.shards.values()].map((s) => {
    const held = stack.workspaces.filter((w) => w.shard === s.name).map((w) => w.path.replace(/^root:/, ''));
    return `  ${s.name}  ${s.url}  ${held.join(', ')}`;
  });
  const projects = stack.workspaces.filter((w) => w.project);
  const first = projects[0]!;
  const second = projects.find((w) => w.shard !== first.shard) ?? projects[1] ?? first;
  const ctx = (w: { path: string }) => w.path.replace(/^root:/, '');
  return [
    `kcp-edge dev: gateway serving at ${stack.url}`,
    ...byShard,
    `  config ${shown(stack.files.gatewayConfig)}, routing ${shown(stack.files.routing)}, log ${shown(stack.files.log)}, audit log ${shown(stack.files.auditLog)}`,
    ...(stack.gateway?.admin === undefined
      ? []
      : [`  admin ${stack.gateway.admin.server.url}/status (status page), /metrics; bearer token: first field of ${shown(stack.files.adminTokens)}`]),
    '',
    'Try:',
    `  export KUBECONFIG=${kubeconfig}`,
    `  kubectl --context ${ctx(first)} create configmap hello --from-literal=greeting=hi`,
    `  kubectl --context ${ctx(second)} get configmaps     # another workspace (on ${second.shard}): no hello here`,
    "  kubectl config get-contexts                         # one context per project workspace, and view-only users'",
    ...stack.users.flatMap((u) =>
      'viewer' in u.access ? [`  kubectl --context ${u.name}@${u.access.viewer.replace(/^root:/, '')} create configmap mine   # ${u.name} may only view: Forbidden`] : [],
    ),
    `  kcp-edge dev token --dir ${shown(stack.options.dir)} --org org-globex --user bob   # a fresh OIDC token (last line)`,
    `  kubectl --context ${ctx(first)} --token "$(kubectl --context ${ctx(first)} create token default)" auth whoami   # a service account`,
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

async function dev(values: OptionValues): Promise<number> {
  let port: number;
  try {
    port = parsePort(String(values['port']));
  } catch (err) {
    process.stderr.write(`kcp-edge dev: --port: ${(err as Error).message} (0 picks a free one)\n`);
    return exitCode.usage;
  }
  const { startDevStack } = await import('./start.ts');
  let stack: DevStack;
  try {
    const ratelimit = typeof values['ratelimit'] === 'string' ? values['ratelimit'] : undefined;
    const redis = typeof values['redis'] === 'string' ? values['redis'] : undefined;
    stack = await startDevStack({
      dir: String(values['dir']),
      port,
      ...(ratelimit === undefined ? {} : { ratelimit }),
      ...(redis === undefined ? {} : { redis }),
    });
  } catch (err) {
    const inUse = (err as { cause?: { code?: string } }).cause?.code === 'EADDRINUSE';
    process.stderr.write(`kcp-edge dev: ${(err as Error).message}${inUse ? `\n  port ${port} is taken; pass --port N (0 picks a free one)` : ''}\n`);
    return 1;
  }
  process.stdout.write(summary(stack));

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) process.exit(130);
      stopping = true;
      process.stdout.write('\nkcp-edge dev: stopping…\n');
      resolve();
    };
    process.on('SIGINT', stop).on('SIGTERM', stop);
  });
  await stack.stop();
  process.stdout.write('kcp-edge dev: stopped\n');
  setTimeout(() => process.exit(0), 1_000).unref();
  return 0;
}

export const command: Command = {
  summary: 'run the local stack: two stand-in shards, workspaces, the gateway, and <dir>/kubeconfig',
  options: {
    dir: { type: 'string', default: '.kcp-edge/dev' },
    port: { type: 'string', default: '6443' },
    // Rate policy file (see config/ratelimit.yaml); followed live. Default: the built-in policy.
    ratelimit: { type: 'string' },
    // redis://host:port: the shared routing table in Redis, kept true by an in-process indexer.
    redis: { type: 'string' },
  },
  run: dev,
  // `kcp-edge dev <sub> …`: helpers that work on a running stack's directory join here.
  subcommands: {
    token: () => import('./token-command.ts'),
  },
};
