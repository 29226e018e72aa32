// Request bodies larger than the limit are refused with 413. A declared Content-Length is checked
// before anything is sent; a body of unknown length (chunked, or HTTP/2 without content-length) is
// counted as it streams to the shard and the request fails once it crosses the limit.
import { Transform, type TransformCallback } from 'node:stream';
import { GatewayError } from '../kube/gateway-error.ts';

export function bodyTooLarge(limit: number): GatewayError {
  return new GatewayError('BODY_TOO_LARGE', `the request body is larger than the limit of ${limit} bytes`);
}

export class BodyLimit extends Transform {
  readonly #limit: number;
  #seen = 0;

  constructor(limit: number) {
    super();
    this.#limit = limit;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.#limit) callback(bodyTooLarge(this.#limit));
    else callback(null, chunk);
  }
}
