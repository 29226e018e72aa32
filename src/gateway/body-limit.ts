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
  #overflowed = false;
  /**
   * Told of an oversized body instead of the stream failing, when set: its owner aborts the request. The
   * stream then drops what follows and never ends, so the shard cannot take the cut body for a whole one.
   * Told a turn later: undici 8 aborting an HTTP/2 stream it has only just opened (the body's first
   * chunk is already too large) leaves Node's HTTP/2 session stuck in native code, event loop and all.
   */
  onOverflow: ((err: GatewayError) => void) | undefined = undefined;

  constructor(limit: number, capture?: BodyCapture) {
    super();
    this.#limit = limit;
    this.#capture = capture;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#overflowed) return callback();
    this.#seen += chunk.length;
    if (this.#seen <= this.#limit) {
      this.#capture?.add(chunk);
      return callback(null, chunk);
    }
    if (this.onOverflow === undefined) return callback(bodyTooLarge(this.#limit));
    this.#overflowed = true;
    setImmediate(this.onOverflow, bodyTooLarge(this.#limit));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.#overflowed) callback();
  }
}
