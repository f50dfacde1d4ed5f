/**
 * Stage 8's vocabulary: stage 7's frames, with the chat taken out of the
 * server's reach. A user's public keys ride on the login, the server hands
 * them to the other members, and a chat line crosses as a signed box only
 * the members can open. Key fields are the shared core's (`KEY_BUNDLE_FIELDS`,
 * `PAIRWISE_BOX_FIELDS`, `ROOM_MESSAGE_FIELDS`), spread flat into the frames.
 *
 * ```text
 * client → server   {"type":"register","user":"alice","password":"…",
 *                    "signingKey":"…","agreementKey":"…","signature":"…"}
 *                 | {"type":"login", …same fields}   | {"type":"resume","user":"alice","ticket":"v1.…", …keys}
 * server → client   {"type":"welcome","user":"alice","count":2,"online":["bob","alice"]}
 *                   {"type":"member","user":"bob","signingKey":"…","agreementKey":"…","signature":"…"}
 *                       one per member already in the room, right after welcome
 *                   {"type":"ticket",…}  as in stage 7
 * client → server   {"type":"sender-key","to":"bob","eph":"…","box":"…","sig":"…"}
 *                   {"type":"e2e-chat","epoch":1764770000000,"counter":0,"box":"…","sig":"…"}
 *                   {"type":"keys","user":"bob"}   {"type":"who"}   {"type":"pong"}
 * server → client   {"type":"sender-key","from":"alice","eph":"…","box":"…","sig":"…"}   to `to` only
 *                   {"type":"e2e-chat","from":"alice","epoch":…,"counter":…,"box":"…","sig":"…"}
 *                   {"type":"keys","user":"bob","signingKey":"…","agreementKey":"…","signature":"…"}
 *                   {"type":"joined","who":"carol","online":3,"signingKey":"…",…}
 *                   {"type":"left","who":"carol","online":2}
 *                   {"type":"who",…}   {"type":"ping"}   {"type":"bye",…}   {"type":"error",…}
 * ```
 *
 * What went away since stage 7: the plain `chat` frame. What the server
 * checks in the new frames is their *shape* (sizes, base64, integers); it has
 * no key that could check more, and needs none. `from` is always stamped by
 * the server from the logged-in account.
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
  optionalField,
  stringField,
  type Decoded,
  type Field,
  type FrameOf,
} from '../../shared/src/protocol';
import { KEY_BUNDLE_FIELDS, type KeyBundleWire } from '../../shared/src/identity-keys';
import { PAIRWISE_BOX_FIELDS } from '../../shared/src/pairwise-box';
import { MAX_ROOM_TEXT_BYTES, ROOM_MESSAGE_FIELDS } from '../../shared/src/room-message';
import { USERNAME_PATTERN } from '../../shared/src/user-record';

/** The application protocol both sides name in the TLS handshake (ALPN). */
export const ALPN_PROTOCOL = 'socket-chat/8';

/** Most usernames one `welcome` or `who` frame names (as in stage 6). */
export const MAX_LISTED_USERS = 50;

// A username as a client may send it: any short string. Its *value* is
// checked by validateUsername, so a bad one is BAD_USERNAME, not BAD_FRAME.
const claimedUserField = stringField({ minLength: 1, maxLength: 64 });
// The password's value is checked by the password policy (BAD_PASSWORD).
const passwordField = stringField({ minLength: 1, maxLength: 256 });
// A name the server sends, or a client names as a recipient: always an
// account's name. Checked here, in full: a client records the names it sees
// (known-members, opened-counters) and refuses, on loading, a file holding a
// name no account can have, so a server that sent one could stop it starting.
const userField: Field<string> = {
  expected: 'a username (1-32 of A-Z a-z 0-9 _ . -)',
  accepts: (v): v is string => typeof v === 'string' && USERNAME_PATTERN.test(v),
};
const ticketField = stringField({ minLength: 1, maxLength: 512 });
const countField = integerField({ min: 0, max: 1_000_000 });
const onlineField = arrayField(userField, { maxItems: MAX_LISTED_USERS });

/** The longest chat line a client sends: what one room message box holds. */
export const MAX_LINE_BYTES = MAX_ROOM_TEXT_BYTES;

