// A stale ticket costs no login budget, on stage 8 as on stage 7 (see stage
// 7's limits test for the classroom whose tickets expire the same morning):
// a ticket made under a key the server no longer holds is refused without
// a token, while a forged one still costs what a wrong guess costs.
import { once } from 'node:events';
import path from 'node:path';
import { encodeKeyBundle, generateIdentity } from '../../shared/src/identity-keys';
import { KnownServers } from '../../shared/src/known-servers';
import { LoginTickets, TicketKeys } from '../../shared/src/login-ticket';
import { connectPinned } from '../../shared/src/tls-client';
import { LineReader } from '../../shared/test/helpers';
import { ALPN_PROTOCOL, encodeClientFrame } from '../src/messages';
import { startTestServer, type TestServer } from './harness';

const BUDGET = 3;
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer(undefined, {
    server: { rateLimits: { perIp: { capacity: BUDGET, refillMs: 600_000 } } },
  });
});
afterAll(() => t.close());

/** Sends one `resume` on a fresh connection; resolves with the answer's code (or type). */
async function resume(user: string, ticket: string): Promise<string> {
  const { socket } = await connectPinned({
    host: '127.0.0.1',
    port: t.port,
    alpnProtocol: ALPN_PROTOCOL,
    trust: {
      knownServers: new KnownServers(path.join(t.dir, 'stale.known_servers')),
      expectedFingerprint: t.certificate.fingerprint,
    },
  });
  socket.on('error', () => {});
  const lines = new LineReader(socket);
  const keys = encodeKeyBundle(generateIdentity(user));
  socket.write(encodeClientFrame({ type: 'resume', user, ticket, ...keys }));
  const frame = JSON.parse(await lines.next()) as { type: string; code?: string };
  socket.end();
  await once(socket, 'close');
  return frame.code ?? frame.type;
}

test('tickets made under a replaced key cost nothing; forged ones run the budget out', async () => {
  const replacedKey = new LoginTickets({ keys: TicketKeys.generate() });
  const stale: string[] = [];
  for (let i = 0; i < 2 * BUDGET; i++) {
    stale.push(await resume(`pupil${i}`, replacedKey.issue(`pupil${i}`).ticket));
  }
  expect(stale).toEqual(Array(2 * BUDGET).fill('TICKET_INVALID'));
  const forged: string[] = [];
  for (let i = 0; i <= BUDGET; i++) forged.push(await resume('pupil0', 'v1.forged'));
  expect(forged).toEqual([...Array(BUDGET).fill('TICKET_INVALID'), 'RATE_LIMITED']);
});
