/**
 * Why decompressing failed: the input is not what it claims (`corrupt`), or it
 * would decompress to more than the caller allowed (`too-large`, which is how a
 * compression bomb ends). Neither gets better by trying again.
 */
export class DecompressionError extends Error {
  readonly retriable = false;

  constructor(
    readonly reason: 'corrupt' | 'too-large',
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DecompressionError';
  }
}

/** Counts decompressed bytes against a limit; every decoder here reports its output through one. */
export class OutputBudget {
  #used = 0;

  constructor(
    readonly limit: number,
    private readonly what: string,
  ) {}

  get used(): number {
    return this.#used;
  }

  /** Throws before `bytes` more would pass the limit, so nothing that large is ever allocated. */
  reserve(bytes: number): void {
    if (this.#used + bytes > this.limit) {
      throw new DecompressionError('too-large', `${this.what} decompresses to more than ${this.limit} bytes`);
    }
    this.#used += bytes;
  }
}
