// The policy file: YAML → schema validation → reference checks → a compiled, frozen policy, through
// the product's one config loader, so every problem is reported with file, line and field path
// (`flowSchemas[2].rules[0].verbs[1]`), all at once. Only the loader can produce a RateLimitPolicy.
import { createHash } from 'node:crypto';
import {
  defineConfig,
  loadConfig,
  parseConfig,
  watchConfig,
  type BuildContext,
  type Config,
  type ConfigWatcher,
  type ConfigWatchOptions,
  type DeepReadonly,
  type FieldPath,
} from '../config/index.ts';
import { mandatoryFlowSchemas, mandatoryPriorityLevels } from './default-policy.ts';
import { policySchema, type PolicyDocument, type PriorityLevelDocument } from './policy-schema.ts';
import { compileRule, type RequestMatcher } from './rule-matcher.ts';

export type Distinguisher = 'byUser' | 'byWorkspace' | 'byOrg';

export interface Limits {
  /** Cost units per second per flow. */
  rate: number;
  burst: number;
  maxOpenWatches: number | undefined;
  watchStartsPerSecond: number | undefined;
  watchStartBurst: number;
  maxInFlight: number | undefined;
}

export interface PriorityLevel {
  name: string;
  uid: string;
  exempt: boolean;
  /** Undefined exactly when exempt. */
  limits: Limits | undefined;
}

export interface FlowSchema {
  name: string;
  uid: string;
  precedence: number;
  priorityLevel: PriorityLevel;
  distinguisher: Distinguisher | undefined;
  matches: RequestMatcher;
}

export interface Costs {
  default: number;
  verbs: Record<string, number>;
  listWithoutLimit: number | undefined;
}

export interface CompiledPolicy {
  /** Sorted: lowest precedence first, ties by name, as kube-apiserver orders FlowSchemas. */
  flowSchemas: FlowSchema[];
  priorityLevels: PriorityLevel[];
  costs: Costs;
  /** Where it came from, for logs and `ratelimit explain`. */
  source: string;
}

export type RateLimitPolicy = Config<CompiledPolicy>;

type Doc<T> = DeepReadonly<T>;

