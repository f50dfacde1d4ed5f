/**
 * Stage 6's vocabulary: the stage 5 frames plus register, login, who and bye,
 * and the associated data that binds a chat box to its sender's username.
 *
 * Built with the shared protocol module's strict validators, so every frame
 * either matches its schema exactly or is refused with `BAD_FRAME`.
 *
 * ```text
 * server → client   {"type":"hello","challenge":"<16 random bytes, base64>"}   on connect
 * client → server   {"type":"register","box":"…"} | {"type":"login","box":"…"}
 *                   box = seal(key, '{"username":…,"password":…,"challenge":…}', AD(type))
 * server → client   {"type":"welcome","user":"alice","count":2,"online":["bob","alice"]}
 *                 | {"type":"error","code":"AUTH_FAILED","message":"…"}  then close
 * client → server   {"type":"chat","box":"…"}     AD = (v1, "chat", sender = own username)
 *                   {"type":"who"}
 * server → client   {"type":"chat","from":"alice","box":"…"}   box relayed unchanged
 *                   {"type":"joined"|"left","who":"bob","online":2}
 *                       only while the room has at most PRESENCE_NOTICE_LIMIT (1,000) users
 *                   {"type":"who","count":2,"online":["bob","alice"]}
 *                   {"type":"ping"}     after a while of silence; the client answers
 * client → server   {"type":"pong"}
 * server → client   {"type":"bye","reason":"…"}
 *                   {"type":"error","code":"SERVICE_UNAVAILABLE","message":"…","retryAfterMs":1200}
 *                       `retryAfterMs` only when the server is busy: try again after that long
 * ```
 *
 * `count` is how many users are online; `online` names at most
 * {@link MAX_LISTED_USERS} of them. A list of everyone would not fit in one
 * frame once a few thousand users are online (10,000 names of up to 32
 * characters is over 300 KiB; frames stop at 16 KiB), and the newcomers who
 * could no longer be welcomed would be exactly the ones who cannot log in.
 *
 * `joined` and `left` stop in a big room, as Twitch's chat stops its join and
 * part notices above 1,000 chatters: each notice is one write per member, so
 * a room that fills up to N users costs about N²/2 writes (50 million for
 * 10,000), and nobody reads a stream of strangers arriving. The rule, by the
 * room's size: a change between n − 1 and n members is announced if and only
 * if n ≤ `PRESENCE_NOTICE_LIMIT` (shared/src/presence.ts, which stage 4
 * introduced). With the limit at 3, the 3rd login is
 * announced (the room now has 3), the 4th is not (4); a leave from a room of
 * 4 is not, the next leave (from 3) is. `welcome` and `who` still carry the
 * exact `count`.
 *
 * Why the `hello` challenge: the login box is sealed with the room key, so a
 * network observer cannot read it, but without a challenge they could *replay*
 * it on a new connection and log in as its owner. The server checks that the
 * sealed credentials carry the challenge it sent on this connection.
 *
 * @module
 */
import { BOX_OVERHEAD } from '../../shared/src/crypto';
import {
  anyField,
  arrayField,
  associatedData,
  base64Field,
  boxField,
  CHAT_REQUEST,
  createDecoder,
  createObjectDecoder,
  encodeJsonFrame,
  ERROR_FRAME as SHARED_ERROR_FRAME,
  frameSchema,
  integerField,
  optionalField,
  PROTOCOL_VERSION,
  stringField,
  type Decoded,
  type FrameOf,
} from '../../shared/src/protocol';

/** Bytes of randomness in a `hello` challenge. */
export const CHALLENGE_BYTES = 16;
// Credentials are small; 1 KiB of plaintext leaves room for hostile values
// (that the server answers with BAD_USERNAME or BAD_PASSWORD, not BAD_FRAME).
const MAX_CREDENTIALS_BYTES = 1024;

const challengeField = base64Field({ minBytes: CHALLENGE_BYTES, maxBytes: CHALLENGE_BYTES });
const credentialsBox = base64Field({
  minBytes: BOX_OVERHEAD,
  maxBytes: MAX_CREDENTIALS_BYTES + BOX_OVERHEAD,
});
// The server only ever sends validated usernames; clients check the shape
// anyway (and sanitize before printing): the server is not trusted either.
const userField = stringField({ minLength: 1, maxLength: 32 });

/**
 * Most usernames one `welcome` or `who` frame names. Fifty usernames of at
 * most 32 ASCII characters are under 2 KiB of JSON, far below the 16 KiB
 * frame limit however many users are online; the frame's `count` says how
 * many there are in all.
 */
