// The stage 7 section of docs/protocol.md is what an independent client is
// written from, so its examples are checked here: every `C → S` line in it
// decodes with the server's decoder (or is refused, where the text says
// so), every `S → C` line with the client's, and the example ticket is a
// real one under the documented test key.
import fs from 'node:fs';
import path from 'node:path';
import { LoginTickets, TicketKeys } from '../../shared/src/login-ticket';
import { REPO_ROOT } from '../../shared/test/helpers';
import { decodeClientFrame, decodeServerFrame } from '../src/messages';

const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'protocol.md'), 'utf8');
const section = doc.slice(doc.indexOf('## Stage 7:'));
const refusedPart = section.slice(section.indexOf('Frames a stage 7 decoder refuses'));
const acceptedPart = section.slice(0, section.indexOf('Frames a stage 7 decoder refuses'));
const lines = (text: string, arrow: string) =>
  [...text.matchAll(new RegExp(`^${arrow}  (\\{.*\\})$`, 'gm'))].map((m) => m[1]!);

test('the section exists and has examples in both directions', () => {
  expect(lines(acceptedPart, 'C → S').length).toBeGreaterThanOrEqual(8);
  expect(lines(acceptedPart, 'S → C').length).toBeGreaterThanOrEqual(10);
});

// A client line the example answers with BAD_FRAME is one the decoder refuses.
const exchanges = [...acceptedPart.matchAll(/^C → S {2}(\{.*\})\n(?:S → C {2}(\{.*\}))?/gm)].map(
  (m) => [m[1]!, m[2]?.includes('"code":"BAD_FRAME"') === true] as const,
);

test.each(exchanges)('client frame %s (refused: %s)', (line, refused) => {
  if (refused) {
    expect(decodeClientFrame(line)).toMatchObject({ ok: false, error: { code: 'BAD_FRAME' } });
  } else {
    expect(decodeClientFrame(line)).toEqual({ ok: true, frame: JSON.parse(line) });
  }
});

test.each(lines(acceptedPart, 'S → C'))('server frame decodes: %s', (line) => {
  expect(decodeServerFrame(line)).toEqual({ ok: true, frame: JSON.parse(line) });
});

test.each(lines(refusedPart, 'C → S'))('refused with BAD_FRAME: %s', (line) => {
  expect(decodeClientFrame(line)).toMatchObject({ ok: false, error: { code: 'BAD_FRAME' } });
});

test('the example ticket verifies under the documented test key until its expiry', () => {
  const ticket = /"ticket":"(v1\.[^"]+)"/.exec(section)![1]!;
  const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  const expires = Date.parse('2026-12-04T13:13:20.000Z');
  const at = (now: number) => new LoginTickets({ keys: new TicketKeys([key]), now: () => now });
  expect(at(expires - 1000).verify(ticket, 'alice')).toMatchObject({ ok: true, username: 'alice' });
  expect(at(expires).verify(ticket, 'alice')).toEqual({ ok: false, reason: 'expired' });
  expect(at(expires - 1000).verify(ticket, 'bob')).toEqual({ ok: false, reason: 'wrong-user' });
});