/** Client → server: create an account, then be logged in with it. */
export const REGISTER = frameSchema('register', {
  /** The new account's name. */
  user: claimedUserField,
  /** Its password, in the clear inside TLS. */
  password: passwordField,
  ...KEY_BUNDLE_FIELDS,
});
/** Client → server: log in with a password. */
export const LOGIN = frameSchema('login', {
  /** The account's name (any case: names are unique ignoring case). */
  user: claimedUserField,
  /** Its password, in the clear inside TLS. */
  password: passwordField,
  ...KEY_BUNDLE_FIELDS,
});
/** Client → server: log in with a ticket from an earlier login, no password. */
export const RESUME = frameSchema('resume', {
  /** The account's name. */
  user: claimedUserField,
  /** The ticket the server issued after a password login. */
  ticket: ticketField,
  ...KEY_BUNDLE_FIELDS,
});
/** Client → server: my sender key, sealed to one member (routed to `to` only). */
export const SENDER_KEY_REQUEST = frameSchema('sender-key', {
  /** The member it is sealed to. */
  to: userField,
  ...PAIRWISE_BOX_FIELDS,
});
/** Client → server: a signed, encrypted room message (relayed to every other member unopened). */
export const E2E_CHAT_REQUEST = frameSchema('e2e-chat', { ...ROOM_MESSAGE_FIELDS });
/** Client → server: a user's current public keys, please (e.g. for `/verify` of someone offline). */
export const KEYS_REQUEST = frameSchema('keys', {
  /** Whose. */
  user: claimedUserField,
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
/** Server → client, after `welcome`: one member already in the room, with its public keys. */
export const MEMBER = frameSchema('member', {
  /** The member. */
  user: userField,
  ...KEY_BUNDLE_FIELDS,
});
/** Server → one member: a sender key box, from the name its sender logged in as. */
export const SENDER_KEY_RELAY = frameSchema('sender-key', {
  /** Who sealed it (stamped by the server). */
  from: userField,
  ...PAIRWISE_BOX_FIELDS,
});
/** Server → everyone else: a room message, unopened, labelled with its sender's name. */
export const E2E_CHAT_RELAY = frameSchema('e2e-chat', {
  /** Who sent it (stamped by the server). */
  from: userField,
  ...ROOM_MESSAGE_FIELDS,
});
/** Server → client: the answer to `keys` (the newest stored keys of that user). */
export const KEYS = frameSchema('keys', {
  /** Whose. */
  user: userField,
  ...KEY_BUNDLE_FIELDS,
});
/**
 * Server → everyone else: a user logged in, with its public keys. Sent in
 * rooms of every size: a member who is not told cannot encrypt to it.
 */
export const JOINED = frameSchema('joined', {
  /** Who. */
  who: userField,
  /** How many are online now. */
  online: countField,
  ...KEY_BUNDLE_FIELDS,
});
/** Server → everyone left: a user left (their next message starts a new epoch). */
export const LEFT = frameSchema('left', {
  /** Who. */
  who: userField,
  /** How many are still online. */
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

/** Every frame a stage 8 client may send. */
export type ClientFrame =
  | FrameOf<typeof REGISTER>
  | FrameOf<typeof LOGIN>
  | FrameOf<typeof RESUME>
  | FrameOf<typeof SENDER_KEY_REQUEST>
  | FrameOf<typeof E2E_CHAT_REQUEST>
  | FrameOf<typeof KEYS_REQUEST>
  | FrameOf<typeof WHO_REQUEST>
  | FrameOf<typeof PONG>;

/** Every frame a stage 8 server may send. */
export type ServerFrame =
  | FrameOf<typeof WELCOME>
  | FrameOf<typeof TICKET>
  | FrameOf<typeof WHO>
  | FrameOf<typeof MEMBER>
  | FrameOf<typeof SENDER_KEY_RELAY>
  | FrameOf<typeof E2E_CHAT_RELAY>
  | FrameOf<typeof KEYS>
  | FrameOf<typeof JOINED>
  | FrameOf<typeof LEFT>
  | FrameOf<typeof BYE>
  | FrameOf<typeof PING>
  | FrameOf<typeof ERROR_FRAME>;

/** A frame that logs a connection in. */
export type LoginFrame = FrameOf<typeof REGISTER> | FrameOf<typeof LOGIN> | FrameOf<typeof RESUME>;

/** The key bundle fields of a frame (`member`, `joined`, `keys`, a login), as the core reads them. */
export function bundleOf(frame: KeyBundleWire): KeyBundleWire {
  return {
    signingKey: frame.signingKey,
    agreementKey: frame.agreementKey,
    signature: frame.signature,
  };
}

/** The client frames' schemas, for a later stage's decoder. */
export const CLIENT_SCHEMAS = [
  REGISTER,
  LOGIN,
  RESUME,
  SENDER_KEY_REQUEST,
  E2E_CHAT_REQUEST,
  KEYS_REQUEST,
  WHO_REQUEST,
  PONG,
] as const;
/** The server frames' schemas, for a later stage's decoder. */
export const SERVER_SCHEMAS = [
  WELCOME,
  TICKET,
  WHO,
  MEMBER,
  SENDER_KEY_RELAY,
  E2E_CHAT_RELAY,
  KEYS,
  JOINED,
  LEFT,
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
