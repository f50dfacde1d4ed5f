// The stage 8 section of docs/protocol.md is what an independent client is
// written from, so its examples are checked: every `C → S` line decodes with
// the server's decoder, every `S → C`/`S → B` line with the client's, the
// bundles verify for the names they are published under, and the key box
// and message carry alice's real signatures.
import fs from 'node:fs';
import path from 'node:path';
import { verifyKeyBundle, type KeyBundleWire } from '../../shared/src/identity-keys';
import { decodePairwiseBox } from '../../shared/src/pairwise-box';
import { decodeRoomMessage, verifyRoomMessage } from '../../shared/src/room-message';
import { REPO_ROOT } from '../../shared/test/helpers';
import { bundleOf, decodeClientFrame, decodeServerFrame } from '../src/messages';

const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'protocol.md'), 'utf8');
const section = doc.slice(doc.indexOf('## Stage 8:'));
const lines = (arrow: RegExp) =>
  [...section.matchAll(new RegExp(`^${arrow.source}  (\\{.*\\})$`, 'gm'))].map((m) => m[1]!);
const fromClient = lines(/C → S/);
const fromServer = lines(/S → [CB]/);

test('the section exists and has examples in both directions', () => {
  expect(fromClient.length).toBeGreaterThanOrEqual(4);
  expect(fromServer.length).toBeGreaterThanOrEqual(5);
});

test.each(fromClient)('client frame decodes: %s', (line) => {
  expect(decodeClientFrame(line)).toEqual({ ok: true, frame: JSON.parse(line) });
});

test.each(fromServer)('server frame decodes: %s', (line) => {
  expect(decodeServerFrame(line)).toEqual({ ok: true, frame: JSON.parse(line) });
});

test('the bundles verify; the relayed key box and message are signed by alice', () => {
  const frame = (type: string, list: string[]) =>
    JSON.parse(list.find((l) => l.includes(`"type":"${type}"`))!) as KeyBundleWire;
  const alice = verifyKeyBundle('alice', bundleOf(frame('register', fromClient)));
  verifyKeyBundle('bob', bundleOf(frame('member', fromServer)));
  expect(() => verifyKeyBundle('carol', bundleOf(frame('register', fromClient)))).toThrow(
    expect.objectContaining({ code: 'BAD_SIGNATURE' }),
  );
  const relayed = frame('e2e-chat', fromServer);
  expect(() =>
    verifyRoomMessage(decodeRoomMessage('alice', relayed), alice.signingKeyObject),
  ).not.toThrow();
  expect(() =>
    verifyRoomMessage(decodeRoomMessage('bob', relayed), alice.signingKeyObject),
  ).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }));
  expect(decodePairwiseBox(frame('sender-key', fromServer)).signature).toHaveLength(64);
});
