// `kcp-edge ratelimit explain`: which flow schema and priority level a request would get, what it
// costs and which limits apply, without sending it. For operators writing a policy.
import type { Command, OptionValues } from '../command/types.ts';
import type { RequestAttributes } from '../kube/request-attributes.ts';
import { classify } from './classify.ts';
import { loadPolicyFile, type RateLimitPolicy } from './policy.ts';
import { defaultPolicy } from './policy-source.ts';

function str(values: OptionValues, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

function attributesFrom(values: OptionValues): RequestAttributes {
  const path = str(values, 'path');
  const verb = str(values, 'verb') ?? 'get';
  const base = { verb, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '', hasLimit: false };
  if (path !== undefined) return { ...base, isResourceRequest: false, path };
  const [resource = '', subresource = ''] = (str(values, 'resource') ?? '').split('/');
  const apiGroup = str(values, 'api-group') ?? '';
  return {
    ...base,
    isResourceRequest: true,
    path: `${apiGroup === '' ? '/api/v1' : `/apis/${apiGroup}/v1`}/${resource}`,
    apiGroup,
    apiVersion: 'v1',
    resource,
    subresource,
    namespace: str(values, 'namespace') ?? '',
    hasLimit: values['limit'] === true,
  };
}

function costReason(isWatch: boolean, attrs: RequestAttributes, cost: number, policy: RateLimitPolicy): string {
  if (cost === 0) return ' (exempt)';
  if (isWatch) return ' (a watch: charged to the watch-start rate if the level has one, and holds an open-watch slot)';
  if (attrs.verb === 'list' && !attrs.hasLimit && policy.costs.listWithoutLimit !== undefined)
    return ' (costs.listWithoutLimit: a list without ?limit=; pass --limit for a paged one)';
  return policy.costs.verbs[attrs.verb] === undefined ? ' (costs.default)' : ` (costs.verbs.${attrs.verb})`;
}

export function explain(policy: RateLimitPolicy, values: OptionValues): string {
  const workspace = str(values, 'workspace');
  const org = str(values, 'org') ?? workspace?.replace(/^root:/, '').split(':')[0];
  const groups = (str(values, 'groups') ?? '').split(',').filter((g) => g !== '');
  const identity = { user: str(values, 'user') ?? 'anonymous', groups, extra: {} };
  const attrs = attributesFrom(values);
  const c = classify(policy, identity, attrs, { org, workspace });
  const level = c.priorityLevel;
  const l = level.limits;
  const limits =
    l === undefined
      ? 'exempt: never limited'
      : [
          `${l.rate}/s, burst ${l.burst}`,
          `open watches ${l.maxOpenWatches ?? 'unbounded'}`,
          `watch starts ${l.watchStartsPerSecond === undefined ? 'charged to the rate' : `${l.watchStartsPerSecond}/s, burst ${l.watchStartBurst}`}`,
          `in flight ${l.maxInFlight ?? 'unbounded'}`,
        ].join('; ');
  const fs = c.flowSchema;
  return [
    `request:        ${identity.user}${groups.length > 0 ? ` (groups ${groups.join(', ')})` : ''} ${attrs.verb} ${attrs.isResourceRequest ? `${attrs.apiGroup === '' ? 'core' : attrs.apiGroup}/${attrs.resource}${attrs.subresource === '' ? '' : `/${attrs.subresource}`}` : attrs.path}${workspace === undefined ? '' : ` in ${workspace}`}${org === undefined ? '' : ` (org ${org})`}`,
    `flow schema:    ${fs.name}  uid ${fs.uid}  precedence ${fs.precedence}`,
    `flow:           ${fs.distinguisher === undefined ? 'one flow for the whole schema' : `${fs.distinguisher} = "${c.distinguisherValue}"`}`,
    `priority level: ${level.name}  uid ${level.uid}`,
    `limits:         ${limits}${l === undefined ? '' : ' (per flow)'}`,
    `cost:           ${c.cost}${costReason(c.isWatch, attrs, c.cost, policy)}`,
    `policy:         ${policy.source}`,
  ].join('\n');
}

export const command: Command = {
  summary: 'explain which flow schema and priority level of the rate policy a request would get',
  options: {
    policy: { type: 'string' },
    user: { type: 'string' },
    groups: { type: 'string' },
    workspace: { type: 'string' },
    org: { type: 'string' },
    verb: { type: 'string' },
    'api-group': { type: 'string' },
    resource: { type: 'string' },
    namespace: { type: 'string' },
    limit: { type: 'boolean' },
    path: { type: 'string' },
  },
  async run(values, positionals) {
    if (positionals[0] !== 'explain' || positionals.length !== 1) {
      process.stderr.write(
        'usage: kcp-edge ratelimit explain [--policy FILE] --user NAME [--groups a,b] [--workspace PATH] [--verb VERB] (--resource RES[/SUB] [--api-group G] [--limit] | --path /PATH)\n',
      );
      return 2;
    }
    const file = str(values, 'policy');
    let policy: RateLimitPolicy;
    try {
      policy = file === undefined ? await defaultPolicy() : await loadPolicyFile(file);
    } catch (err) {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
    process.stdout.write(`${explain(policy, values)}\n`);
    return 0;
  },
};
