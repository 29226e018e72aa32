// JSON Schema of the rate-limit policy file. Shape only: references between entries (a flow schema
// naming a priority level, costs fitting under every burst) are checked in policy.ts, which reports
// them with the same field paths.

const globList = { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 } as const;
const name = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$' } as const;

export const verbs = [
  '*',
  'get',
  'list',
  'watch',
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
  // Non-resource requests carry the lower-case HTTP method as their verb.
  'post',
  'put',
  'head',
  'options',
] as const;

const rule = {
  type: 'object',
  additionalProperties: false,
  properties: {
    users: globList,
    groups: globList,
    orgs: globList,
    workspaces: globList,
    verbs: { type: 'array', items: { enum: verbs }, minItems: 1 },
    apiGroups: { type: 'array', items: { type: 'string' }, minItems: 1 },
    resources: globList,
    nonResourcePaths: { type: 'array', items: { type: 'string', pattern: '^(/.*|\\*)$' }, minItems: 1 },
  },
} as const;

const limits = {
  type: 'object',
  additionalProperties: false,
  required: ['rate'],
  properties: {
    rate: { type: 'number', exclusiveMinimum: 0 },
    burst: { type: 'integer', minimum: 1 },
    maxOpenWatches: { type: 'integer', minimum: 0 },
    watchStartsPerSecond: { type: 'number', exclusiveMinimum: 0 },
    watchStartBurst: { type: 'integer', minimum: 1 },
    maxInFlight: { type: 'integer', minimum: 1 },
  },
} as const;

export const policySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    apiVersion: { const: 'kcp-edge.io/v1alpha1' },
    kind: { const: 'RateLimitPolicy' },
    costs: {
      type: 'object',
      additionalProperties: false,
      properties: {
        default: { type: 'integer', minimum: 1 },
        verbs: {
          type: 'object',
          additionalProperties: false,
          properties: Object.fromEntries(verbs.filter((v) => v !== '*').map((v) => [v, { type: 'integer', minimum: 1 }])),
        },
        listWithoutLimit: { type: 'integer', minimum: 1 },
      },
    },
    priorityLevels: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name,
          uid: { type: 'string', minLength: 1, maxLength: 128 },
          exempt: { type: 'boolean' },
          limits,
        },
      },
    },
    flowSchemas: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'priorityLevel', 'rules'],
        properties: {
          name,
          uid: { type: 'string', minLength: 1, maxLength: 128 },
          precedence: { type: 'integer', minimum: 1, maximum: 10000 },
          priorityLevel: { type: 'string', minLength: 1 },
          distinguisher: { enum: ['byUser', 'byWorkspace', 'byOrg'] },
          rules: { type: 'array', items: rule, minItems: 1 },
        },
      },
    },
  },
} as const;

/** The document as the schema admits it; policy.ts turns it into the compiled, frozen policy. */
export interface PolicyDocument {
  apiVersion?: string;
  kind?: string;
  costs?: { default?: number; verbs?: Record<string, number>; listWithoutLimit?: number };
  priorityLevels?: PriorityLevelDocument[];
  flowSchemas?: FlowSchemaDocument[];
}

export interface PriorityLevelDocument {
  name: string;
  uid?: string;
  exempt?: boolean;
  limits?: {
    rate: number;
    burst?: number;
    maxOpenWatches?: number;
    watchStartsPerSecond?: number;
    watchStartBurst?: number;
    maxInFlight?: number;
  };
}

export interface RuleDocument {
  users?: string[];
  groups?: string[];
  orgs?: string[];
  workspaces?: string[];
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  nonResourcePaths?: string[];
}

export interface FlowSchemaDocument {
  name: string;
  uid?: string;
  precedence?: number;
  priorityLevel: string;
  distinguisher?: 'byUser' | 'byWorkspace' | 'byOrg';
  rules: RuleDocument[];
}
