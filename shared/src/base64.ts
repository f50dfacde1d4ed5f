/**
 * Canonical base64: the form every box, key and signature takes on the wire.
 *
 * Introduced by stage 5, for its sealed boxes (`base64Field` in
 * protocol.ts); stage 8 checks its keys and signatures with it too.
 *
 * Node's `Buffer.from(text, 'base64')` is lenient: it skips characters it
 * does not know and ignores the unused bits of the last character, so
 * "AB==" and "AQ==" decode to the same byte. A protocol that accepted both
 * would have two spellings of one message; these checks accept exactly the
 * text `buffer.toString('base64')` writes.
 *
 * @module
 */

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
// Each byte's 6-bit value in base64, or -1 if it is not in the alphabet.
const BASE64_VALUES = new Int8Array(256).fill(-1);
for (let i = 0; i < BASE64_ALPHABET.length; i++) BASE64_VALUES[BASE64_ALPHABET.charCodeAt(i)] = i;
const PAD = 0x3d; // '='

/**
 * {@link isBase64} for text held as bytes (ASCII), e.g. a box still inside
 * the line it arrived in.
 *
 * One loop over the bytes with a lookup table: the relay checks every chat
 * box it forwards, and a regular expression over the box's text cost it
 * more instructions, plus a string made from the bytes to run it on
 * (counted with valgrind: bench/README.md, "Instructions per delivery").
 *
 * @param bytes - candidate base64, one byte per character
 */
export function isBase64Bytes(bytes: Uint8Array): boolean {
  const length = bytes.length;
  if (length % 4 !== 0) return false;
  // One or two '=' may end it; nothing else may be one.
  let end = length;
  if (end > 0 && bytes[end - 1] === PAD) end--;
  if (end < length && bytes[end - 1] === PAD) end--;
  let invalid = 0;
  for (let i = 0; i < end; i++) invalid |= BASE64_VALUES[bytes[i]!]!; // -1 sets the sign bit
  if (invalid < 0) return false;
  // Padding leaves bits of the last character unused: 4 bits before "==", 2
  // before "=". A decoder ignores them, so "AB==" and "AQ==" decode alike;
  // the canonical form has them zero. Checking that character is enough (a
  // decode and re-encode would say the same, at the price of two copies).
  const padding = length - end;
  return padding === 0 || BASE64_VALUES[bytes[end - 1]!]! % (padding === 2 ? 16 : 4) === 0;
}

/**
 * Whether `text` is canonical standard base64 with padding. Node's
 * `Buffer.from(text, 'base64')` skips characters it does not know, so a
 * decoder that skipped this check would accept garbage as bytes.
 *
 * @param text - candidate base64
 */
export function isBase64(text: string): boolean {
  // A character outside ASCII takes more than one byte in UTF-8, so equal
  // lengths mean every byte is one character.
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length === text.length && isBase64Bytes(bytes);
}

/**
 * How many bytes valid base64 decodes to, without decoding it.
 *
 * @param text - valid base64, as a string or as its ASCII bytes
 */
export function base64ByteLength(text: string | Uint8Array): number {
  const n = text.length;
  let padding = 0;
  if (typeof text === 'string') padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  else if (n > 0 && text[n - 1] === PAD) padding = text[n - 2] === PAD ? 2 : 1;
  return (n / 4) * 3 - padding;
}
