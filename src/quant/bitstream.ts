/**
 * Bit-level writing and reading, least significant bit first within each byte (the order of
 * DEFLATE, RFC 1951 section 3.1.1), for the fixed-width and Huffman-coded streams of a
 * Deep Compression file.
 *
 * @module
 */

/** Appends values of any width up to 32 bits to a growing byte buffer. */
export class BitWriter {
  #bytes = new Uint8Array(1024);
  #bits = 0;

  /** Bits written so far. */
  get bitLength(): number {
    return this.#bits;
  }

  /** Writes the `width` low bits of `value`, least significant first. */
  write(value: number, width: number): void {
    for (let b = 0; b < width; b++) this.#writeBit((value >>> b) & 1);
  }

  /** Writes a code whose first bit is its most significant (a Huffman code of `length` bits). */
  writeCode(code: number, length: number): void {
    for (let b = length - 1; b >= 0; b--) this.#writeBit((code >>> b) & 1);
  }

  #writeBit(bit: number): void {
    const byte = this.#bits >>> 3;
    if (byte >= this.#bytes.length) {
      const grown = new Uint8Array(this.#bytes.length * 2);
      grown.set(this.#bytes);
      this.#bytes = grown;
    }
    this.#bytes[byte] |= bit << (this.#bits & 7);
    this.#bits++;
  }

  /** The bytes written, the last one padded with zero bits. */
  finish(): Uint8Array {
    return this.#bytes.slice(0, Math.ceil(this.#bits / 8));
  }
}

/** Reads what a `BitWriter` wrote. */
export class BitReader {
  readonly #bytes: Uint8Array;
  #bits = 0;

  /** @param bytes the stream, least significant bit first */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** Reads one bit; throws past the end of the stream. */
  bit(): number {
    const byte = this.#bits >>> 3;
    if (byte >= this.#bytes.length) throw new RangeError("bit stream ended early");
    const bit = (this.#bytes[byte] >>> (this.#bits & 7)) & 1;
    this.#bits++;
    return bit;
  }

  /** Reads a `width`-bit value written by `BitWriter.write`. */
  read(width: number): number {
    let value = 0;
    for (let b = 0; b < width; b++) value |= this.bit() << b;
    return value >>> 0;
  }
}
