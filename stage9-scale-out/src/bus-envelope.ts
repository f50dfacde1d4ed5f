/**
 * The bus's wire format: how a frame travels from one node to the others.
 *
 * A node that receives a chat frame from one of its members has already
 * encoded the line its members will read. It wraps that line, unchanged, in
 * an *envelope*: one ASCII header line, then the frame's bytes.
 *
 * ```text
 * chat-bus/2 room node-a~9f86d081 42 1796601600000 alice - MAC\n{"type":"chat",...}\n
 * chat-bus/2 direct node-a~9f86d081 7 1796601600250 alice bob MAC\n{"type":"keybox",...}\n
 * ```
 *
 * Header fields, separated by one space: the version, the kind (`room` for
 * everyone, `direct` for one user), the origin node id, the sequence number,
 * the time it was sent (ms since 1970, by Redis's clock: `redis-clock.ts`),
 * the sending user, the recipient (`-` for the room), and the MAC: an
 * HMAC-SHA256 of the header before it and the frame, under the cluster's bus
 * key (`bus-keys.ts`).
 *
 * Why this shape:
 * - **Never re-encode.** The receiving node writes the frame part, a slice of
 *   the message Redis delivered (no copy), to each of its members. A JSON
 *   wrapper would escape every quote of the inner JSON and force a parse and a
 *   re-serialisation per message.
 * - **Exactly once, in order.** `origin` + `seq` identify a message: each
 *   origin numbers its `room` envelopes 1, 2, 3…, and its `direct` ones on a
 *   separate counter, so a receiver can drop a repeat (seq not above the last
 *   one seen) and count room messages it missed (a jump).
 * - **Versioned, signed and validated.** Anything that can `PUBLISH` to Redis
 *   can put bytes on the bus; a node checks the MAC and every field, and
 *   refuses the envelope with `BAD_FRAME` rather than deliver something
 *   forged or malformed to its members. (`chat-bus/1` had no MAC: whoever
 *   could publish could speak as anyone, or mute a node with one huge
 *   sequence number.)
 * - **Fresh.** A node refuses an envelope sent more than a minute from its
 *   own reading of the cluster's clock. The relay drops a repeat from an
 *   origin it has heard, but a node that never heard an origin (it started
 *   later, or restarted) would take a recording of that origin's envelopes
 *   as new: only the time, signed with the rest, tells it they are old. A
 *   node also refuses one sent well before it joined the bus, however recent
 *   (pub/sub never delivers what was published before a subscription, so
 *   only a recording can be that early).
 *
 * @module
 */
import { isUtf8 } from 'node:buffer';
import { ChatError } from '../../shared/src/errors';
import { USERNAME_PATTERN } from '../../shared/src/user-record';
import type { BusKeys } from './bus-keys';
import { NODE_ID_PATTERN } from './cluster-keys';

/** The first header field; a node refuses any other version. */
export const BUS_VERSION = 'chat-bus/2';

/** Longest frame an envelope may carry, in bytes, when no other limit is given: 64 KiB. */
export const DEFAULT_MAX_BUS_FRAME_BYTES = 64 * 1024;

const LF = 0x0a;
const MAX_HEADER_BYTES = 256;
const NUMBER_PATTERN = /^[1-9][0-9]{0,15}$/;

/**
 * How far an envelope's send time may be from the receiver's clock, either
 * way: a minute. Wide enough for a busy node's queue and for a command
 * resent after a quick reconnect; narrow enough that a recording is soon
 * worthless.
 */
export const MAX_ENVELOPE_AGE_MS = 60_000;

/**
 * How long before a node joined the bus an envelope may have been sent and
 * still reach it: 5 s. Pub/sub delivers only what is published after a
 * subscription, so an envelope sent well before it is a recording. The
 * allowance is the time between the origin stamping an envelope and Redis
 * running its `PUBLISH`: milliseconds, or seconds when the origin's
 * connection dropped and the command was resent after reconnecting.
 */
