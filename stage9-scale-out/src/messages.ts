/**
 * Stage 9's vocabulary is stage 7's, unchanged: same frames, same ALPN name,
 * so stage 7's client talks to any node of a cluster. What a cluster adds
 * travels in frames the client already knows: a split, a rejoin and a gap
 * are `error` frames that leave the connection open (`ROOM_SPLIT`,
 * `ROOM_REJOINED`, `MESSAGES_LOST`), a session taken over elsewhere ends with
 * `LOGGED_IN_ELSEWHERE`. What stage 7 said of its frames follows.
 *
 * Stage 7's vocabulary: stage 6's frames without the room key. TLS protects
 * every byte between the client and the server, so the frames carry plain
 * values: the login carries the password itself, a chat frame carries the
 * text itself. Only the server can read them (and it does: stage 8 takes the
 * chat out of its reach).
 *
 * ```text
 * client → server   {"type":"register","user":"alice","password":"…"}
 *                 | {"type":"login","user":"alice","password":"…"}
 *                 | {"type":"resume","user":"alice","ticket":"v1.…"}    no bcrypt
 * server → client   {"type":"welcome","user":"alice","count":2,"online":["bob","alice"]}
 *                   {"type":"ticket","ticket":"v1.…","expires":"2026-12-04T13:00:00.000Z"}
 *                       after a password login only: keep it (0600), resume with it
 *                 | {"type":"error","code":"AUTH_FAILED","message":"…"}  then close
 * client → server   {"type":"chat","text":"hello"}   {"type":"who"}   {"type":"pong"}
 * server → client   {"type":"chat","from":"alice","text":"hello"}
 *                   {"type":"joined"|"left","who":"bob","online":2}
 *                   {"type":"presence","joined":["bob","carol"],"joinedCount":2,
 *                    "left":[],"leftCount":0,"online":3}     several at once
 *                   {"type":"who","count":2,"online":["bob","alice"]}
 *                   {"type":"ping"}   {"type":"bye","reason":"…"}
 * ```
 *
 * What went away since stage 6: the `hello` challenge (it stopped replays of
 * a sealed login box; TLS makes every connection's bytes its own, so a
 * recorded login cannot be replayed into another connection) and every `box`.
 *
 * Later stages add frames by building their own decoder from these schemas
 * plus theirs: {@link CLIENT_SCHEMAS} and {@link SERVER_SCHEMAS} are exported
 * for that.
 *
 * @module
 */
import {
  arrayField,
  createDecoder,
  encodeJsonFrame,
  errorCodeField,
  frameSchema,
  integerField,
  MAX_TEXT_BYTES,
  optionalField,
  stringField,
  type Decoded,
  type Field,
  type FrameOf,
} from '../../shared/src/protocol';

/** The application protocol both sides name in the TLS handshake (ALPN). */
export const ALPN_PROTOCOL = 'socket-chat/7';

/** Most usernames one `welcome` or `who` frame names (as in stage 6). */
export const MAX_LISTED_USERS = 50;

/**
 * Largest room in which arrivals and departures are announced (as in stage
 * 6: above it, each notice is a write to every member for news nobody reads).
 */
export const PRESENCE_NOTICE_LIMIT = 1000;

// A username as a client may send it: any short string. Its *value* is
// checked by validateUsername, so a bad one is BAD_USERNAME, not BAD_FRAME.
const claimedUserField = stringField({ minLength: 1, maxLength: 64 });
// The password's value is checked by the password policy (BAD_PASSWORD).
const passwordField = stringField({ minLength: 1, maxLength: 256 });
// The server only ever sends validated names; the client checks the shape anyway.
const userField = stringField({ minLength: 1, maxLength: 32 });
const ticketField = stringField({ minLength: 1, maxLength: 512 });
const countField = integerField({ min: 0, max: 1_000_000 });
const onlineField = arrayField(userField, { maxItems: MAX_LISTED_USERS });

const textCharacters = stringField({ minLength: 1, maxLength: MAX_TEXT_BYTES });
/** A chat message: 1 to {@link MAX_TEXT_BYTES} bytes of UTF-8 text. */
export const textField: Field<string> = {
  expected: `a string of 1-${MAX_TEXT_BYTES} bytes of UTF-8`,
  accepts: (v): v is string =>
    textCharacters.accepts(v) && Buffer.byteLength(v, 'utf8') <= MAX_TEXT_BYTES,
};

/** Client → server: create an account, then be logged in with it. */
export const REGISTER = frameSchema('register', {
  /** The new account's name. */
  user: claimedUserField,
  /** Its password, in the clear inside TLS. */
  password: passwordField,
});
/** Client → server: log in with a password. */
export const LOGIN = frameSchema('login', {
  /** The account's name (any case: names are unique ignoring case). */
  user: claimedUserField,
  /** Its password, in the clear inside TLS. */
  password: passwordField,
});
/** Client → server: log in with a ticket from an earlier login, no password. */
export const RESUME = frameSchema('resume', {
  /** The account's name. */
  user: claimedUserField,
  /** The ticket the server issued after a password login. */
  ticket: ticketField,
});
/** Client → server: a chat message for the room. */
export const CHAT_REQUEST = frameSchema('chat', {
  /** What the user typed. */
  text: textField,
});
/** Client → server: who is online? */
export const WHO_REQUEST = frameSchema('who', {});
/** Client → server: the answer to `ping`. */
export const PONG = frameSchema('pong', {});

