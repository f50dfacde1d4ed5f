// The stage 9 section of docs/protocol.md shows what a node sends its
// members: every example line must decode with the client's decoder (stage
// 7's frames, unchanged), and every key and channel it names must be one the
// code builds; and its envelope and presence event are test vectors the code
// reproduces.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../shared/test/helpers';
import { TicketKeys } from '../../shared/src/login-ticket';
import { decodeEnvelope, encodeEnvelope } from '../src/bus-envelope';
import { BusKeys } from '../src/bus-keys';
import { clusterKeys } from '../src/cluster-keys';
import { decodeServerFrame } from '../src/messages';
import { encodePresenceEvent, PresenceEventReader } from '../src/presence-event';

const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'protocol.md'), 'utf8');
const section = doc.slice(doc.indexOf('## Stage 9:'));
const examples = [...section.matchAll(/^[A-Z] → \w+ +(\{.*\})$/gm)].map((m) => m[1]!);

test('the section has examples, and each is a frame a stage 7 client accepts', () => {
  expect(examples.length).toBeGreaterThanOrEqual(4);
  for (const line of examples) {
    expect(decodeServerFrame(line)).toEqual({ ok: true, frame: JSON.parse(line) });
  }
});

test('the key table names the keys the code builds', () => {
  const keys = clusterKeys('');
  for (const name of [
    keys.roomChannel,
    keys.nodes,
    keys.presenceChannel,
    keys.nodeChannel('ID'),
    keys.session('USER'),
    keys.members('ID'),
    keys.reaped('ID'),
    keys.loginBusy('USER', 'IP'),
    keys.loginKnown('USER'),
  ]) {
    expect(section).toContain(`\`${name}\``);
  }
});

const zeros = BusKeys.fromTicketKeys(new TicketKeys([Buffer.alloc(32)]));

test('the envelope shown is the one a cluster with a ticket key of zeros signs', () => {
  const shown = /^```text\n(chat-bus\/.*\n.*\n)```$/m.exec(section)?.[1];
  expect(shown).toBeDefined();
  const sentAt = Number(shown!.split(' ')[4]);
  const envelope = decodeEnvelope(Buffer.from(shown!), zeros, { now: sentAt });
  expect(encodeEnvelope(envelope, zeros, sentAt).toString()).toBe(shown);
  // And no other key's cluster accepts it.
  expect(() => decodeEnvelope(Buffer.from(shown!), BusKeys.random(), { now: sentAt })).toThrow(
    /MAC/,
  );
});

test('the presence event shown is the one that cluster signs', () => {
  const shown = /^```text\n(chat-presence\/.*)\n```$/m.exec(section)?.[1];
  expect(shown).toBeDefined();
  const [, , , , sent, nonce] = shown!.split(' ');
  const sentAt = Number(sent);
  const event = new PresenceEventReader(zeros).read(Buffer.from(shown!), sentAt);
  expect(encodePresenceEvent(event, zeros, sentAt, nonce)).toBe(shown);
  expect(() => new PresenceEventReader(BusKeys.random()).read(Buffer.from(shown!), sentAt)).toThrow(
    /MAC/,
  );
});
