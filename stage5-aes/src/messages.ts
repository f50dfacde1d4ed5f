/**
 * Stage 5's vocabulary: every frame, in both directions, as JSON on one line.
 *
 * Stage 4 told a line's meaning by its first characters; from this stage on a
 * frame is a JSON object with a `type`, validated strictly at both ends with
 * the shared protocol module's schemas (exact fields, canonical base64, sizes).
 * The server stamps a client's `chat` with `from` and relays the box unchanged:
 *
 * ```text
 * client → server   {"type":"chat","box":"<base64>"}
 * server → client   {"type":"chat","from":"127.0.0.1:50312","box":"<base64>"}   box unchanged
 *                   {"type":"welcome","you":"127.0.0.1:50312","online":2}
 *                   {"type":"joined"|"left","who":"127.0.0.1:50318","online":2}
 *                       only while the room has at most PRESENCE_NOTICE_LIMIT (1,000) members
 *                   {"type":"error","code":"BAD_FRAME","message":"…"}
 * ```
 *
 * The chat request and the error frame are in shared/src/protocol.ts, because
 * stage 6 speaks them unchanged.
 *
 * @module
 */
import {
  associatedData,
  boxField,
  CHAT_REQUEST,
  createDecoder,
  encodeJsonFrame,
  encodeJsonFrames,
  ERROR_FRAME,
  frameSchema,
  integerField,
  PROTOCOL_VERSION,
  stringField,
  type Decoded,
  type FrameOf,
} from '../../shared/src/protocol';

// "IP:PORT" as the server formats it; the longest IPv6 form plus a port fits in 64.
const peerField = stringField({ minLength: 1, maxLength: 64 });
const countField = integerField({ min: 0, max: 1_000_000 });

/** Server → client: a relayed chat message and the `ip:port` the server saw it come from. */
export const CHAT_RELAY = frameSchema('chat', {
  /** The sender's `ip:port`, added by the server (not authenticated at this stage). */
  from: peerField,
  /** The sealed message exactly as the sender sent it. */
  box: boxField,
});
/** Server → newcomer: who you are and how many are online. */
export const WELCOME = frameSchema('welcome', {
  /** The newcomer's own `ip:port`, as the server sees it. */
  you: peerField,
  /** How many clients are connected, the newcomer included. */
  online: countField,
});
/**
 * Server → everyone else: someone joined. Sent only while the room, the
 * newcomer included, has at most `PRESENCE_NOTICE_LIMIT` members.
 */
export const JOINED = frameSchema('joined', {
  /** The newcomer's `ip:port`. */
  who: peerField,
  /** How many clients are connected now. */
  online: countField,
});
/**
 * Server → everyone left: someone left. Sent only if the room had at most
 * `PRESENCE_NOTICE_LIMIT` members before the leave.
 */
export const LEFT = frameSchema('left', {
  /** The `ip:port` of the client that left. */
  who: peerField,
  /** How many clients are still connected. */
  online: countField,
});

/** The chat request and the error frame, shared with stage 6 (see shared/src/protocol.ts). */
export { CHAT_REQUEST, ERROR_FRAME };

/** Every frame a stage 5 client may send. */
export type ClientFrame = FrameOf<typeof CHAT_REQUEST>;
/** Every frame a stage 5 server may send. */
export type ServerFrame =
  | FrameOf<typeof CHAT_RELAY>
  | FrameOf<typeof WELCOME>
  | FrameOf<typeof JOINED>
  | FrameOf<typeof LEFT>
  | FrameOf<typeof ERROR_FRAME>;

/** The server's decoder for what clients send. Never throws. */
export const decodeClientFrame: (text: string) => Decoded<ClientFrame> = createDecoder([
  CHAT_REQUEST,
]);
/** The client's decoder for what the server sends. Never throws. */
export const decodeServerFrame: (text: string) => Decoded<ServerFrame> = createDecoder([
  CHAT_RELAY,
  WELCOME,
  JOINED,
  LEFT,
  ERROR_FRAME,
]);

/** Encodes a client frame as one line of bytes. */
export function encodeClientFrame(frame: ClientFrame): Buffer {
  return encodeJsonFrame(frame);
}

/** Encodes a server frame as one line of bytes. */
export function encodeServerFrame(frame: ServerFrame): Buffer {
  return encodeJsonFrame(frame);
}

/** Encodes several server frames as one buffer, one line each (for one write). */
export function encodeServerFrames(frames: readonly ServerFrame[]): Buffer {
  return encodeJsonFrames(frames);
}

/** The associated data of every stage 5 chat box: version 1, type `chat`, no sender. */
export function chatAssociatedData(): Buffer {
  return associatedData({ v: PROTOCOL_VERSION, type: 'chat' });
}