/** Server → client: logged in; your canonical name and who is online. */
export const WELCOME = frameSchema('welcome', {
  /** The username as stored. */
  user: userField,
  /** How many users are online now, the newcomer included. */
  count: countField,
  /** Up to {@link MAX_LISTED_USERS} of them, longest online first. */
  online: onlineField,
});
/** Server → client, after a password login: a ticket for the next connection. */
export const TICKET = frameSchema('ticket', {
  /** Opaque to the client: store it (mode 0600) and send it back in `resume`. */
  ticket: ticketField,
  /** When it stops being accepted (ISO 8601). */
  expires: stringField({ minLength: 1, maxLength: 40 }),
});
/** Server → client: the answer to `who`. */
export const WHO = frameSchema('who', {
  /** How many users are online. */
  count: countField,
  /** Up to {@link MAX_LISTED_USERS} of them. */
  online: onlineField,
});
/** Server → everyone else: a chat message, labelled with its sender's authenticated name. */
export const CHAT_RELAY = frameSchema('chat', {
  /** Who sent it (the name the connection logged in as). */
  from: userField,
  /** The message. */
  text: textField,
});
/** Server → everyone else: a user logged in (rooms up to {@link PRESENCE_NOTICE_LIMIT}). */
export const JOINED = frameSchema('joined', {
  /** Who. */
  who: userField,
  /** How many are online now. */
  online: countField,
});
/** Server → everyone left: a user left (rooms up to {@link PRESENCE_NOTICE_LIMIT}). */
export const LEFT = frameSchema('left', {
  /** Who. */
  who: userField,
  /** How many are still online. */
  online: countField,
});
/**
 * Server → everyone: several arrivals and departures at once, when more than
 * one happened within one presence interval (a burst, such as everyone
 * reconnecting after a restart). Rooms up to {@link PRESENCE_NOTICE_LIMIT}.
 */
export const PRESENCE = frameSchema('presence', {
  /** Who logged in, up to {@link MAX_LISTED_USERS} names (it may name you). */
  joined: onlineField,
  /** How many logged in, named or not. */
  joinedCount: countField,
  /** Who left, up to {@link MAX_LISTED_USERS} names. */
  left: onlineField,
  /** How many left, named or not. */
  leftCount: countField,
  /** How many are online now. */
  online: countField,
});
/** Server → everyone: the server is going away. */
export const BYE = frameSchema('bye', {
  /** Why. */
  reason: stringField({ maxLength: 200 }),
});
/** Server → a silent client: still there? (any frame answers; the client sends `pong`). */
export const PING = frameSchema('ping', {});
/** Server → client: a refusal with a stable code (then a close, before login). */
export const ERROR_FRAME = frameSchema('error', {
  /** The stable error code. */
  code: errorCodeField,
  /** Words for a person; never secrets. */
  message: stringField({ maxLength: 500 }),
  /** When the server is only busy: milliseconds to wait before trying again. */
  retryAfterMs: optionalField(integerField({ min: 1, max: 3_600_000 })),
});

/** Every frame a stage 7 client may send. */
export type ClientFrame =
  | FrameOf<typeof REGISTER>
  | FrameOf<typeof LOGIN>
  | FrameOf<typeof RESUME>
  | FrameOf<typeof CHAT_REQUEST>
  | FrameOf<typeof WHO_REQUEST>
  | FrameOf<typeof PONG>;

/** Every frame a stage 7 server may send. */
export type ServerFrame =
  | FrameOf<typeof WELCOME>
  | FrameOf<typeof TICKET>
  | FrameOf<typeof WHO>
  | FrameOf<typeof CHAT_RELAY>
  | FrameOf<typeof JOINED>
  | FrameOf<typeof LEFT>
  | FrameOf<typeof PRESENCE>
  | FrameOf<typeof BYE>
  | FrameOf<typeof PING>
  | FrameOf<typeof ERROR_FRAME>;

/** A frame that logs a connection in. */
export type LoginFrame = FrameOf<typeof REGISTER> | FrameOf<typeof LOGIN> | FrameOf<typeof RESUME>;

/** The client frames' schemas, for a later stage's decoder. */
export const CLIENT_SCHEMAS = [REGISTER, LOGIN, RESUME, CHAT_REQUEST, WHO_REQUEST, PONG] as const;
/** The server frames' schemas, for a later stage's decoder. */
export const SERVER_SCHEMAS = [
  WELCOME,
  TICKET,
  WHO,
  CHAT_RELAY,
  JOINED,
  LEFT,
  PRESENCE,
  BYE,
  PING,
  ERROR_FRAME,
] as const;

/** The server's decoder for what clients send. Never throws. */
export const decodeClientFrame: (text: string) => Decoded<ClientFrame> =
  createDecoder(CLIENT_SCHEMAS);

/** The client's decoder for what the server sends. Never throws. */
export const decodeServerFrame: (text: string) => Decoded<ServerFrame> =
  createDecoder(SERVER_SCHEMAS);

/** Encodes a client frame as one line. */
export function encodeClientFrame(frame: ClientFrame): Buffer {
  return encodeJsonFrame(frame);
}

/** Encodes a server frame as one line. */
export function encodeServerFrame(frame: ServerFrame): Buffer {
  return encodeJsonFrame(frame);
}

/** The `count` and `online` fields of a `welcome` or `who` frame. */
export interface OnlineListing {
  /** How many users are online. */
  count: number;
  /** The first {@link MAX_LISTED_USERS} of them, longest online first. */
  online: string[];
}

/**
 * Who is online, as `welcome` and `who` say it: the count and the first
 * {@link MAX_LISTED_USERS} names (a `Map` iterates longest online first).
 *
 * @param online - the server's online table
 */
export function listOnline(online: ReadonlyMap<string, unknown>): OnlineListing {
  const names: string[] = [];
  for (const name of online.keys()) {
    if (names.push(name) === MAX_LISTED_USERS) break;
  }
  return { count: online.size, online: names };
}
