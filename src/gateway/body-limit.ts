// Request bodies larger than the limit are refused with 413. A declared Content-Length is checked
// before anything is sent; a body of unknown length (chunked, or HTTP/2 without content-length) is
// counted as it streams to the shard and the request fails once it crosses the limit. The same pass
// hands each chunk to a capture when an observer asked for the body.
import { Transform, type TransformCallback } from 'node:stream';
import { GatewayError } from '../kube/gateway-error.ts';
import type { BodyCapture } from './body-capture.ts';

export function bodyTooLarge(limit: number): GatewayError {
  return new GatewayError('BODY_TOO_LARGE', `the request body is larger than the limit of ${limit} bytes`);
}

export class BodyLimit extends Transform {
  readonly #limit: number;
  readonly #capture: BodyCapture | undefined;
  #seen = 0;

  constructor(limit: number, capture?: BodyCapture) {
    super();
    this.#limit = limit;
    this.#capture = capture;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.#limit) return callback(bodyTooLarge(this.#limit));
    this.#capture?.add(chunk);
    callback(null, chunk);
  }
}
