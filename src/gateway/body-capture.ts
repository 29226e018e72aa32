// A body as it streams past, kept for an observer (the audit log) up to a bound. It holds references to
// the chunks already on their way, so it neither copies nor waits; past the bound it drops what it held
// and only counts, so a large body costs no memory. The forwarder never looks at what it keeps.
export class BodyCapture {
  readonly limit: number;
  /** The body's media type and encoding as its sender declared them ('' when it declared none). */
  contentType = '';
  contentEncoding = '';
  #chunks: Buffer[] | undefined = [];
  #size = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  add(chunk: Buffer): void {
    this.#size += chunk.length;
    if (this.#chunks === undefined) return;
    if (this.#size > this.limit) this.#chunks = undefined;
    else this.#chunks.push(chunk);
  }

  /** Bytes seen, kept or not. */
  get size(): number {
    return this.#size;
  }

  /** The whole body, or undefined once it grew past the limit. */
  bytes(): Buffer | undefined {
    const chunks = this.#chunks;
    if (chunks === undefined) return undefined;
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.#size);
  }
}
