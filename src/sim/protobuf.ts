// kubectl 1.32 sends the built-in kinds it creates through typed clients (`create namespace`,
// `create configmap`, `auth whoami`, …) as Kubernetes protobuf, with no JSON fallback. This decodes the
// `k8s\0` envelope and the few kinds such commands send; responses stay JSON, which kubectl accepts.
import { SimError } from './errors.ts';

type Scalar = 'string' | 'bytes' | 'int' | 'bool' | 'time';
interface Field {
  name: string;
  type: Scalar | 'message' | 'map';
  repeated?: boolean;
  message?: Schema;
  /** For maps: the value type. */
  value?: 'string' | 'bytes';
}
type Schema = Record<number, Field>;

const time: Field = { name: '', type: 'time' };
const ownerReference: Schema = {
  1: { name: 'kind', type: 'string' },
  3: { name: 'name', type: 'string' },
  4: { name: 'uid', type: 'string' },
  5: { name: 'apiVersion', type: 'string' },
  6: { name: 'controller', type: 'bool' },
  7: { name: 'blockOwnerDeletion', type: 'bool' },
};
const objectMeta: Schema = {
  1: { name: 'name', type: 'string' },
  2: { name: 'generateName', type: 'string' },
  3: { name: 'namespace', type: 'string' },
  5: { name: 'uid', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  7: { name: 'generation', type: 'int' },
  8: { ...time, name: 'creationTimestamp' },
  9: { ...time, name: 'deletionTimestamp' },
  10: { name: 'deletionGracePeriodSeconds', type: 'int' },
  11: { name: 'labels', type: 'map', value: 'string' },
  12: { name: 'annotations', type: 'map', value: 'string' },
  13: { name: 'ownerReferences', type: 'message', repeated: true, message: ownerReference },
  14: { name: 'finalizers', type: 'string', repeated: true },
};
const metadata: Field = { name: 'metadata', type: 'message', message: objectMeta };
const localRef: Schema = { 1: { name: 'name', type: 'string' } };
const objectRef: Schema = { 1: { name: 'kind', type: 'string' }, 2: { name: 'namespace', type: 'string' }, 3: { name: 'name', type: 'string' } };
const resourceAttributes: Schema = {
  1: { name: 'namespace', type: 'string' },
  2: { name: 'verb', type: 'string' },
  3: { name: 'group', type: 'string' },
  4: { name: 'version', type: 'string' },
  5: { name: 'resource', type: 'string' },
  6: { name: 'subresource', type: 'string' },
  7: { name: 'name', type: 'string' },
};

// k8s.io/api/rbac/v1 generated.proto: what `kubectl create role|clusterrole|rolebinding|clusterrolebinding` sends.
const policyRule: Schema = {
  1: { name: 'verbs', type: 'string', repeated: true },
  2: { name: 'apiGroups', type: 'string', repeated: true },
  3: { name: 'resources', type: 'string', repeated: true },
  4: { name: 'resourceNames', type: 'string', repeated: true },
  5: { name: 'nonResourceURLs', type: 'string', repeated: true },
};
const labelSelector: Schema = {
  1: { name: 'matchLabels', type: 'map', value: 'string' },
  2: {
    name: 'matchExpressions',
    type: 'message',
    repeated: true,
    message: { 1: { name: 'key', type: 'string' }, 2: { name: 'operator', type: 'string' }, 3: { name: 'values', type: 'string', repeated: true } },
  },
};
const rules: Field = { name: 'rules', type: 'message', repeated: true, message: policyRule };
const binding: Schema = {
  1: metadata,
  2: {
    name: 'subjects',
    type: 'message',
    repeated: true,
    message: { 1: { name: 'kind', type: 'string' }, 2: { name: 'apiGroup', type: 'string' }, 3: { name: 'name', type: 'string' }, 4: { name: 'namespace', type: 'string' } },
  },
  3: { name: 'roleRef', type: 'message', message: { 1: { name: 'apiGroup', type: 'string' }, 2: { name: 'kind', type: 'string' }, 3: { name: 'name', type: 'string' } } },
};

const kinds: Record<string, Schema> = {
  Role: { 1: metadata, 2: rules },
  ClusterRole: {
    1: metadata,
    2: rules,
    3: { name: 'aggregationRule', type: 'message', message: { 1: { name: 'clusterRoleSelectors', type: 'message', repeated: true, message: labelSelector } } },
  },
  RoleBinding: binding,
  ClusterRoleBinding: binding,
  SelfSubjectRulesReview: { 1: metadata, 2: { name: 'spec', type: 'message', message: { 1: { name: 'namespace', type: 'string' } } } },
  Namespace: { 1: metadata, 2: { name: 'spec', type: 'message', message: { 1: { name: 'finalizers', type: 'string', repeated: true } } } },
  ConfigMap: { 1: metadata, 2: { name: 'data', type: 'map', value: 'string' }, 3: { name: 'binaryData', type: 'map', value: 'bytes' }, 4: { name: 'immutable', type: 'bool' } },
  Secret: {
    1: metadata,
    2: { name: 'data', type: 'map', value: 'bytes' },
    3: { name: 'type', type: 'string' },
    4: { name: 'stringData', type: 'map', value: 'string' },
    5: { name: 'immutable', type: 'bool' },
  },
  ServiceAccount: {
    1: metadata,
    2: { name: 'secrets', type: 'message', repeated: true, message: objectRef },
    3: { name: 'imagePullSecrets', type: 'message', repeated: true, message: localRef },
    4: { name: 'automountServiceAccountToken', type: 'bool' },
  },
  SelfSubjectReview: { 1: metadata },
  // `kubectl create token`
  TokenRequest: {
    1: metadata,
    2: {
      name: 'spec',
      type: 'message',
      message: {
        1: { name: 'audiences', type: 'string', repeated: true },
        4: { name: 'expirationSeconds', type: 'int' },
        3: {
          name: 'boundObjectRef',
          type: 'message',
          message: { 1: { name: 'kind', type: 'string' }, 2: { name: 'apiVersion', type: 'string' }, 3: { name: 'name', type: 'string' }, 4: { name: 'uid', type: 'string' } },
        },
      },
    },
  },
  SelfSubjectAccessReview: {
    1: metadata,
    2: {
      name: 'spec',
      type: 'message',
      message: {
        1: { name: 'resourceAttributes', type: 'message', message: resourceAttributes },
        2: { name: 'nonResourceAttributes', type: 'message', message: { 1: { name: 'path', type: 'string' }, 2: { name: 'verb', type: 'string' } } },
      },
    },
  },
  DeleteOptions: {
    1: { name: 'gracePeriodSeconds', type: 'int' },
    2: { name: 'preconditions', type: 'message', message: { 1: { name: 'uid', type: 'string' }, 2: { name: 'resourceVersion', type: 'string' } } },
    4: { name: 'propagationPolicy', type: 'string' },
    5: { name: 'dryRun', type: 'string', repeated: true },
  },
};

class Reader {
  #pos = 0;
  readonly #buf: Buffer;
  constructor(buf: Buffer) {
    this.#buf = buf;
  }
  done(): boolean {
    return this.#pos >= this.#buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.#buf[this.#pos++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  bytes(): Buffer {
    const length = Number(this.varint());
    const out = this.#buf.subarray(this.#pos, this.#pos + length);
    this.#pos += length;
    return out;
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.#pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.#pos += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
  }
}

function decodeMessage(buf: Buffer, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const reader = new Reader(buf);
  while (!reader.done()) {
    const tag = Number(reader.varint());
    const field = schema[tag >> 3];
    const wireType = tag & 7;
    if (field === undefined) {
      reader.skip(wireType);
      continue;
    }
    let value: unknown;
    switch (field.type) {
      case 'string':
        value = reader.bytes().toString('utf8');
        break;
      case 'bytes':
        value = reader.bytes().toString('base64');
        break;
      case 'int':
        value = Number(BigInt.asIntN(64, reader.varint()));
        break;
      case 'bool':
        value = reader.varint() !== 0n;
        break;
      case 'time': {
        const t = decodeMessage(reader.bytes(), { 1: { name: 'seconds', type: 'int' } });
        value = new Date(Number(t['seconds'] ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
        break;
      }
      case 'message':
        value = decodeMessage(reader.bytes(), field.message ?? {});
        break;
      case 'map': {
        const entry = decodeMessage(reader.bytes(), { 1: { name: 'key', type: 'string' }, 2: { name: 'value', type: field.value ?? 'string' } });
        const map = (out[field.name] ?? {}) as Record<string, unknown>;
        map[String(entry['key'] ?? '')] = entry['value'] ?? '';
        out[field.name] = map;
        continue;
      }
    }
    // Go's JSON omits empty strings and zero numbers (omitempty); the gogo encoding still writes them. An
    // element of a list is kept whatever it is: `apiGroups: [""]` names the core group.
    if ((value === '' || value === 0) && field.repeated !== true) continue;
    if (field.repeated === true) out[field.name] = [...((out[field.name] as unknown[] | undefined) ?? []), value];
    else out[field.name] = value;
  }
  return out;
}

export function isProtobuf(contentType: string): boolean {
  return contentType.includes('application/vnd.kubernetes.protobuf');
}

export function decodeKubernetesProtobuf(body: Buffer): Record<string, unknown> {
  if (body.subarray(0, 4).toString('latin1') !== 'k8s\0') throw new SimError(400, 'BadRequest', 'the body of the request is not a Kubernetes protobuf envelope');
  const unknown = decodeMessage(body.subarray(4), {
    1: { name: 'typeMeta', type: 'message', message: { 1: { name: 'apiVersion', type: 'string' }, 2: { name: 'kind', type: 'string' } } },
    2: { name: 'raw', type: 'bytes' },
  });
  const typeMeta = (unknown['typeMeta'] ?? {}) as { apiVersion?: string; kind?: string };
  const schema = kinds[typeMeta.kind ?? ''];
  if (schema === undefined) {
    throw new SimError(415, 'UnsupportedMediaType', `protobuf bodies of kind ${typeMeta.kind ?? '?'} are not supported by the stand-in shard: send application/json`);
  }
  const object = decodeMessage(Buffer.from(String(unknown['raw'] ?? ''), 'base64'), schema);
  return { apiVersion: typeMeta.apiVersion, kind: typeMeta.kind, ...object };
}
