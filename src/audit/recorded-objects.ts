// requestObject and responseObject of an Event, from the bodies the gateway kept as they streamed past.
// kube-apiserver records the objects it decoded; the gateway has no scheme, so it records JSON bodies as
// they were sent and says in an annotation why it left one out: larger than the bound (kube's truncate
// plugin marks such events audit.k8s.io/truncated), compressed, protobuf (which no one decodes without
// the types' scheme), or not JSON at all.
import { parse as parseYaml } from 'yaml';
import type { BodyCapture } from '../gateway/body-capture.ts';

export interface RecordedObjects {
  requestObject?: unknown;
  responseObject?: unknown;
  annotations: Record<string, string>;
}

export const truncatedAnnotation = 'audit.k8s.io/truncated';
export const requestOmittedAnnotation = 'kcp-edge.io/request-object-omitted';
export const responseOmittedAnnotation = 'kcp-edge.io/response-object-omitted';

export function recordedObjects(request: BodyCapture | undefined, response: BodyCapture | undefined, omitManagedFields: boolean): RecordedObjects {
  const recorded: RecordedObjects = { annotations: {} };
  const req = decodeBody(request, omitManagedFields);
  if (req !== undefined) {
    if ('object' in req) recorded.requestObject = req.object;
    else noteOmission(recorded, requestOmittedAnnotation, req);
  }
  const res = decodeBody(response, omitManagedFields);
  if (res !== undefined) {
    if ('object' in res) recorded.responseObject = res.object;
    else noteOmission(recorded, responseOmittedAnnotation, res);
  }
  return recorded;
}

type Decoded = { object: unknown } | { omitted: string; truncated: boolean };

function noteOmission(recorded: RecordedObjects, key: string, decoded: { omitted: string; truncated: boolean }): void {
  recorded.annotations[key] = decoded.omitted;
  if (decoded.truncated) recorded.annotations[truncatedAnnotation] = 'true';
}

/** undefined: there was no body to record. */
function decodeBody(capture: BodyCapture | undefined, omitManagedFields: boolean): Decoded | undefined {
  if (capture === undefined || capture.size === 0) return undefined;
  const bytes = capture.bytes();
  if (bytes === undefined) return { omitted: `the body of ${capture.size} bytes is larger than the audit limit of ${capture.limit} bytes`, truncated: true };
  const encoding = capture.contentEncoding.trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') return { omitted: `the body is ${encoding}-encoded and not decoded for the audit log`, truncated: false };
  const mediaType = capture.contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (mediaType.includes('protobuf')) return { omitted: `${mediaType} is not decoded: that needs the types' scheme, which the gateway does not have`, truncated: false };
  const yaml = mediaType.endsWith('+yaml') || mediaType.endsWith('/yaml');
  if (mediaType !== '' && mediaType !== 'application/json' && !mediaType.endsWith('+json') && !yaml) {
    return { omitted: `${mediaType} is not JSON`, truncated: false };
  }
  const text = bytes.toString('utf8');
  let object: unknown;
  try {
    object = JSON.parse(text);
  } catch {
    // kubectl sends server-side apply patches as JSON under the YAML media type; a real YAML one is rarer.
    if (!yaml) return { omitted: 'the body is not valid JSON', truncated: false };
    try {
      object = parseYaml(text);
    } catch {
      return { omitted: 'the body is not valid YAML', truncated: false };
    }
  }
  if (omitManagedFields) withoutManagedFields(object);
  return { object };
}

/** kube's omitManagedFields: from an object's metadata, and from each item of a list. */
function withoutManagedFields(value: unknown): void {
  if (!isRecord(value)) return;
  if (isRecord(value['metadata'])) delete value['metadata']['managedFields'];
  const items = value['items'];
  if (Array.isArray(items)) for (const item of items) if (isRecord(item) && isRecord(item['metadata'])) delete item['metadata']['managedFields'];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
