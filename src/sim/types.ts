// The shapes the stand-in shard passes around: stored objects, resource types and caller identities.

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  ownerReferences?: unknown[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  description?: string;
  priority?: number;
  format?: string;
  /** Simple JSONPath (`.spec.x`) or a function of the object. */
  value: string | ((object: KubeObject) => unknown);
}

export interface ResourceType {
  group: string;
  version: string;
  resource: string;
  kind: string;
  singular: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  /** Subresources served under `<name>/<subresource>`. */
  subresources?: Array<'status' | 'exec' | 'attach' | 'portforward' | 'finalize' | 'log' | 'token'>;
  /** Create-only review kinds are answered, never stored. */
  ephemeral?: boolean;
  columns?: PrinterColumn[];
  /** The openAPIV3Schema of a CRD's or APIResourceSchema's version; built-in kinds have theirs in schemas/. */
  schema?: Record<string, unknown>;
  /** Set for kinds bound through an APIBinding: which export they come from. */
  boundFrom?: { exportCluster: string; exportName: string; identityHash: string };
}

export interface Identity {
  user: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

export function groupVersion(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

export function groupResource(type: Pick<ResourceType, 'group' | 'resource'>): string {
  return type.group === '' ? type.resource : `${type.resource}.${type.group}`;
}