export const MAX_LISTED_USERS = 50;
const onlineField = arrayField(userField, { maxItems: MAX_LISTED_USERS });
const countField = integerField({ min: 0, max: 1_000_000 });

/** Server → new connection: a fresh random challenge to seal into the credentials. */
export const HELLO = frameSchema('hello', {
  /** Random bytes (base64) the client must seal into its credentials, so a recorded login cannot be replayed. */
  challenge: challengeField,
});
/** Client → server: create an account and log in with it. */
export const REGISTER = frameSchema('register', {
  /** Sealed JSON credentials: username, password and the server's challenge. */
  box: credentialsBox,
});
/** Client → server: log in to an existing account. */
export const LOGIN = frameSchema('login', {
  /** Sealed JSON credentials: username, password and the server's challenge. */
  box: credentialsBox,
});
/** Client → server: who is online? (no fields) */
export const WHO_REQUEST = frameSchema('who', {});
/** Server → client: logged in; your canonical username and who is online. */
export const WELCOME = frameSchema('welcome', {
  /** The username as stored (the login's canonical name). */
  user: userField,
  /** How many users are online now, the newcomer included. */
  count: countField,
  /** Up to {@link MAX_LISTED_USERS} of them, longest online first (the newcomer comes last, if listed). */
  online: onlineField,
});
/** Server → client: the answer to a `who` request. */
export const WHO = frameSchema('who', {
  /** How many users are online now. */
  count: countField,
  /** Up to {@link MAX_LISTED_USERS} of them, longest online first. */
  online: onlineField,
});
/** Server → client: a chat box relayed unchanged, labelled with its sender's username. */
export const CHAT_RELAY = frameSchema('chat', {
  /** The sender's authenticated username; receivers check it against the box's associated data. */
  from: userField,
  /** The sealed message exactly as the sender sent it. */
  box: boxField,
});
/**
 * Server → everyone else: a user logged in. Sent only while the room, the
 * newcomer included, has at most `PRESENCE_NOTICE_LIMIT` members.
 */
export const JOINED = frameSchema('joined', {
  /** Who logged in. */
  who: userField,
  /** How many users are online now. */
  online: countField,
});
/**
 * Server → everyone left: a user left. Sent only if the room had at most
 * `PRESENCE_NOTICE_LIMIT` members before the leave.
 */
export const LEFT = frameSchema('left', {
  /** Who left. */
  who: userField,
  /** How many users are still online. */
  online: countField,
});
/** Server → everyone: the server is going away (sent on SIGINT/SIGTERM). */
export const BYE = frameSchema('bye', {
  /** Why the server is closing the connection. */
  reason: stringField({ maxLength: 200 }),
});

/**
 * Server → a client that has said nothing for a while: are you still there?
 * Any frame from the client counts as an answer; the stage 6 client answers
 * with `pong` by itself. See the server's `idleTimeoutMs`.
 */
export const PING = frameSchema('ping', {});
/** Client → server: the answer to `ping` (no fields). */
export const PONG = frameSchema('pong', {});
/**
 * Server → client: its last frame was refused, and why (a stable code). The
 * shared error frame (`code`, `message`), plus one field: when the server is
 * only busy it adds `retryAfterMs`, try again after that many milliseconds
 * (the stage 6 client does so by itself).
 */
export const ERROR_FRAME = frameSchema('error', {
  ...SHARED_ERROR_FRAME.fields,
  /** Present when trying again later can work: the milliseconds to wait first. */
  retryAfterMs: optionalField(integerField({ min: 1, max: 3_600_000 })),
});

/** The stage 5 chat request, unchanged: `{"type":"chat","box":…}`. */
export { CHAT_REQUEST };

/** Every frame a stage 6 client may send. */
export type ClientFrame =
  | FrameOf<typeof REGISTER>
  | FrameOf<typeof LOGIN>
  | FrameOf<typeof CHAT_REQUEST>
  | FrameOf<typeof WHO_REQUEST>
  | FrameOf<typeof PONG>;

/** Every frame a stage 6 server may send. */
export type ServerFrame =
  | FrameOf<typeof HELLO>
  | FrameOf<typeof WELCOME>
  | FrameOf<typeof WHO>
  | FrameOf<typeof CHAT_RELAY>
  | FrameOf<typeof JOINED>
  | FrameOf<typeof LEFT>
  | FrameOf<typeof BYE>
  | FrameOf<typeof PING>
  | FrameOf<typeof ERROR_FRAME>;

/**
 * Every server frame a user may be shown: all but `ping`, which the client
 * answers by itself (see `FrameStream` in `client-login.ts`).
 */
export type ShownFrame = Exclude<ServerFrame, FrameOf<typeof PING>>;