/** Stable across replicas and restarts: a UUID-shaped digest of the kind and name unless the file sets one. */
export function stableUid(kind: 'flowschema' | 'prioritylevel', name: string): string {
  const h = createHash('sha256').update(`kcp-edge.io/${kind}/${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const policyKind = defineConfig<PolicyDocument, CompiledPolicy>({ what: 'rate policy', schema: policySchema, build: buildPolicy });

/** Parses and validates policy text; throws ConfigError naming every bad field. */
export function parsePolicy(text: string, file = 'inline rate policy'): Promise<RateLimitPolicy> {
  return parseConfig(policyKind, text, file);
}

export function loadPolicyFile(file: string): Promise<RateLimitPolicy> {
  return loadConfig(policyKind, file);
}

/** Loads the file (throwing if it is invalid: a gateway must not start on a broken policy) and keeps it current. */
export function watchPolicyFile(file: string, options: ConfigWatchOptions<CompiledPolicy> = {}): Promise<ConfigWatcher<CompiledPolicy>> {
  return watchConfig(policyKind, file, options);
}

interface Located<T> {
  item: T;
  /** Where the entry sits in the file; undefined for a built-in entry the file did not override. */
  path: FieldPath | undefined;
  label: string;
}

function buildPolicy(doc: Doc<PolicyDocument>, ctx: BuildContext): CompiledPolicy {
  const levelDocs = withMandatory(doc.priorityLevels ?? [], mandatoryPriorityLevels, 'priorityLevels', ctx);
  const schemaDocs = withMandatory(doc.flowSchemas ?? [], mandatoryFlowSchemas, 'flowSchemas', ctx);
  const costs: Costs = {
    default: doc.costs?.default ?? 1,
    verbs: { ...doc.costs?.verbs },
    listWithoutLimit: doc.costs?.listWithoutLimit,
  };

  const levels = new Map<string, PriorityLevel>();
  const uids = new Map<string, string>();
  for (const located of levelDocs) {
    const level = compileLevel(located, ctx);
    checkUid(uids, level.uid, located, ctx);
    levels.set(level.name, level);
    if (level.limits !== undefined) checkCosts(costs, level.limits, located.label, ctx);
  }

  const schemas: FlowSchema[] = [];
  for (const located of schemaDocs) {
    const { item, path = [] } = located;
    const level = levels.get(item.priorityLevel);
    if (level === undefined) {
      ctx.issue([...path, 'priorityLevel'], `names priority level "${item.priorityLevel}", which is not defined`);
      continue;
    }
    const uid = item.uid ?? stableUid('flowschema', item.name);
    checkUid(uids, uid, located, ctx);
    const matchers = item.rules.map((rule, i) => compileRule(rule, (field, message) => ctx.issue([...path, 'rules', i, field], message)));
    const matches: RequestMatcher = matchers.length === 1 ? matchers[0]! : (identity, attrs, c) => matchers.some((m) => m(identity, attrs, c));
    schemas.push({ name: item.name, uid, precedence: item.precedence ?? 1000, priorityLevel: level, distinguisher: item.distinguisher, matches });
  }
  schemas.sort((a, b) => a.precedence - b.precedence || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { flowSchemas: schemas, priorityLevels: [...levels.values()], costs, source: ctx.file };
}

/** The file's entries plus every mandatory entry the file does not override. */
function withMandatory<T extends { readonly name: string }>(items: readonly T[], mandatory: readonly T[], field: string, ctx: BuildContext): Located<T>[] {
  const out: Located<T>[] = [];
  const names = new Set<string>();
  items.forEach((item, i) => {
    if (names.has(item.name)) ctx.issue([field, i, 'name'], `duplicate name "${item.name}"`);
    names.add(item.name);
    out.push({ item, path: [field, i], label: `${field}[${i}]` });
  });
  for (const item of mandatory) {
    if (!names.has(item.name)) out.push({ item, path: undefined, label: `the built-in ${field} entry "${item.name}"` });
  }
  return out;
}

function compileLevel({ item, path = [] }: Located<Doc<PriorityLevelDocument>>, ctx: BuildContext): PriorityLevel {
  const exempt = item.exempt === true;
  if (exempt === (item.limits !== undefined)) ctx.issue(path, 'set either `exempt: true` or `limits`, exactly one of them');
  const l = item.limits;
  if (l?.watchStartBurst !== undefined && l.watchStartsPerSecond === undefined) {
    ctx.issue([...path, 'limits', 'watchStartBurst'], 'needs limits.watchStartsPerSecond');
  }
  const limits: Limits | undefined =
    exempt || l === undefined
      ? undefined
      : {
          rate: l.rate,
          burst: l.burst ?? Math.max(1, Math.ceil(l.rate)),
          maxOpenWatches: l.maxOpenWatches,
          watchStartsPerSecond: l.watchStartsPerSecond,
          watchStartBurst: l.watchStartBurst ?? Math.max(1, Math.ceil(l.watchStartsPerSecond ?? 1)),
          maxInFlight: l.maxInFlight,
        };
  return { name: item.name, uid: item.uid ?? stableUid('prioritylevel', item.name), exempt, limits };
}

function checkUid(uids: Map<string, string>, uid: string, { path = [], label }: Located<unknown>, ctx: BuildContext): void {
  const other = uids.get(uid);
  if (other !== undefined) ctx.issue([...path, 'uid'], `uid "${uid}" is already used by ${other}`);
  uids.set(uid, label);
}

// A request costing more than the burst could never be admitted: say so now, not with endless 429s.
function checkCosts(costs: Costs, limits: Limits, label: string, ctx: BuildContext): void {
  const entries: [FieldPath, number | undefined][] = [
    [['costs', 'default'], costs.default],
    [['costs', 'listWithoutLimit'], costs.listWithoutLimit],
    ...Object.entries(costs.verbs).map(([verb, cost]): [FieldPath, number] => [['costs', 'verbs', verb], cost]),
  ];
  for (const [field, cost] of entries) {
    if (cost !== undefined && cost > limits.burst) {
      ctx.issue(field, `cost ${cost} exceeds ${label}.limits.burst (${limits.burst}): such requests could never be admitted`);
    }
  }
}
