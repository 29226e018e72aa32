// `Accept: application/json;as=Table;g=meta.k8s.io;v=v1` responses: what `kubectl get` prints. Rows carry
// the object as PartialObjectMetadata (kubectl's default includeObject=Metadata) so `-o wide`/`--show-labels` work.
import type { KubeObject, PrinterColumn, ResourceType } from './types.ts';

export function wantsTable(accept: string | undefined): boolean {
  return accept !== undefined && /as=Table/.test(accept.split(',')[0] ?? '');
}

function tableVersion(accept: string): string {
  return /as=Table;v=v1beta1|v=v1beta1;as=Table/.test(accept.split(',')[0] ?? '') ? 'meta.k8s.io/v1beta1' : 'meta.k8s.io/v1';
}

/** kube's HumanDuration: 45s, 5m10s, 3h, 2d5h, … */
export function humanAge(since: string | undefined): string {
  if (since === undefined) return '<unknown>';
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(since)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return `${minutes}m${seconds % 60 === 0 ? '' : `${seconds % 60}s`}`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 || days >= 8 ? `${days}d` : `${days}d${hours % 24}h`;
}

function readPath(object: KubeObject, path: string): unknown {
  let value: unknown = object;
  for (const part of path.replace(/^\./, '').split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function cell(object: KubeObject, column: PrinterColumn): unknown {
  const value = typeof column.value === 'function' ? column.value(object) : readPath(object, column.value);
  if (column.type === 'date' && typeof value === 'string') return humanAge(value);
  if (value === undefined || value === null) return column.type === 'string' ? '' : null;
  return typeof value === 'object' ? JSON.stringify(value) : value;
}

function columnsOf(type: ResourceType): PrinterColumn[] {
  return [
    { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', value: '.metadata.name' },
    ...(type.columns ?? []),
    {
      name: 'Age',
      type: 'string',
      description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
      value: (o) => humanAge(o.metadata.creationTimestamp),
    },
  ];
}

function partialMetadata(object: KubeObject, apiVersion: string): KubeObject {
  const { managedFields: _managed, ...metadata } = object.metadata;
  return { kind: 'PartialObjectMetadata', apiVersion: apiVersion, metadata };
}

export function toTable(type: ResourceType, objects: KubeObject[], accept: string, listMeta: Record<string, unknown>, withColumns = true): Record<string, unknown> {
  const apiVersion = tableVersion(accept);
  const columns = columnsOf(type);
  const includeObject = /includeObject=None/.test(accept) ? 'None' : /includeObject=Object/.test(accept) ? 'Object' : 'Metadata';
  return {
    kind: 'Table',
    apiVersion,
    metadata: listMeta,
    columnDefinitions: withColumns
      ? columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 }))
      : null,
    rows: objects.map((object) => ({
      cells: columns.map((c) => cell(object, c)),
      object: includeObject === 'None' ? undefined : includeObject === 'Object' ? object : partialMetadata(object, apiVersion),
    })),
  };
}
