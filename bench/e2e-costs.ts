/**
 * What end-to-end encryption costs a stage 8 *client*, per operation:
 * `npx tsx bench/e2e-costs.ts` prints a table.
 *
 * The server's cost does not change with stage 8 (it relays opaque boxes);
 * the work moves to the clients, and this measures it: one signature and one
 * verification, one ratchet step, a pairwise box each way, sending and
 * receiving a room message, and what a leave costs the next member who
 * speaks (a new chain key sealed to each of the other members) in rooms of
 * 10, 100 and 1,000, and what joining such a room costs the newcomer (every
 * member's key bundle checked, its sender key sealed to each). Each row is the median of 5 rounds (min–max beside it),
 * measured after a warm-up, on whatever else this machine is running: read
 * the ratios between rows, not the third digit.
 *
 * @module
 */
import { sign, verify } from 'node:crypto';
import { E2eSession } from '../shared/src/e2e-session';
import { unlockIdentity, lockIdentity } from '../shared/src/identity-file';
import { encodeKeyBundle, generateIdentity, verifyKeyBundle } from '../shared/src/identity-keys';
import { KnownMembers } from '../shared/src/known-members';
import { openPairwise, sealPairwise } from '../shared/src/pairwise-box';
import { ReceiverChains } from '../shared/src/receiver-chains';
import { openRoomMessage, sealRoomMessage } from '../shared/src/room-message';
import { safetyNumber } from '../shared/src/safety-number';
import { newChainKey, ratchetStep, SenderChain } from '../shared/src/sender-chain';
import { format, table } from './report-format';

const ROUNDS = 5;

interface Row {
  name: string;
  /** Microseconds per operation, one per round. */
  micros: number[];
}

/** Runs `op` `perRound` times per round, after a warm-up round. */
function measure(name: string, perRound: number, op: (i: number) => void): Row {
  for (let i = 0; i < Math.min(perRound, 50); i++) op(i);
  const micros: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) op(i);
    micros.push(Number(process.hrtime.bigint() - start) / 1000 / perRound);
  }
  return { name, micros };
}

const alice = generateIdentity('alice');
const bob = generateIdentity('bob');
const aliceKeys = verifyKeyBundle('alice', encodeKeyBundle(alice));
const bobKeys = verifyKeyBundle('bob', encodeKeyBundle(bob));
const record = Buffer.alloc(120, 7); // about the size of a signed message record
const signature = sign(null, record, alice.signingPrivateKey);
const TEXT = 'a chat line of typical length, about sixty characters long.';

function messageRows(): Row[] {
  const chain = new SenderChain({ epoch: 1, counter: 0, chainKey: newChainKey() });
  const start = new SenderChain(chain.senderKey());
  const messages = Array.from({ length: 6000 }, () =>
    sealRoomMessage(alice, { epoch: 1, ...chain.next() }, TEXT),
  );
  const chains = new ReceiverChains();
  chains.addSenderKey('alice', start.senderKey());
  let next = 0;
  const sender = new SenderChain({ epoch: 2, counter: 0, chainKey: newChainKey() });
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
      openRoomMessage(messages[next++]!, aliceKeys, chains),
    ),
  ];
}

function pairwiseRows(): Row[] {
  const payload = Buffer.alloc(44, 1);
  const boxes = Array.from({ length: 1000 }, () => sealPairwise(alice, bobKeys, payload));
  return [
    measure('pairwise box: seal + sign', 300, () => sealPairwise(alice, bobKeys, payload)),
    measure('pairwise box: verify + open', 300, (i) => openPairwise(bob, aliceKeys, boxes[i]!)),
    measure('verify a key bundle', 300, () => verifyKeyBundle('bob', encodeKeyBundle(bob))),
    measure('safety number (2 × 5,200 SHA-512)', 20, () => safetyNumber(alice, bob)),
  ];
}

/**
 * A first message after a leave: a new chain key, sealed to each of the
 * `members - 1` others, then the message. Between rounds (untimed) the leaver
 * rejoins and receives my key, so each round starts from the same state.
 */
function rotationRow(members: number): Row {
  const session = new E2eSession({
    identity: alice,
    known: KnownMembers.inMemory(),
    firstEpoch: 1,
  });
  for (let i = 0; i < members - 2; i++) {
    const other = generateIdentity(`m${i}`);
    session.addMember(other.username, encodeKeyBundle(other));
  }
  const leaver = encodeKeyBundle(generateIdentity('leaver'));
  const micros: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    session.addMember('leaver', leaver);
    session.seal('the leaver holds my key now');
    session.removeMember('leaver');
    const start = process.hrtime.bigint();
    const out = session.seal(TEXT);
    const elapsed = Number(process.hrtime.bigint() - start) / 1000;
    if (out.keyBoxes.length !== members - 2) throw new Error('the leave did not rotate');
    if (round > 0) micros.push(elapsed); // round 0 warms up
  }
  return { name: `first message after a leave, ${members} members`, micros };
}

/**
 * Joining a room of `members`: the newcomer checks every present member's
 * key bundle (`member` frames), then its first message seals its sender key
 * to each of them. A fresh session each round; the bundles are made untimed.
 */
function joinRow(members: number): Row {
  const bundles = Array.from({ length: members - 1 }, (_, i) => {
    const other = generateIdentity(`j${i}`);
    return [other.username, encodeKeyBundle(other)] as const;
  });
  const micros: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const session = new E2eSession({
      identity: generateIdentity('newcomer'),
      known: KnownMembers.inMemory(),
      firstEpoch: 1,
    });
    const start = process.hrtime.bigint();
    for (const [name, bundle] of bundles) session.addMember(name, bundle);
    const out = session.seal(TEXT);
    const elapsed = Number(process.hrtime.bigint() - start) / 1000;
    if (out.keyBoxes.length !== members - 1)
      throw new Error('the join sealed to the wrong members');
    if (round > 0) micros.push(elapsed); // round 0 warms up
  }
  return { name: `join + first message, ${members} members`, micros };
}

async function main(): Promise<void> {
  const rows = [...messageRows(), ...pairwiseRows()];
  for (const members of [10, 100, 1000]) rows.push(joinRow(members));
  for (const members of [10, 100, 1000]) rows.push(rotationRow(members));
  const text = await lockIdentity(alice, 'password');
  const unlock = process.hrtime.bigint();
  await unlockIdentity(text, 'password');
  rows.push({
    name: 'unlock the identity file (scrypt 2^17, once per start)',
    micros: [Number(process.hrtime.bigint() - unlock) / 1000],
  });

  const cells = rows.map(({ name, micros }) => {
    const sorted = [...micros].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const range = sorted.length > 1 ? `${format(sorted[0]!, 1)}–${format(sorted.at(-1)!, 1)}` : '-';
    return [name, format(median, 1), range, format(1e6 / median, 0)];
  });
  console.log(`stage 8 client costs, Node ${process.version}, median of ${ROUNDS} rounds\n`);
  console.log(table([['operation', 'µs per op', 'min–max', 'per second'], ...cells]));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
