// The entries every policy has, like kube-apiserver's mandatory APF objects: health probes are never
// limited, and a catch-all makes sure every request lands somewhere. A policy file overrides one by
// defining an entry of the same name.
import type { FlowSchemaDocument, PriorityLevelDocument } from './policy-schema.ts';

export const mandatoryPriorityLevels: readonly PriorityLevelDocument[] = [
  { name: 'exempt', exempt: true },
  {
    name: 'catch-all',
    limits: { rate: 50, burst: 100, maxOpenWatches: 200, watchStartsPerSecond: 10, maxInFlight: 100 },
  },
];

export const mandatoryFlowSchemas: readonly FlowSchemaDocument[] = [
  {
    name: 'probes',
    precedence: 2,
    priorityLevel: 'exempt',
    rules: [{ nonResourcePaths: ['/livez', '/livez/*', '/readyz', '/readyz/*', '/healthz', '/healthz/*'] }],
  },
  // Precedence 10000 is the largest allowed: nothing can sort after the catch-all.
  { name: 'catch-all', precedence: 10000, priorityLevel: 'catch-all', distinguisher: 'byUser', rules: [{}] },
];
