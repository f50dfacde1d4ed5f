// The door of the TLS servers (stages 7 to 9) on a real TLS server listening
// on every address: each connection is counted into the caps once and out
// once, whatever way it ends. (Each stage's tests drive its own door too.)
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { generateCertificate, type GeneratedCertificate } from '../src/certificate';
import { ConnectionCaps } from '../src/connection-caps';
import { LogSampler } from '../src/log-sampler';
import { silentLogger } from '../src/logger';
import { openTlsDoor } from '../src/tls-door';
import { tlsServerOptions } from '../src/tls-server';
import { TEST_ALPN } from './tls-fixtures';

let certificate: GeneratedCertificate;
beforeAll(async () => {
  certificate = await generateCertificate();
});

/** A TLS server on 0.0.0.0 behind a door; served connections are counted out on close. */
async function doorOnEveryAddress() {
  const caps = new ConnectionCaps({ maxConnections: 100, maxPreLoginPerAddress: 100 });
  const server = tls.createServer(
    tlsServerOptions({
      chainPem: certificate.certificatePem,
      privateKeyPem: certificate.privateKeyPem,
      alpnProtocol: TEST_ALPN,
    }),
  );
  const sampler = new LogSampler(silentLogger());
  const door = openTlsDoor(
    server,
    { caps, sampler, alpnProtocol: TEST_ALPN, handshakesPerTurn: 8 },
    (socket, group) => socket.once('close', () => caps.closed(group, true)),
  );
  // Every accepted TCP connection, to wait until the server has seen each close.
  const accepted: Promise<unknown>[] = [];
  server.on('connection', (raw: net.Socket) => accepted.push(once(raw, 'close')));
  server.listen(0, '0.0.0.0');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    caps,
    port,
    allClosed: () => Promise.all(accepted),
    close: async () => {
      door.closeUnfinished();
      server.close();
      await once(server, 'close');
      sampler.close();
    },
  };
}

test('two connections from one client address and port, to two of the server addresses, are each counted out', async () => {
  // The peer's address and port name one connection only per server address:
  // the door matched a TLS socket to its TCP connection by those two, so the
  // second connection took the first one's entry, and the first was never
  // counted out (before: one place leaked per round, for good).
  const door = await doorOnEveryAddress();
  try {
    for (let round = 0; round < 3; round++) {
      const from = { localAddress: '127.0.0.5', localPort: 0 };
      const first = net.connect({ host: '127.0.0.1', port: door.port, ...from });
      first.on('error', () => {});
      await once(first, 'connect');
      from.localPort = first.localPort!;
      const second = tls.connect({
        host: '127.0.0.2',
        port: door.port,
        ...from,
        rejectUnauthorized: false, // a test client: it checks nothing on purpose
        ALPNProtocols: [TEST_ALPN],
      });
      second.on('error', () => {});
      await once(second, 'secureConnect');
      first.destroy();
      second.destroy();
      await door.allClosed();
    }
    expect(door.caps.connections).toBe(0);
  } finally {
    await door.close();
  }
});
