/**
 * The relay's short cut for its commonest frame: a chat request in the form
 * every client sends, recognised from its bytes and relayed as bytes.
 *
 * Introduced by stage 5; stage 6 uses it too. Their servers relay
 * `{"type":"chat","box":…}` thousands of times a second, and the general
 * path does a lot per frame:
 * decode the line's UTF-8 into a string, `JSON.parse` it into an object,
 * check the fields, then `JSON.stringify` a new object with `from` and
 * encode that string back into bytes. The box never changes on the way
 * through, so for the one form a client's `JSON.stringify` produces the
 * server can skip all of that: compare the bytes around the box, check the
 * box itself with the very validator the schema uses (`boxField`), and
 * write the sender's label, the box's bytes and the closing bytes.
 *
 * Nothing is accepted here that the general path would refuse: the fixed
 * bytes and a box of base64 characters (no `"`, no `\`, all ASCII) make the
 * line exactly that JSON object, valid UTF-8, with exactly the fields
 * `type` and `box`, and the box passed the same check. Anything else
 * (other spacing, another field order, a bad box) is not refused here:
 * it takes the general path, which accepts it or answers with the usual
 * coded error. And the bytes written are exactly those the general path
 * would encode (its test compares them).
 *
 * @module
 */
import { boxField, MAX_FRAME_BYTES } from './protocol';

// What a client's JSON.stringify({ type: 'chat', box }) writes around the box.
const REQUEST_HEAD = Buffer.from('{"type":"chat","box":"', 'latin1');
const REQUEST_TAIL = Buffer.from('"}', 'latin1');
// What ends a relayed chat frame, line ending included.
const RELAY_TAIL = Buffer.from('"}\n', 'latin1');

/**
 * Recognises a chat request in its canonical form,
 * `{"type":"chat","box":"<base64>"}`, and returns its box.
 *
 * @param line - one line's bytes, without its line ending (see `LineDecoder.split`)
 * @returns the box's bytes (a view of `line`, not a copy), or `undefined` if
 *   the line is anything else: then decode it the general way, which
 *   accepts or refuses it
 */
export function canonicalChatBox(line: Uint8Array): Uint8Array | undefined {
  const head = REQUEST_HEAD.length;
  const end = line.length - REQUEST_TAIL.length;
  if (end < head || line.length > MAX_FRAME_BYTES) return undefined;
  for (let i = 0; i < head; i++) if (line[i] !== REQUEST_HEAD[i]) return undefined;
  if (line[end] !== REQUEST_TAIL[0] || line[end + 1] !== REQUEST_TAIL[1]) return undefined;
  const box = line.subarray(head, end);
  // The schema's own check, on the bytes: no string is made of them.
  return boxField.acceptsBytes(box) ? box : undefined;
}

/**
 * Writes relayed chat frames as bytes: the same bytes as encoding
 * `{ type: 'chat', from, box }` with `JSON.stringify`, one line each, without
 * building the object or the string. One per sender: its label is encoded
 * once.
 */
export class ChatRelayWriter {
  // `{"type":"chat","from":<from as JSON>,"box":"`
  private readonly head: Buffer;

  /** @param from - the sender's label as the server assigned it (an address or a username) */
  constructor(from: string) {
    this.head = Buffer.from(`{"type":"chat","from":${JSON.stringify(from)},"box":"`, 'utf8');
  }

  /**
   * Appends one relayed frame's parts to `parts`, for one `Buffer.concat`
   * of everything a read completed.
   *
   * @param parts - the buffers of the frames so far
   * @param box - the box's bytes, from {@link canonicalChatBox}
   */
  append(parts: Uint8Array[], box: Uint8Array): void {
    parts.push(this.head, box, RELAY_TAIL);
  }
}
