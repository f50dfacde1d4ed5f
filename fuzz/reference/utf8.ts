/**
 * A strict UTF-8 decoder written from the table in RFC 3629 §4, byte by byte,
 * as an oracle: it shares no code with Node's `TextDecoder`, so when the two
 * disagree one of them is wrong.
 *
 * Strict means: no overlong forms (`C0 80` for NUL), no UTF-16 surrogates
 * (`ED A0 80`), nothing above U+10FFFF, no truncated sequences, no stray
 * continuation bytes. A byte-order mark (`EF BB BF`) is an ordinary character,
 * U+FEFF: a frame's text is what its sender sent, nothing dropped.
 */

/**
 * Decodes `bytes` as strict UTF-8.
 *
 * @param bytes - the candidate text
 * @returns the text, or `undefined` if the bytes are not valid UTF-8
 */
export function strictUtf8(bytes: Uint8Array): string | undefined {
  const parts: string[] = [];
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i]!;
    let codePoint: number;
    let continuation: number;
    let smallest: number;
    if (lead < 0x80) {
      parts.push(String.fromCharCode(lead));
      i++;
      continue;
    } else if (lead >= 0xc2 && lead <= 0xdf) {
      [codePoint, continuation, smallest] = [lead & 0x1f, 1, 0x80];
    } else if (lead >= 0xe0 && lead <= 0xef) {
      [codePoint, continuation, smallest] = [lead & 0x0f, 2, 0x800];
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      [codePoint, continuation, smallest] = [lead & 0x07, 3, 0x10000];
    } else {
      return undefined; // 80–C1 (continuation or overlong lead) and F5–FF never start a character
    }
    if (i + continuation >= bytes.length) return undefined; // truncated
    for (let k = 1; k <= continuation; k++) {
      const next = bytes[i + k]!;
      if ((next & 0xc0) !== 0x80) return undefined;
      codePoint = (codePoint << 6) | (next & 0x3f);
    }
    if (codePoint < smallest) return undefined; // overlong
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) return undefined; // a surrogate
    if (codePoint > 0x10ffff) return undefined;
    parts.push(String.fromCodePoint(codePoint));
    i += continuation + 1;
  }
  return parts.join('');
}

/** Whether a JavaScript string is well-formed UTF-16 (no lone surrogate halves). */
export function isWellFormed(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1); // NaN past the end
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return false;
    }
  }
  return true;
}
