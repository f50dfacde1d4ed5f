/**
 * The relay of a room message: the client's own line, with the sender's
 * name put in, instead of a parse and a fresh serialisation.
 *
 * The server cannot open an `e2e-chat` box, so all it does per message is
 * check the frame's shape and stamp `from`. Parsing the JSON into an object,
 * checking its four fields, then writing the same values back out as JSON
 * was most of stage 8's extra work per message over stage 7. A line our
 * clients write (JSON.stringify of the frame, fields in schema order) is
 * matched instead by one anchored pattern; its values are then checked by
 * the schema's own field validators (the same rules as the decoder's), and
 * the relay is the line with `"from":"<name>",` inserted after the type:
 * byte for byte what `encodeServerFrame` would have written.
 *
 * Any other spelling (spaces, another field order, escapes, an extra field
 * such as a forged `from`) does not match, and goes through the full
 * decoder, which accepts it or refuses it with a code as before. So the
 * shortcut never accepts a line the decoder would refuse, never lets a
 * client choose `from`, and never makes a relay longer than the canonical one.
 *
 * @module
 */
import { E2E_CHAT_REQUEST } from './messages';

// What JSON.stringify writes for an e2e-chat request: exactly these fields,
// in this order, integers without leading zeros, strings with no escapes.
const CANONICAL =
  /^\{"type":"e2e-chat","epoch":(0|[1-9]\d{0,15}),"counter":(0|[1-9]\d{0,9}),"box":"([^"\\]*)","sig":"([^"\\]*)"\}$/;
const TYPE_PREFIX = '{"type":"e2e-chat",';
const { epoch, counter, box, sig } = E2E_CHAT_REQUEST.fields;

/**
 * The start of every relay of one sender's messages, computed once at login.
 *
 * @param username - the name the connection logged in as (the client cannot choose it)
 */
export function relayPrefix(username: string): string {
  return `{"type":"e2e-chat","from":${JSON.stringify(username)},`;
}

/**
 * The relay line (with its `\n`) for a client's `e2e-chat` line, when the
 * line is in the canonical form and its fields are valid; `undefined`
 * otherwise (then decode it with `decodeClientFrame`, which has the answer).
 *
 * @param text - one line from the client, without its line ending
 * @param prefix - {@link relayPrefix} of the sender
 */
export function relayCanonicalChat(text: string, prefix: string): string | undefined {
  const match = CANONICAL.exec(text);
  if (match === null) return undefined;
  const valid =
    epoch.accepts(Number(match[1])) &&
    counter.accepts(Number(match[2])) &&
    box.accepts(match[3]) &&
    sig.accepts(match[4]);
  return valid ? prefix + text.slice(TYPE_PREFIX.length) + '\n' : undefined;
}
