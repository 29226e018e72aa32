// The policy file: YAML → schema validation → reference checks → a compiled, frozen policy. Every
// problem is collected and reported with its field path (`flowSchemas[2].rules[0].verbs[1]`), all at
// once, so an operator fixes a file in one round. Only this module can produce a RateLimitPolicy.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
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
  verbs: Readonly<Record<string, number>>;
  listWithoutLimit: number | undefined;
}

declare const validated: unique symbol;

export interface RateLimitPolicy {
  /** Sorted: lowest precedence first, ties by name, as kube-apiserver orders FlowSchemas. */
  readonly flowSchemas: readonly FlowSchema[];
  readonly priorityLevels: readonly PriorityLevel[];
  readonly costs: Costs;
  /** Where it came from, for logs and `ratelimit explain`. */
  readonly source: string;
  readonly [validated]: true;
}

export interface PolicyProblem {
  path: string;
  message: string;
}

export class PolicyError extends Error {
  readonly problems: readonly PolicyProblem[];
  constructor(source: string, problems: PolicyProblem[]) {
    super(`${source}: invalid rate-limit policy:\n${problems.map((p) => `  ${p.path || '(top level)'}: ${p.message}`).join('\n')}`);
    this.name = 'PolicyError';
    this.problems = problems;
  }
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validateDocument = ajv.compile<PolicyDocument>(policySchema);

/** Stable across replicas and restarts: a UUID-shaped digest of the kind and name unless the file sets one. */
export function stableUid(kind: 'flowschema' | 'prioritylevel', name: string): string {
  const h = createHash('sha256').update(`kcp-edge.io/${kind}/${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc === '' ? seg : `${acc}.${seg}`), '');
}

function join(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

function describe(err: ErrorObject): PolicyProblem {
  const path = fieldPath(err.instancePath);
  switch (err.keyword) {
    case 'additionalProperties':
      return { path: join(path, String(err.params.additionalProperty)), message: 'unknown field' };
    case 'required':
      return { path: join(path, String(err.params.missingProperty)), message: 'is required' };
    case 'enum':
      return { path, message: `must be one of ${(err.params.allowedValues as unknown[]).join(', ')}` };
    case 'const':
      return { path, message: `must be ${JSON.stringify(err.params.allowedValue)}` };
    case 'propertyNames':
      return { path: join(path, String(err.params.propertyName)), message: 'is not a known verb' };
    default:
      return { path, message: err.message ?? err.keyword };
  }
}

/** Parses and validates policy text; throws PolicyError naming every bad field. */
export function parsePolicy(text: string, source = 'ratelimit policy'): RateLimitPolicy {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PolicyError(source, doc.errors.map((e) => ({ path: '', message: `YAML: ${e.message}` })));
  }
  const value: unknown = doc.toJS() ?? {};
  return compilePolicy(value, source);
}

export async function loadPolicyFile(file: string): Promise<RateLimitPolicy> {
  return parsePolicy(await readFile(file, 'utf8'), file);
}

/** Validates an already-parsed document (YAML or JSON) and compiles it. */
export function compilePolicy(value: unknown, source: string): RateLimitPolicy {
  if (!validateDocument(value)) {
    // Ajv reports a failing `if`/`enum` once per branch; keep each path+message once.
    const seen = new Set<string>();
    const problems = (validateDocument.errors ?? []).map(describe).filter((p) => {
      const key = `${p.path}\0${p.message}`;
      return seen.has(key) ? false : (seen.add(key), true);
    });
    throw new PolicyError(source, problems);
  }
  const problems: PolicyProblem[] = [];
  const doc = value;

  const levelDocs = withMandatory(doc.priorityLevels ?? [], mandatoryPriorityLevels, 'priorityLevels', problems);
  const schemaDocs = withMandatory(doc.flowSchemas ?? [], mandatoryFlowSchemas, 'flowSchemas', problems);

  const costs: Costs = Object.freeze({
    default: doc.costs?.default ?? 1,
    verbs: Object.freeze({ ...doc.costs?.verbs }),
    listWithoutLimit: doc.costs?.listWithoutLimit,
  });

  const levels = new Map<string, PriorityLevel>();
  const uids = new Map<string, string>();
  for (const { item, path } of levelDocs) {
    const level = compileLevel(item, path, problems);
    checkUid(uids, level.uid, path, problems);
    levels.set(level.name, level);
    if (level.limits !== undefined) checkCosts(costs, level.limits, path, problems);
  }

  const schemas: FlowSchema[] = [];
  for (const { item, path } of schemaDocs) {
    const level = levels.get(item.priorityLevel);
    if (level === undefined) {
      problems.push({ path: `${path}.priorityLevel`, message: `names priority level "${item.priorityLevel}", which is not defined` });
      continue;
    }
    const uid = item.uid ?? stableUid('flowschema', item.name);
    checkUid(uids, uid, path, problems);
    const matchers = item.rules.map((rule, i) => compileRule(rule, `${path}.rules[${i}]`, problems));
    const matches: RequestMatcher =
      matchers.length === 1 ? matchers[0]! : (identity, attrs, ctx) => matchers.some((m) => m(identity, attrs, ctx));
    schemas.push(
      Object.freeze({
        name: item.name,
        uid,
        precedence: item.precedence ?? 1000,
        priorityLevel: level,
        distinguisher: item.distinguisher,
        matches,
      }),
    );
  }
  if (problems.length > 0) throw new PolicyError(source, problems);

  schemas.sort((a, b) => a.precedence - b.precedence || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return Object.freeze({
    flowSchemas: Object.freeze(schemas),
    priorityLevels: Object.freeze([...levels.values()]),
    costs,
    source,
  }) as RateLimitPolicy;
}

/** The file's entries (with their field paths) plus every mandatory entry the file does not override. */
function withMandatory<T extends { name: string }>(
  items: T[],
  mandatory: readonly T[],
  field: string,
  problems: PolicyProblem[],
): { item: T; path: string }[] {
  const out: { item: T; path: string }[] = [];
  const names = new Set<string>();
  items.forEach((item, i) => {
    const path = `${field}[${i}]`;
    if (names.has(item.name)) problems.push({ path: `${path}.name`, message: `duplicate name "${item.name}"` });
    names.add(item.name);
    out.push({ item, path });
  });
  for (const item of mandatory) {
    if (!names.has(item.name)) out.push({ item, path: `${field}(built-in "${item.name}")` });
  }
  return out;
}

function compileLevel(item: PriorityLevelDocument, path: string, problems: PolicyProblem[]): PriorityLevel {
  const exempt = item.exempt === true;
  if (exempt === (item.limits !== undefined)) {
    problems.push({ path, message: 'set either `exempt: true` or `limits`, exactly one of them' });
  }
  const l = item.limits;
  const limits: Limits | undefined =
    exempt || l === undefined
      ? undefined
      : Object.freeze({
          rate: l.rate,
          burst: l.burst ?? Math.max(1, Math.ceil(l.rate)),
          maxOpenWatches: l.maxOpenWatches,
          watchStartsPerSecond: l.watchStartsPerSecond,
          watchStartBurst: l.watchStartBurst ?? Math.max(1, Math.ceil(l.watchStartsPerSecond ?? 1)),
          maxInFlight: l.maxInFlight,
        });
  if (l?.watchStartBurst !== undefined && l.watchStartsPerSecond === undefined) {
    problems.push({ path: `${path}.limits.watchStartBurst`, message: 'needs limits.watchStartsPerSecond' });
  }
  return Object.freeze({ name: item.name, uid: item.uid ?? stableUid('prioritylevel', item.name), exempt, limits });
}

function checkUid(uids: Map<string, string>, uid: string, path: string, problems: PolicyProblem[]): void {
  const other = uids.get(uid);
  if (other !== undefined) problems.push({ path: `${path}.uid`, message: `uid "${uid}" is already used by ${other}` });
  uids.set(uid, path);
}

// A request costing more than the burst could never be admitted: say so now, not with endless 429s.
function checkCosts(costs: Costs, limits: Limits, path: string, problems: PolicyProblem[]): void {
  const entries: [string, number | undefined][] = [
    ['costs.default', costs.default],
    ['costs.listWithoutLimit', costs.listWithoutLimit],
    ...Object.entries(costs.verbs).map(([verb, cost]): [string, number] => [`costs.verbs.${verb}`, cost]),
  ];
  for (const [field, cost] of entries) {
    if (cost !== undefined && cost > limits.burst) {
      problems.push({ path: field, message: `cost ${cost} exceeds ${path}.limits.burst (${limits.burst}): such requests could never be admitted` });
    }
  }
}
