// Stage 5, the smallest version: seal a message with AES-256-GCM, open it,
// and watch a changed bit and a changed context both fail. No server: what
// stage 5 adds to the room is only these two functions, run by the clients.
// Try it: `npm run stage5:minimal`.
//
// What the real stage (shared/src/crypto.ts, stage5-aes/src/) adds, and why:
// - a key file made once by `npm run keygen` (mode 0600) and shared by the
//   room, instead of a key made fresh by each run;
// - a length check before open(): a box shorter than nonce + tag makes
//   OpenSSL fail with another error, or read a short nonce;
// - strict UTF-8 for the opened text, and every failure as one
//   DECRYPT_FAILED error, so a caller cannot tell why a box was refused;
// - associated data built by the protocol module (version, frame type), so
//   both ends agree on it byte for byte;
// - boxes in base64 inside JSON frames, relayed by a server that has no key.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const key = randomBytes(32); // AES-256: 32 random bytes, known to the room, never to the server

// box = nonce (12 bytes) | ciphertext (as long as the text) | tag (16 bytes)
function seal(text: string, associatedData: string): Buffer {
  // A fresh random nonce for EVERY message: two messages under one key and
  // one nonce leak the XOR of their texts, and let anyone forge tags.
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(associatedData)); // authenticated, but not encrypted, and not sent
  const ciphertext = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]);
}

function open(box: Buffer, associatedData: string): string {
  const decipher = createDecipheriv('aes-256-gcm', key, box.subarray(0, 12));
  decipher.setAAD(Buffer.from(associatedData));
  decipher.setAuthTag(box.subarray(-16));
  const plaintext = decipher.update(box.subarray(12, -16));
  decipher.final(); // checks the tag, and throws if anything changed: plaintext is never returned then
  return plaintext.toString('utf8');
}

const box = seal('hello', 'chat');
console.log(
  `sealed:   ${box.toString('base64')} (${box.length} bytes: 12 nonce + 5 text + 16 tag)`,
);
console.log(`opened:   ${open(box, 'chat')}`);
console.log(`again:    ${seal('hello', 'chat').toString('base64')} (same text, new nonce)`);

const tampered = Buffer.from(box);
tampered[12]! ^= 1; // flip one bit of the ciphertext
tryToOpen('one bit flipped', tampered, 'chat');
tryToOpen('other context', box, 'file');

function tryToOpen(what: string, suspect: Buffer, associatedData: string): void {
  try {
    console.log(`${what}: opened "${open(suspect, associatedData)}"?!`);
  } catch (err) {
    console.log(`${what}: refused (${(err as Error).message})`);
  }
}
