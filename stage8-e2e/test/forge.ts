// What a malicious server (or a member it helps) could try: keep a real
// room message's box, which still decrypts, and sign it with another key.
import { sign } from 'node:crypto';
import type { Identity } from '../../shared/src/identity-keys';
import {
  decodeRoomMessage,
  encodeRoomMessage,
  messageSignedBytes,
} from '../../shared/src/room-message';
import type { ShownFrame } from '../src/client-login';

type E2eChat = Extract<ShownFrame, { type: 'e2e-chat' }>;

/** `frame` with its box untouched and its signature made by `signer`. */
export function signRoomMessageAs(frame: E2eChat, signer: Identity): E2eChat {
  const message = decodeRoomMessage(frame.from, frame);
  const signature = sign(null, messageSignedBytes(message), signer.signingPrivateKey);
  return { ...frame, ...encodeRoomMessage({ ...message, signature }) };
}
