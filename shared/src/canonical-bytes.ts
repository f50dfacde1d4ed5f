/**
 * Canonical byte records: the exact bytes that get signed, hashed or bound as
 * associated data.
 *
 * Introduced by stage 8. A signature covers bytes, not meaning, so signer and
 * verifier must build the *same* bytes from the same fields, and two different
 * field lists must never build the same bytes. JSON text fails both tests: key
 * order, spacing, escapes (`"é"` or `"\u00e9"`) and number forms (`1` or `1.0`)
 * vary between encoders, and a relay may re-encode a frame. So nothing in the
 * end-to-end layer signs JSON; it signs a record built here:
 *
 * ```text
 * record = label, field, field, ...     (in a fixed order per label)
 * string = u16 byte length | UTF-8 bytes
 * bytes  = u32 byte length | bytes
 * u32    = 4 bytes, big-endian
 * u64    = 8 bytes, big-endian (any safe integer)
 * ```
 *
 * Every variable-length field carries its length, so `("ab", "c")` and
 * `("a", "bc")` differ; the label comes first (see the e2e-labels module), so
 * a record made for one purpose never parses as another. The writer is the
 * whole specification an independent implementation needs.
 *
 * @module
 */

const MAX_U16 = 0xffff;
// UTF-8 cannot encode a lone surrogate (Buffer.from would turn it into U+FFFD,
// so two different strings would sign alike): refuse it instead.
const LONE_SURROGATE = /\p{Cs}/u;
const MAX_U32 = 0xffff_ffff;

/**
 * Builds one canonical record. Chain the calls in the order the record's
 * specification gives, then {@link CanonicalWriter.finish}.
 *
 * @example
 * ```ts
 * new CanonicalWriter('demo').string('alice').u32(7).finish().toString('hex');
 * //=> '000464656d6f0005616c69636500000007'
 * ```
 */
export class CanonicalWriter {
  private readonly parts: Buffer[] = [];

  /**
   * @param label - the record's purpose, written first as a string field
   */
  constructor(label: string) {
    this.string(label);
  }

  /**
   * Appends a UTF-8 string with a 2-byte length.
   *
   * @param value - well-formed text of at most 65,535 UTF-8 bytes
   * @returns this writer, to chain
   */
  string(value: string): this {
    if (LONE_SURROGATE.test(value)) throw new RangeError('string holds a lone surrogate');
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length > MAX_U16) throw new RangeError(`string of ${bytes.length} bytes`);
    const length = Buffer.alloc(2);
    length.writeUInt16BE(bytes.length);
    this.parts.push(length, bytes);
    return this;
  }

  /**
   * Appends bytes with a 4-byte length.
   *
   * @param value - any bytes
   * @returns this writer, to chain
   */
  bytes(value: Uint8Array): this {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(value.length);
    this.parts.push(length, Buffer.from(value));
    return this;
  }

  /**
   * Appends an unsigned 32-bit integer (a counter).
   *
   * @param value - an integer from 0 to 2^32 - 1
   * @returns this writer, to chain
   */
  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > MAX_U32) {
      throw new RangeError(`${value} is not a u32`);
    }
    const out = Buffer.alloc(4);
    out.writeUInt32BE(value);
    this.parts.push(out);
    return this;
  }

  /**
   * Appends an unsigned 64-bit integer (an epoch). JSON carries numbers
   * exactly only up to 2^53 - 1, so that is the largest accepted.
   *
   * @param value - a safe integer, 0 or more
   * @returns this writer, to chain
   */
  u64(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${value} is not a u64`);
    const out = Buffer.alloc(8);
    out.writeBigUInt64BE(BigInt(value));
    this.parts.push(out);
    return this;
  }

  /** @returns the record's bytes */
  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}
