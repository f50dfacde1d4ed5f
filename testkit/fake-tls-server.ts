/**
 * A TLS server that speaks the course's framing but plays no fair part: the
 * hostile or broken server the stage 7 and stage 8 client tests stand the
 * real client against. It has a real certificate (the client pins its key
 * like any other) and hands each line it reads to the test, which decides
 * what, if anything, to answer.
 *
 * @module
 */
import { once } from 'node:events';
import type net from 'node:net';
import tls from 'node:tls';
import { generateCertificate, type GeneratedCertificate } from '../shared/src/certificate';

/** A running fake server. */
export interface FakeTlsServer {
  /** The port it listens on, on 127.0.0.1. */
  port: number;
  /** Its certificate: `fingerprint` is what a client pins. */
  certificate: GeneratedCertificate;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a fake server on a free port.
 *
 * @param alpnProtocol - the protocol name the stage's client asks for
 * @param onLine - called with the connection and each complete line it sent
 */
export async function startFakeTlsServer(
  alpnProtocol: string,
  onLine: (socket: tls.TLSSocket, line: string) => void,
): Promise<FakeTlsServer> {
  const certificate = await generateCertificate();
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer(
    {
      key: certificate.privateKeyPem,
      cert: certificate.certificatePem,
      ALPNProtocols: [alpnProtocol],
    },
    (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      let buffered = '';
      socket.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) onLine(socket, line);
      });
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    certificate,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
