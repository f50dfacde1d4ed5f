import type net from 'node:net';
import { ConnectionCaps, defaultMaxConnections, openFileLimit } from '../src/connection-caps';

const socketFrom = (remoteAddress: string) => ({ remoteAddress }) as net.Socket;

test('the default connection cap leaves room below the open-file limit', () => {
  expect(defaultMaxConnections(1024)).toBe(857);
  expect(defaultMaxConnections(256)).toBe(166);
  expect(defaultMaxConnections(20_000)).toBe(17_936);
  expect(defaultMaxConnections(10)).toBe(16);
  // On Linux this process's own limit is readable.
  if (process.platform === 'linux') expect(openFileLimit()).toBeGreaterThan(0);
});

test('connections not logged in are capped per address (IPv6 per /64); logged-in ones are not', () => {
  const caps = new ConnectionCaps({ maxConnections: 100, maxPreLoginPerAddress: 2 });
  const a1 = caps.admit(socketFrom('2001:db8:0:1::1'));
  const a2 = caps.admit(socketFrom('2001:db8:0:1::2'));
  expect([a1, a2]).toEqual(['2001:db8:0:1::/64', '2001:db8:0:1::/64']);
  expect(caps.admit(socketFrom('2001:db8:0:1::3'))).toEqual({ refused: 'address full' });
  expect(typeof caps.admit(socketFrom('2001:db8:0:2::1'))).toBe('string'); // another /64
  caps.loggedIn(a1 as string); // no longer counts against the address
  expect(typeof caps.admit(socketFrom('2001:db8:0:1::4'))).toBe('string');
  expect(caps.connections).toBe(4);
});

test('past maxConnections every new connection is refused, until one closes', () => {
  const caps = new ConnectionCaps({ maxConnections: 2, maxPreLoginPerAddress: 10 });
  const first = caps.admit(socketFrom('10.0.0.1')) as string;
  caps.admit(socketFrom('10.0.0.2'));
  expect(caps.admit(socketFrom('10.0.0.3'))).toEqual({ refused: 'server full' });
  caps.closed(first, true);
  expect(typeof caps.admit(socketFrom('10.0.0.3'))).toBe('string');
});

test('with newPerAddress, an address that opens connections faster than its bucket refills is refused', () => {
  let now = 0;
  const caps = new ConnectionCaps(
    {
      maxConnections: 100,
      maxPreLoginPerAddress: 100,
      newPerAddress: { capacity: 3, refillMs: 1_000 },
    },
    () => now,
  );
  // Each connection closes at once (connect, handshake, close): the
  // at-once caps never fill, but the bucket empties.
  for (let i = 0; i < 3; i++) caps.closed(caps.admit(socketFrom('10.0.0.1')) as string, true);
  expect(caps.admit(socketFrom('10.0.0.1'))).toEqual({ refused: 'address too fast' });
  expect(caps.connections).toBe(0); // a refusal counts nothing in
  expect(typeof caps.admit(socketFrom('10.0.0.2'))).toBe('string'); // another address has its own
  now += 1_000; // one token back
  expect(typeof caps.admit(socketFrom('10.0.0.1'))).toBe('string');
  expect(caps.admit(socketFrom('10.0.0.1'))).toEqual({ refused: 'address too fast' });
});

test('without newPerAddress (stage 6) an address may open connections as fast as it likes', () => {
  const caps = new ConnectionCaps({ maxConnections: 10, maxPreLoginPerAddress: 10 });
  for (let i = 0; i < 1_000; i++) caps.closed(caps.admit(socketFrom('10.0.0.1')) as string, true);
  expect(caps.connections).toBe(0);
});