/** A login or register frame. */
export type AuthFrame = FrameOf<typeof REGISTER> | FrameOf<typeof LOGIN>;

/** The server's decoder for what clients send. Never throws. */
export const decodeClientFrame: (text: string) => Decoded<ClientFrame> = createDecoder([
  REGISTER,
  LOGIN,
  CHAT_REQUEST,
  WHO_REQUEST,
  PONG,
]);

/** The client's decoder for what the server sends. Never throws. */
export const decodeServerFrame: (text: string) => Decoded<ServerFrame> = createDecoder([
  HELLO,
  WELCOME,
  WHO,
  CHAT_RELAY,
  JOINED,
  LEFT,
  BYE,
  PING,
  ERROR_FRAME,
]);

/** The `count` and `online` fields of a `welcome` or `who` frame. */
export interface OnlineListing {
  /** How many users are online. */
  count: number;
  /** The first {@link MAX_LISTED_USERS} of them. */
  online: string[];
}

/**
 * Who is online, as a `welcome` or `who` frame says it: the total, and the
 * first {@link MAX_LISTED_USERS} usernames. It reads only the names it lists,
 * so answering costs the same with 10 or 10,000 users online.
 *
 * @param online - the online table; a `Map` iterates in insertion order,
 *   so the names come longest online first
 * @returns the frame fields, e.g. `{ count: 2, online: ['bob', 'alice'] }`
 *
 * @example
 * ```ts
 * send({ type: 'welcome', user: 'alice', ...listOnline(online) });
 * ```
 */
export function listOnline(online: ReadonlyMap<string, unknown>): OnlineListing {
  const names: string[] = [];
  for (const name of online.keys()) {
    if (names.push(name) === MAX_LISTED_USERS) break;
  }
  return { count: online.size, online: names };
}

/** Encodes a client frame as one line of bytes. */
export function encodeClientFrame(frame: ClientFrame): Buffer {
  return encodeJsonFrame(frame);
}

/** Encodes a server frame as one line of bytes. */
export function encodeServerFrame(frame: ServerFrame): Buffer {
  return encodeJsonFrame(frame);
}

/**
 * The associated data of a chat box in stage 6: version, type `chat`, and the
 * sender's username. The sender seals with its own name; each receiver opens
 * with the `from` the server attached. A client that seals under another
 * name is relabelled by the server with its real one, and every receiver's
 * `open` fails: nobody can speak as someone else.
 *
 * @param sender - the authenticated username of the sender
 */
export function chatAssociatedData(sender: string): Buffer {
  return associatedData({ v: PROTOCOL_VERSION, type: 'chat', sender });
}

/**
 * The associated data of a credentials box: version and frame type, so a
 * `register` box cannot be replayed as a `login` or as a chat message.
 *
 * @param type - `'register'` or `'login'`
 */
export function credentialsAssociatedData(type: AuthFrame['type']): Buffer {
  return associatedData({ v: PROTOCOL_VERSION, type });
}

// The plaintext inside a credentials box: a JSON object with exactly these
// three fields, a schema like every frame's. Their values are not judged
// here: the handshake validates them, so a username that is not a string is
// `BAD_USERNAME` (and a password `BAD_PASSWORD`), not a vague `BAD_FRAME`.
const decodeCredentials = createObjectDecoder(
  'credentials',
  { username: anyField, password: anyField, challenge: anyField },
  { maxBytes: MAX_CREDENTIALS_BYTES },
);

/** What a credentials box holds, before validation (values are untrusted). */
export interface Credentials {
  /** Whatever the client put there: validate with `validateUsername`. */
  username: unknown;
  /** Whatever the client put there: validate with the password policy. */
  password: unknown;
  /** The challenge from this connection's `hello`. */
  challenge: unknown;
}

/**
 * Formats the plaintext of a credentials box.
 *
 * @param username - the username
 * @param password - the password
 * @param challenge - the `challenge` from the server's `hello`
 */
export function formatCredentials(username: string, password: string, challenge: string): string {
  return JSON.stringify({ username, password, challenge });
}

/**
 * Parses the plaintext of a credentials box: a JSON object with exactly the
 * fields `username`, `password` and `challenge`. Their *values* are left for
 * the caller to validate, so a non-string username gets `BAD_USERNAME`.
 *
 * @param plaintext - the opened box
 * @throws ChatError `BAD_FRAME` if it is not such an object
 */
export function parseCredentials(plaintext: string): Credentials {
  const decoded = decodeCredentials(plaintext);
  if (!decoded.ok) throw decoded.error;
  return decoded.frame;
}
