/**
 * A server that speaks the course's framing but plays no fair part: the
 * hostile or broken server the client tests of stages 6 to 8 stand the
 * real client against. It hands each line it reads to the test, which
 * decides what, if anything, to answer. The TLS one has a real certificate
 * (the client pins its key like any other).
 *
 * @module
 */
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { generateCertificate, type GeneratedCertificate } from '../shared/src/certificate';
import { LineDecoder } from '../shared/src/framing';

/** A running fake server. */
export interface FakeServer {
  /** The port it listens on, on 127.0.0.1. */
  port: number;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/** A running fake TLS server. */
export interface FakeTlsServer extends FakeServer {
  /** Its certificate: `fingerprint` is what a client pins. */
  certificate: GeneratedCertificate;
}

/** What a fake server does with each line a client sends. */
export type OnLine = (socket: net.Socket, line: string) => void;

/**
 * Starts a fake plain-TCP server (stage 6) on a free port.
 *
 * @param greet - done first with each connection: write stage 6's `hello`,
 *   close at once, or say nothing
 * @param onLine - called with the connection and each complete line it sent
 */
export async function startFakeServer(
  greet: (socket: net.Socket) => void,
  onLine: OnLine = () => {},
): Promise<FakeServer> {
  return listen(
    net.createServer((socket) => {
      readLines(socket, onLine);
      greet(socket);
    }),
  );
}

/**
 * Starts a fake TLS server (stages 7 and 8) on a free port.
 *
 * @param alpnProtocol - the protocol name the stage's client asks for
 * @param onLine - called with the connection and each complete line it sent
 */
export async function startFakeTlsServer(
  alpnProtocol: string,
  onLine: OnLine,
): Promise<FakeTlsServer> {
  const certificate = await generateCertificate();
  const server = tls.createServer(
    {
      key: certificate.privateKeyPem,
      cert: certificate.certificatePem,
      ALPNProtocols: [alpnProtocol],
    },
    (socket) => readLines(socket, onLine),
  );
  return { ...(await listen(server)), certificate };
}

// The course's own framing, as a real server reads it.
function readLines(socket: net.Socket, onLine: OnLine): void {
  socket.on('error', () => {});
  const decoder = new LineDecoder();
  socket.on('data', (chunk: Buffer) => {
    for (const line of decoder.push(chunk)) if (line.ok) onLine(socket, line.text);
  });
}

async function listen(server: net.Server): Promise<FakeServer> {
  const sockets = new Set<net.Socket>();
  // Every TCP connection, TLS or not, handshake finished or not: close()
  // must not wait for one.
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