export const MAX_PUBLISH_DELAY_MS = 5_000;

/**
 * Why a message sent at `sent` cannot be news to a node now, if it cannot:
 * over {@link MAX_ENVELOPE_AGE_MS} from `now` either way, or sent more than
 * {@link MAX_PUBLISH_DELAY_MS} before the node joined the bus. One rule for
 * envelopes and presence events (`presence-event.ts`), checked once the MAC
 * has made the time trustworthy.
 *
 * @param sent - the signed send time, ms by the cluster's clock
 * @param now - the receiver's reading of that clock
 * @param joinedAt - when the receiver last joined the bus; default: never checked
 * @returns the problem in words, or `undefined` if the message is fresh
 */
export function freshnessProblem(
  sent: number,
  now: number,
  joinedAt = -Infinity,
): string | undefined {
  const age = now - sent;
  if (Math.abs(age) > MAX_ENVELOPE_AGE_MS) {
    const seconds = Math.round(Math.abs(age) / 1000);
    return age > 0 ? `sent ${seconds} s ago: too old` : `sent ${seconds} s in the future`;
  }
  const early = joinedAt - sent;
  if (early > MAX_PUBLISH_DELAY_MS) {
    return `sent ${Math.round(early / 1000)} s before this node joined the bus: a recording`;
  }
  return undefined;
}

/** Options for {@link decodeEnvelope}. */
export interface DecodeOptions {
  /** The receiver's reading of the cluster's clock, in ms. Default: `Date.now()`. */
  now?: number;
  /** Longest accepted frame, its `\n` not counted. Default {@link DEFAULT_MAX_BUS_FRAME_BYTES}. */
  maxFrameBytes?: number;
  /**
   * When the receiver (last) joined the bus, in ms by the cluster's clock:
   * an envelope sent more than {@link MAX_PUBLISH_DELAY_MS} before it is
   * refused. Default: no such check.
   */
  joinedAt?: number;
}

/** What every envelope carries. */
interface EnvelopeBase {
  /** The node that published it (its id, unique to that run). */
  origin: string;
  /** Its number among the origin's envelopes of this kind: 1, 2, 3… */
  seq: number;
  /** The username of the member who sent it. */
  from: string;
  /**
   * The encoded frame for members: one line, ending in `\n`. Written to
   * sockets as it is; never parsed or re-encoded by the bus.
   */
  frame: Buffer;
}

/** A frame for every member of the room. */
export interface RoomEnvelope extends EnvelopeBase {
  /** Always `'room'`. */
  kind: 'room';
}

/** A frame for one user (a key box, an error), sent to the node that holds them. */
export interface DirectEnvelope extends EnvelopeBase {
  /** Always `'direct'`. */
  kind: 'direct';
  /** The recipient's username. */
  to: string;
}

/** Anything that travels on the bus between nodes. */
export type BusEnvelope = RoomEnvelope | DirectEnvelope;

/**
 * Encodes and signs an envelope for `PUBLISH`.
 *
 * @param envelope - fields as described in the module comment
 * @param keys - the cluster's bus keys (the first signs)
 * @param sentAt - now, in ms by the cluster's clock (`RedisClock.now()`)
 * @returns the header line followed by the frame's bytes
 * @throws Error if a field is malformed: a programming error, not bad input
 */
export function encodeEnvelope(envelope: BusEnvelope, keys: BusKeys, sentAt: number): Buffer {
  const to = envelope.kind === 'direct' ? envelope.to : '-';
  const { kind, origin, seq, from } = envelope;
  const signed = `${BUS_VERSION} ${kind} ${origin} ${seq} ${Math.floor(sentAt)} ${from} ${to}`;
  const problem = checkFields(signed.split(' '), envelope.frame);
  if (problem !== undefined) throw new Error(`encodeEnvelope: ${problem}`);
  const header = `${signed} ${keys.sign(signed, envelope.frame)}\n`;
  return Buffer.concat([Buffer.from(header, 'latin1'), envelope.frame]);
}

