/**
 * What end-to-end encryption costs a stage 8 *client*, per operation:
 * `npx tsx bench/e2e-costs.ts` prints a table. The server's cost does not
 * change with stage 8 (it relays opaque boxes); the work moves to the
 * clients: signatures, the ratchet, pairwise boxes, room messages, and in
 * rooms of 10, 100 and 1,000 what a join costs the newcomer (every member's
 * bundle checked, its sender key sealed to each) and what a leave costs the
 * next speaker (a new chain key sealed to each other member). Each row is
 * the median of 5 rounds after a warm-up round, min–max beside it, on
 * whatever else this machine runs: read the ratios, not the third digit.
 *
 * @module
 */
import { sign, verify } from 'node:crypto';
import { E2eSession } from '../shared/src/e2e-session';
import { lockIdentity, unlockIdentity } from '../shared/src/identity-file';
import { encodeKeyBundle, generateIdentity, verifyKeyBundle } from '../shared/src/identity-keys';
import { KnownMembers } from '../shared/src/known-members';
import { openPairwise, sealPairwise } from '../shared/src/pairwise-box';
import { ReceiverChains } from '../shared/src/receiver-chains';
import { openRoomMessage, sealRoomMessage } from '../shared/src/room-message';
import { safetyNumber } from '../shared/src/safety-number';
import { newChainKey, ratchetStep, SenderChain } from '../shared/src/sender-chain';
import { format, table } from './report-format';
import { summarize } from './stats';

const ROUNDS = 5;
const ROOM_SIZES = [10, 100, 1000];
const TEXT = 'a chat line of typical length, about sixty characters long.';

/** A table row: µs per operation (median and min–max of the rounds), and per second. */
function row(name: string, micros: number[]): string[] {
  const { median, min, max } = summarize(micros);
  const range = micros.length > 1 ? `${format(min, 1)}–${format(max, 1)}` : '-';
  return [name, format(median, 1), range, format(1e6 / median, 0)];
}

/**
 * Times `op`, `perRound` calls a round, in a warm-up round and then `ROUNDS`
 * rounds; `prepare` (untimed) runs before each round.
 */
function measure(
  name: string,
  perRound: number,
  op: (i: number) => void,
  prepare = () => {},
): string[] {
  const micros: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    prepare();
    const start = performance.now();
    for (let i = 0; i < perRound; i++) op(i);
    const elapsed = performance.now() - start;
    if (round > 0) micros.push((elapsed * 1000) / perRound); // round 0 warms up
  }
  return row(name, micros);
}

const alice = generateIdentity('alice');
const bob = generateIdentity('bob');
const aliceKeys = verifyKeyBundle('alice', encodeKeyBundle(alice));
const bobKeys = verifyKeyBundle('bob', encodeKeyBundle(bob));
const record = Buffer.alloc(120, 7); // about the size of a signed message record
const signature = sign(null, record, alice.signingPrivateKey);

/** One row per single operation: signatures, the ratchet, messages, pairwise boxes. */
function operationRows(): string[][] {
  const payload = Buffer.alloc(44, 1);
  const boxes = Array.from({ length: 300 }, () => sealPairwise(alice, bobKeys, payload));
  const chain = new SenderChain({ epoch: 1, counter: 0, chainKey: newChainKey() });
  const chains = new ReceiverChains();
  chains.addSenderKey('alice', chain.senderKey());
  const received = Array.from({ length: (ROUNDS + 1) * 1000 }, () =>
    sealRoomMessage(alice, { epoch: 1, ...chain.next() }, TEXT),
  );
  const sender = new SenderChain({ epoch: 2, counter: 0, chainKey: newChainKey() });
  let next = 0;
  return [
    measure('Ed25519 sign (120-byte record)', 500, () =>
      sign(null, record, alice.signingPrivateKey),
    ),
    measure('Ed25519 verify', 500, () => verify(null, record, alice.signingKeyObject, signature)),
    measure('ratchet step (2 HMAC-SHA256)', 5000, () => ratchetStep(record.subarray(0, 32))),
    measure('send: ratchet + AES-GCM + sign', 500, () =>
      sealRoomMessage(alice, { epoch: 2, ...sender.next() }, TEXT),
    ),
    measure('receive: verify + ratchet + AES-GCM', 1000, () =>
      openRoomMessage(received[next++]!, aliceKeys, chains),
    ),
    measure('pairwise box: seal + sign', 300, () => sealPairwise(alice, bobKeys, payload)),
    measure('pairwise box: verify + open', 300, (i) => openPairwise(bob, aliceKeys, boxes[i]!)),
    measure('verify a key bundle', 300, () => verifyKeyBundle('bob', encodeKeyBundle(bob))),
    measure('safety number (2 × 5,200 SHA-512)', 20, () => safetyNumber(alice, bob)),
  ];
}

/** A new member's session, with a fresh identity. */
function session(name: string): E2eSession {
  const identity = generateIdentity(name);
  return new E2eSession({ identity, known: KnownMembers.inMemory(), firstEpoch: 1 });
}

/** `count` other members' names and key bundles, made untimed. */
function members(prefix: string, count: number) {
  return Array.from({ length: count }, (_, i) => {
    const member = generateIdentity(`${prefix}${i}`);
    return [member.username, encodeKeyBundle(member)] as const;
  });
}

/**
 * Joining a room of `size`: the newcomer checks every present member's key
 * bundle (`member` frames), then its first message seals its sender key to
 * each of them. A fresh session each round.
 */
function joinRow(size: number): string[] {
  const others = members('j', size - 1);
  let newcomer: E2eSession;
  const fresh = () => {
    newcomer = session('newcomer');
  };
  const join = () => {
    for (const [name, bundle] of others) newcomer.addMember(name, bundle);
    if (newcomer.seal(TEXT).keyBoxes.length !== size - 1) {
      throw new Error('the join sealed to the wrong members');
    }
  };
  return measure(`join + first message, ${size} members`, 1, join, fresh);
}

/**
 * A first message after a leave: a new chain key, sealed to each of the
 * `size - 2` others, then the message. Before each round (untimed) the leaver
 * rejoins and receives my key, so each round starts from the same state.
 */
function rotationRow(size: number): string[] {
  const me = session('me');
  for (const [name, bundle] of members('m', size - 2)) me.addMember(name, bundle);
  const leaver = encodeKeyBundle(generateIdentity('leaver'));
  const rejoinAndLeave = () => {
    me.addMember('leaver', leaver);
    me.seal('the leaver holds my key now');
    me.removeMember('leaver');
  };
  const speak = () => {
    if (me.seal(TEXT).keyBoxes.length !== size - 2) throw new Error('the leave did not rotate');
  };
  return measure(`first message after a leave, ${size} members`, 1, speak, rejoinAndLeave);
}

/** Unlocking the identity file, timed once: scrypt is slow on purpose. */
async function unlockRow(): Promise<string[]> {
  const text = await lockIdentity(alice, 'password');
  const start = performance.now();
  await unlockIdentity(text, 'password');
  const micros = (performance.now() - start) * 1000;
  return row('unlock the identity file (scrypt 2^17, once per start)', [micros]);
}

async function main(): Promise<void> {
  const rows = [
    ...operationRows(),
    ...ROOM_SIZES.map((size) => joinRow(size)),
    ...ROOM_SIZES.map((size) => rotationRow(size)),
    await unlockRow(),
  ];
  console.log(`stage 8 client costs, Node ${process.version}, median of ${ROUNDS} rounds\n`);
  console.log(table([['operation', 'µs per op', 'min–max', 'per second'], ...rows]));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
