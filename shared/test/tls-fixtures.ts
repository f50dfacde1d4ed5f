/**
 * Real TLS servers for tests: one that records every byte it receives, and a
 * man-in-the-middle relay with its own certificate. Used by the stage 7 tests
 * (and later stages) to prove what a client sends, and to whom.
 */
import { once } from 'node:events';
import type net from 'node:net';
import tls from 'node:tls';
import { generateCertificate, type GeneratedCertificate } from '../src/certificate';
import { tlsServerOptions } from '../src/tls-server';

/** The ALPN id the fixtures speak. */
export const TEST_ALPN = 'socket-chat/7';

/** A TLS echo server that keeps what each connection sent it. */
export interface RecordingServer {
  /** Its port on 127.0.0.1. */
  port: number;
  /** The server object (to watch `tlsClientError`, for instance). */
  server: tls.Server;
  /** Application bytes received, all connections together. */
  received(): Buffer;
  /** Connections that completed a handshake. */
  handshakes: number;
  /** Resolves when `n` connections have closed (handshake done or not). */
  closed(n: number): Promise<void>;
  /** Stops it. */
  close(): Promise<void>;
}

/** Options for {@link startRecordingServer}. */
export interface RecordingOptions {
  /** Extra or overriding `tls.createServer` options. */
  tlsOptions?: tls.TlsOptions;
  /** Called with the server before it listens (to install `refusePlaintext`). */
  beforeListen?: (server: tls.Server) => void;
}

/**
 * Starts a TLS 1.3 echo server on port 0 with `identity`'s certificate.
 *
 * @param identity - certificate and key
 * @param options - extra TLS options
 */
export async function startRecordingServer(
  identity: GeneratedCertificate,
  options: RecordingOptions = {},
): Promise<RecordingServer> {
  const chunks: Buffer[] = [];
  let closedCount = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({
    ...tlsServerOptions({
      chainPem: identity.certificatePem,
      privateKeyPem: identity.privateKeyPem,
      alpnProtocol: TEST_ALPN,
    }),
    ...options.tlsOptions,
  });
  const result: RecordingServer = {
    port: 0,
    server,
    received: () => Buffer.concat(chunks),
    handshakes: 0,
    closed: (n) =>
      new Promise((resolve) => {
        waiters.push({ n, resolve });
        settle();
      }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
  const settle = () => {
    for (const w of waiters.filter((w) => closedCount >= w.n)) w.resolve();
  };
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      closedCount++;
      settle();
    });
  });
  server.on('secureConnection', (socket) => {
    result.handshakes++;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      socket.write(chunk);
    });
    socket.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  options.beforeListen?.(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  result.port = (server.address() as net.AddressInfo).port;
  return result;
}

/** A relay that terminates TLS with its own certificate and forwards to a real server. */
export interface MitmRelay {
  /** Its port: clients connect here, believing it is the server. */
  port: number;
  /** Every plaintext byte clients sent through it: what an attacker learns. */
  seen(): Buffer;
  /** Stops it. */
  close(): Promise<void>;
}

/**
 * Starts a man in the middle: a TLS server with `own` (the attacker's
 * certificate) that opens a TLS connection to `targetPort` for each client,
 * copies bytes both ways, and records what the client sent.
 *
 * @param own - the attacker's certificate
 * @param targetPort - the real server on 127.0.0.1
 */
export async function startMitmRelay(
  own: GeneratedCertificate,
  targetPort: number,
): Promise<MitmRelay> {
  const seen: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    tlsServerOptions({
      chainPem: own.certificatePem,
      privateKeyPem: own.privateKeyPem,
      alpnProtocol: TEST_ALPN,
    }),
    (victim) => {
      sockets.add(victim);
      const upstream = tls.connect({
        port: targetPort,
        host: '127.0.0.1',
        rejectUnauthorized: false, // the attacker does not care who the server is
        ALPNProtocols: [TEST_ALPN],
      });
      sockets.add(upstream);
      victim.on('data', (chunk: Buffer) => {
        seen.push(chunk);
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => victim.write(chunk));
      for (const [a, b] of [
        [victim, upstream],
        [upstream, victim],
      ] as const) {
        a.on('error', () => b.destroy());
        a.on('close', () => b.destroy());
      }
    },
  );
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    seen: () => Buffer.concat(seen),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Makes a self-signed ECDSA certificate for 127.0.0.1 and localhost. */
export function makeServerCertificate(): Promise<GeneratedCertificate> {
  return generateCertificate();
}

/**
 * One TLS handshake with a server on 127.0.0.1, closed as soon as it
 * finishes: the loop of a client that makes a server sign and leaves.
 *
 * @param port - the server's port
 * @param alpnProtocol - the protocol id to offer
 * @returns true if the handshake finished, false if the connection was dropped first
 */
export function handshakeOnce(port: number, alpnProtocol: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false, // a test client: it checks nothing on purpose
      ALPNProtocols: [alpnProtocol],
    });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}
