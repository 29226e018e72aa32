// Reading request bodies and writing JSON and Status responses.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { SimError } from './errors.ts';
import { decodeKubernetesProtobuf, isProtobuf } from './protobuf.ts';
import { storedObjectJson } from './object-json.ts';

const maxBody = 3 * 1024 * 1024;

/** The request body as text, or as JSON text when kubectl sent Kubernetes protobuf. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const raw = await readRawBody(req);
  if (isProtobuf(req.headers['content-type'] ?? '') && raw.length > 0) return JSON.stringify(decodeKubernetesProtobuf(raw));
  return raw.toString('utf8');
}

// Events rather than `for await`: an async iterator per request was a few per cent of a busy stand-in's CPU.
function readRawBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody) {
        reject(new SimError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
        req.destroy(); // as leaving a `for await` over it would
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => reject(new SimError(400, 'BadRequest', 'the request body ended early')));
  });
}

const objectMediaTypes = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

/**
 * The media type of a create or update body; an absent Content-Type means JSON, as kube-apiserver takes
 * it. Anything else (or an unparsable header) is a 415, never decoded as something it is not.
 */
export function objectMediaType(contentType: string | undefined): string {
  if (contentType === undefined || contentType.trim() === '') return 'application/json';
  const mediaType = /^\s*([!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+)\s*(;|$)/i.exec(contentType)?.[1]?.toLowerCase();
  if (mediaType === undefined || !objectMediaTypes.includes(mediaType)) {
    throw new SimError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${objectMediaTypes.join(', ')}`);
  }
  return mediaType;
}

export function parseJsonBody(text: string, contentType: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    if (/yaml/.test(contentType)) return parseYaml(text) as unknown;
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new SimError(400, 'BadRequest', `the body of the request could not be decoded: ${(err as Error).message}`);
  }
}

export function sendJSON(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  sendText(res, code, JSON.stringify(body), contentType);
}

function sendText(res: ServerResponse, code: number, text: string, contentType: string): void {
  res.writeHead(code, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache, private' });
  res.end(text);
}

/** An object as it is stored (never changed again): its text is shared with the watchers that sent it. */
export function sendStoredObject(res: ServerResponse, code: number, object: object): void {
  sendText(res, code, storedObjectJson(object), 'application/json');
}

export function sendError(res: ServerResponse, err: unknown): void {
  const simError = err instanceof SimError ? err : new SimError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJSON(res, simError.code, simError.toStatus());
}