/**
 * Checks and decodes an envelope a node received from the bus.
 *
 * @param bytes - the message as Redis delivered it
 * @param keys - the cluster's bus keys (any of them may have signed it)
 * @param options - the receiver's clock and the frame limit
 * @returns the envelope; its `frame` is a view of `bytes` (no copy)
 * @throws ChatError `BAD_FRAME` naming the first problem found
 *
 * @example
 * ```ts
 * const keys = BusKeys.random();
 * const bytes = encodeEnvelope({ kind: 'room', origin: 'a~00000001', seq: 1, from: 'alice',
 *   frame: Buffer.from('hi\n') }, keys, Date.now());
 * decodeEnvelope(bytes, keys).seq; //=> 1
 * ```
 */
export function decodeEnvelope(
  bytes: Buffer,
  keys: BusKeys,
  options: DecodeOptions = {},
): BusEnvelope {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_BUS_FRAME_BYTES;
  const end = bytes.indexOf(LF);
  if (end < 0 || end > MAX_HEADER_BYTES) throw bad('no header line');
  const header = bytes.toString('latin1', 0, end);
  const frame = bytes.subarray(end + 1);
  if (frame.length > maxFrameBytes + 1) {
    throw bad(`frame of ${frame.length - 1} bytes is over the limit of ${maxFrameBytes}`);
  }
  const version = header.split(' ', 1)[0]!;
  if (version !== BUS_VERSION) throw bad(`unknown version ${JSON.stringify(version.slice(0, 20))}`);
  // Then the MAC: nothing an outsider wrote is looked at any further.
  const space = header.lastIndexOf(' ');
  const signed = header.slice(0, space);
  if (!keys.check(signed, frame, header.slice(space + 1))) {
    throw bad("MAC does not check: not signed with this cluster's key");
  }
  const fields = signed.split(' ');
  const problem = checkFields(fields, frame);
  if (problem !== undefined) throw bad(problem);
  const [, kind, origin, seq, sent, from, to] = fields as Fields;
  // Only now: the time is trusted because the MAC covers it.
  const stale = freshnessProblem(Number(sent), options.now ?? Date.now(), options.joinedAt);
  if (stale !== undefined) throw bad(stale);
  const base = { origin, seq: Number(seq), from, frame };
  return kind === 'room' ? { kind, ...base } : { kind: 'direct', to, ...base };
}

// One list of rules for both directions: what encode refuses to produce is
// exactly what decode refuses to accept.
type Fields = [string, string, string, string, string, string, string];

function checkFields(fields: string[], frame: Buffer): string | undefined {
  if (fields.length !== 7) return `header has ${fields.length} fields, expected 7`;
  const [version, kind, origin, seq, sent, from, to] = fields as Fields;
  if (version !== BUS_VERSION) return `unknown version ${JSON.stringify(version.slice(0, 20))}`;
  if (kind !== 'room' && kind !== 'direct') return `unknown kind ${JSON.stringify(kind)}`;
  if (!NODE_ID_PATTERN.test(origin)) return 'malformed origin node id';
  if (!isNumber(seq)) return 'malformed sequence';
  if (!isNumber(sent)) return 'malformed send time';
  if (!USERNAME_PATTERN.test(from)) return 'malformed sender';
  if (kind === 'room' ? to !== '-' : !USERNAME_PATTERN.test(to)) return 'malformed recipient';
  // The frame is one line: a \n only at its end, so a member's reader never
  // sees a peer's frame split into two.
  if (frame.length < 2 || frame.indexOf(LF) !== frame.length - 1) {
    return 'frame is not exactly one non-empty line';
  }
  if (!isUtf8(frame)) return 'frame is not valid UTF-8';
  return undefined;
}

function isNumber(field: string): boolean {
  return NUMBER_PATTERN.test(field) && Number.isSafeInteger(Number(field));
}

function bad(problem: string): ChatError {
  return new ChatError('BAD_FRAME', `bus envelope refused: ${problem}`);
}
