/**
 * Checking a group of JSON fields against their validators, outside a frame
 * decoder.
 *
 * Introduced by stage 8. The end-to-end modules (key bundles, pairwise boxes,
 * room messages) each define the fields they travel in, as validators a
 * stage's frame schema spreads in. Their decoders also accept a plain object
 * (a bundle inside a `register` frame, a row read back from the database), so
 * they validate again here, with the same validators and the same
 * `BAD_FRAME` messages, before turning base64 into bytes.
 *
 * @module
 */
import { ChatError } from './errors';
import type { Field } from './protocol';

/**
 * Checks that `value` is an object whose fields named in `spec` all pass
 * their validators (other fields are the frame's business), and returns it
 * typed.
 *
 * @param spec - validators by field name
 * @param value - anything from outside
 * @param what - names the group in the error, e.g. `"room message"`
 * @throws ChatError `BAD_FRAME` naming the first bad field
 */
export function checkFields<S extends Record<string, Field<unknown>>>(
  spec: S,
  value: unknown,
  what: string,
): { [K in keyof S]: S[K] extends Field<infer V> ? V : never } {
  const fields = (typeof value === 'object' && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  for (const [name, field] of Object.entries(spec)) {
    if (!field.accepts(fields[name])) {
      throw new ChatError('BAD_FRAME', `${what} field "${name}" must be ${field.expected}`);
    }
  }
  return fields as { [K in keyof S]: S[K] extends Field<infer V> ? V : never };
}
