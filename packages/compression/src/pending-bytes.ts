/**
 * Input a decoder could not use yet. Pieces are joined only once the unit
 * waiting for them (a block of megabytes, say) is complete, so a body arriving
 * in small pieces costs linear time, not a copy of the block per piece.
 */
export class PendingBytes {
  #pieces: Uint8Array[] = [];
  #length = 0;
  #needed = 1;

  get length(): number {
    return this.#length;
  }

  /** Adds a piece; returns everything pending as one buffer once the unit waited for is complete. */
  add(piece: Uint8Array): Buffer | undefined {
    this.#pieces.push(piece);
    this.#length += piece.length;
    if (this.#length < this.#needed) return undefined;
    const all = this.#pieces.length === 1 ? Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength) : Buffer.concat(this.#pieces, this.#length);
    this.#pieces = [];
    this.#length = 0;
    return all;
  }

  /** Keeps what was left over (copied: it may be a view of the caller's piece) and how much the next unit needs. */
  keep(rest: Uint8Array, needed: number): void {
    this.#pieces = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.#length = rest.length;
    this.#needed = Math.max(1, needed);
  }
}
