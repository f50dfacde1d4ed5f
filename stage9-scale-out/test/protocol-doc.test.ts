// The stage 9 section of docs/protocol.md shows what a node sends its
// members: every example line must decode with the client's decoder (stage
// 7's frames, unchanged), and every key and channel it names must be one the
// code builds; and its envelope is a test vector the code reproduces.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../shared/test/helpers';
import { TicketKeys } from '../../shared/src/login-ticket';
import { decodeEnvelope, encodeEnvelope } from '../src/bus-envelope';
import { BusKeys } from '../src/bus-keys';
import { clusterKeys } from '../src/cluster-keys';
import { decodeServerFrame } from '../src/messages';

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

test('the envelope shown is the one a cluster with a ticket key of zeros signs', () => {
  const shown = /^```text\n(chat-bus\/.*\n.*\n)```$/m.exec(section)?.[1];
  expect(shown).toBeDefined();
  const zeros = BusKeys.fromTicketKeys(new TicketKeys([Buffer.alloc(32)]));
  const sentAt = Number(shown!.split(' ')[4]);
  const envelope = decodeEnvelope(Buffer.from(shown!), zeros, { now: sentAt });
  expect(encodeEnvelope(envelope, zeros, sentAt).toString()).toBe(shown);
  // And no other key's cluster accepts it.
  expect(() => decodeEnvelope(Buffer.from(shown!), BusKeys.random(), { now: sentAt })).toThrow(
    /MAC/,
  );
});
