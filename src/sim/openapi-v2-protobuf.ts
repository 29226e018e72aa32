// The OpenAPI v2 document in the encoding client-go asks for (`discovery.OpenAPISchema()` accepts only
// this): gnostic's openapi_v2.Document protobuf. Only the messages kube-apiserver's document uses are
// written; vendor extensions, defaults and enum values travel as gnostic's Any with a YAML (JSON) text,
// which is how kube-openapi reads them back.

/** What kube-apiserver answers with ('@' is not a token character, so it is not in a Content-Type). */
export const openapiV2ProtobufType = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/** client-go still asks with the older spelling; both name the same encoding. */
export function acceptsOpenapiV2Protobuf(accept: string): boolean {
  return accept.includes('com.github.proto-openapi.spec.v2@v1.0+protobuf') || accept.includes('com.github.proto-openapi.spec.v2.v1.0+protobuf');
}

type JsonObject = Record<string, unknown>;

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

const tag = (field: number, wireType: 0 | 2) => varint(field * 8 + wireType);

function bytesField(field: number, payload: Buffer): Buffer {
  return Buffer.concat([tag(field, 2), varint(payload.length), payload]);
}

function stringField(field: number, value: unknown): Buffer {
  return typeof value === 'string' && value !== '' ? bytesField(field, Buffer.from(value, 'utf8')) : Buffer.alloc(0);
}

function boolField(field: number, value: unknown): Buffer {
  return value === true ? Buffer.concat([tag(field, 0), varint(1)]) : Buffer.alloc(0);
}

const isObject = (value: unknown): value is JsonObject => value !== null && typeof value === 'object' && !Array.isArray(value);

/** gnostic Any: `yaml` (field 2) holds the value's text. */
const any = (value: unknown) => stringField(2, JSON.stringify(value));
const namedAny = (name: string, value: unknown) => Buffer.concat([stringField(1, name), bytesField(2, any(value))]);

function vendorExtensions(field: number, node: JsonObject): Buffer[] {
  return Object.entries(node)
    .filter(([key]) => key.startsWith('x-'))
    .map(([key, value]) => bytesField(field, namedAny(key, value)));
}

function schema(node: JsonObject): Buffer {
  const parts: Buffer[] = [stringField(1, node['$ref']), stringField(2, node['format']), stringField(3, node['title']), stringField(4, node['description'])];
  if (node['default'] !== undefined) parts.push(bytesField(5, any(node['default'])));
  parts.push(boolField(16, node['uniqueItems']));
  for (const name of Array.isArray(node['required']) ? node['required'] : []) parts.push(stringField(19, name));
  for (const value of Array.isArray(node['enum']) ? node['enum'] : []) parts.push(bytesField(20, any(value)));
  const additional = node['additionalProperties'];
  if (isObject(additional)) parts.push(bytesField(21, bytesField(1, schema(additional))));
  else if (typeof additional === 'boolean') parts.push(bytesField(21, Buffer.concat([tag(2, 0), varint(additional ? 1 : 0)])));
  if (typeof node['type'] === 'string') parts.push(bytesField(22, stringField(1, node['type'])));
  if (isObject(node['items'])) parts.push(bytesField(23, bytesField(1, schema(node['items']))));
  for (const member of Array.isArray(node['allOf']) ? node['allOf'] : []) if (isObject(member)) parts.push(bytesField(24, schema(member)));
  if (isObject(node['properties'])) parts.push(bytesField(25, namedSchemas(node['properties'])));
  parts.push(...vendorExtensions(31, node));
  return Buffer.concat(parts);
}

/** Properties and Definitions alike: repeated NamedSchema{name, value} as field 1. */
function namedSchemas(map: JsonObject): Buffer {
  return Buffer.concat(
    Object.entries(map)
      .filter(([, value]) => isObject(value))
      .map(([name, value]) => bytesField(1, Buffer.concat([stringField(1, name), bytesField(2, schema(value as JsonObject))]))),
  );
}

function queryParameter(node: JsonObject): Buffer {
  // ParametersItem.parameter → Parameter.non_body_parameter → NonBodyParameter.query_parameter_sub_schema
  const sub = Buffer.concat([
    stringField(2, node['in']),
    stringField(3, node['description']),
    stringField(4, node['name']),
    stringField(6, node['type']),
    boolField(20, node['uniqueItems']),
  ]);
  return bytesField(1, bytesField(2, bytesField(3, sub)));
}

function operation(node: JsonObject): Buffer {
  const parts: Buffer[] = [stringField(3, node['description']), stringField(5, node['operationId'])];
  for (const type of Array.isArray(node['consumes']) ? node['consumes'] : []) parts.push(stringField(7, type));
  for (const parameter of Array.isArray(node['parameters']) ? node['parameters'] : []) if (isObject(parameter)) parts.push(bytesField(8, queryParameter(parameter)));
  if (isObject(node['responses'])) {
    const codes = Object.entries(node['responses'])
      .filter(([, r]) => isObject(r))
      .map(([code, r]) => {
        const response = r as JsonObject;
        const body = Buffer.concat([stringField(1, response['description']), ...(isObject(response['schema']) ? [bytesField(2, bytesField(1, schema(response['schema'])))] : [])]);
        return bytesField(1, Buffer.concat([stringField(1, code), bytesField(2, bytesField(1, body))]));
      });
    parts.push(bytesField(9, Buffer.concat(codes)));
  }
  parts.push(...vendorExtensions(13, node));
  return Buffer.concat(parts);
}

const pathItemFields: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, options: 6, head: 7, patch: 8 };

function pathItem(node: JsonObject): Buffer {
  return Buffer.concat(
    Object.entries(node).flatMap(([method, op]) => (pathItemFields[method] !== undefined && isObject(op) ? [bytesField(pathItemFields[method], operation(op))] : [])),
  );
}

/** Encodes a v2 (swagger 2.0) JSON document as gnostic's openapi_v2.Document. */
export function encodeOpenapiV2(doc: JsonObject): Buffer {
  const info = isObject(doc['info']) ? doc['info'] : {};
  const paths = isObject(doc['paths']) ? doc['paths'] : {};
  const encodedPaths = Object.entries(paths)
    .filter(([, item]) => isObject(item))
    .map(([path, item]) => bytesField(2, Buffer.concat([stringField(1, path), bytesField(2, pathItem(item as JsonObject))])));
  return Buffer.concat([
    stringField(1, doc['swagger']),
    bytesField(2, Buffer.concat([stringField(1, info['title']), stringField(2, info['version'])])),
    bytesField(8, Buffer.concat(encodedPaths)),
    bytesField(9, namedSchemas(isObject(doc['definitions']) ? doc['definitions'] : {})),
  ]);
}
