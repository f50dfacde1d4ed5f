// Stage 7, "write the core": the pinning check, in exercises/core/stage7/pin.ts.
// The task is in stage7-tls/README.md, section "Exercises".
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type net from 'node:net';
import tls from 'node:tls';
import type { CheckContext, Exercise } from '../../kit/check';
import { expectSame } from '../../kit/expect';

/** The learner's two functions. */
interface Pin {
  serverFingerprint(peer: tls.PeerCertificate): string;
  decide(facts: Facts): 'accept' | 'pin' | 'ask';
}
interface Facts {
  server: string;
  presented: string;
  pinned: string | undefined;
  expected: string | undefined;
  knownServersFile: string;
}
/** What this exercise uses from shared/ (its API does not change). */
interface Certificates {
  generateCertificate(options?: { algorithm?: 'ecdsa-p256' | 'ed25519' }): Promise<{
    certificatePem: string;
    privateKeyPem: string;
    fingerprint: string;
  }>;
}

const K1 = 'SHA256:OA+KdZTKD4Jp6Y1cxmO4oSGUYDooEL/7TCKtfqXuy1M';
const K2 = 'SHA256:qHt2PAuBXTgCiUEUqghol6CQdU52iEq2MP4VKm/RuaM';
const FILE = '/home/alice/.data/known-servers';
const facts = (pinned?: string, expected?: string, presented = K1): Facts => ({
  server: '127.0.0.1:5050',
  presented,
  pinned,
  expected,
  knownServersFile: FILE,
});
const pin = (ctx: CheckContext) => ctx.load<Pin>('exercises/core/stage7/pin');

/** A TLS echo server with a new key; records the bytes it receives. */
async function server(ctx: CheckContext, algorithm: 'ecdsa-p256' | 'ed25519' = 'ecdsa-p256') {
  const made = await ctx
    .load<Certificates>('shared/src/certificate')
    .generateCertificate({ algorithm });
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const tlsServer = tls.createServer(
    { cert: made.certificatePem, key: made.privateKeyPem, minVersion: 'TLSv1.3' },
    (socket) => {
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.on('error', () => {});
      socket.pipe(socket);
    },
  );
  tlsServer.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  tlsServer.on('tlsClientError', () => {});
  tlsServer.listen(0, '127.0.0.1');
  await once(tlsServer, 'listening');
  ctx.defer(() => {
    for (const socket of sockets) socket.destroy();
    tlsServer.close();
  });
  const port = (tlsServer.address() as net.AddressInfo).port;
  return { port, fingerprint: made.fingerprint, received: () => Buffer.concat(received) };
}

/** Connects without CA checks and returns the socket once the handshake is done. */
async function handshake(ctx: CheckContext, port: number): Promise<tls.TLSSocket> {
  const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  ctx.defer(() => socket.destroy());
  await once(socket, 'secureConnect');
  return socket;
}

/** The code of what `fn` throws, or a description of what it did instead. */
function thrownCode(fn: () => unknown): string {
  try {
    return `no error (it returned ${JSON.stringify(fn())})`;
  } catch (err) {
    return (err as { code?: string }).code ?? `an error without a code: ${(err as Error).message}`;
  }
}

export const exercise: Exercise = {
  title: 'Write the core: check a server key against its pin',
  readme: 'stage7-tls/README.md',
  starter: 'exercises/core/stage7/pin.ts',
  checks: [
    {
      name: 'serverFingerprint: SHA256: + base64 of the SPKI digest (an ECDSA server)',
      hint: 'new X509Certificate(peer.raw).publicKey.export({ type: "spki", format: "der" }), SHA-256, base64, no "="',
      async run(ctx) {
        const s = await server(ctx, 'ecdsa-p256');
        const socket = await handshake(ctx, s.port);
        const got = pin(ctx).serverFingerprint(socket.getPeerCertificate());
        expectSame(got, s.fingerprint, "the fingerprint of the server's key");
      },
    },
    {
      name: 'serverFingerprint works for an Ed25519 key too (where peer.pubkey is missing)',
      hint: 'do not hash peer.pubkey: Node leaves it out for Ed25519, and for ECDSA it is not the SPKI',
      async run(ctx) {
        const s = await server(ctx, 'ed25519');
        const socket = await handshake(ctx, s.port);
        const got = pin(ctx).serverFingerprint(socket.getPeerCertificate());
        expectSame(got, s.fingerprint, "the fingerprint of the server's Ed25519 key");
      },
    },
    {
      name: 'decide: the pinned key is accepted; first contact asks, or pins when --server-fingerprint matches',
      hint: 'no pin and no expected fingerprint: "ask"; no pin and the expected one: "pin"; the pinned one: "accept"',
      async run(ctx) {
        const { decide } = pin(ctx);
        expectSame(decide(facts(K1)), 'accept', 'pinned K1, presented K1');
        expectSame(decide(facts(K1, K1)), 'accept', 'pinned K1, expected K1, presented K1');
        expectSame(decide(facts(undefined, undefined)), 'ask', 'first contact, nothing expected');
        expectSame(decide(facts(undefined, K1)), 'pin', 'first contact, expected K1, presented K1');
      },
    },
    {
      name: 'decide: another key than the pinned one is KEY_CHANGED, even with --server-fingerprint naming it',
      hint: 'compare presented with pinned first; a changed key is never accepted, whatever the user passed',
      async run(ctx) {
        const { decide } = pin(ctx);
        expectSame(
          thrownCode(() => decide(facts(K1, undefined, K2))),
          'KEY_CHANGED',
          'pinned K1, presented K2',
        );
        expectSame(
          thrownCode(() => decide(facts(K1, K2, K2))),
          'KEY_CHANGED',
          'pinned K1, expected K2, presented K2',
        );
      },
    },
    {
      name: 'decide: KEY_CHANGED says both fingerprints and names the known-servers file',
      hint: 'the user must see the old and the new key, and which file to edit if the change is real',
      async run(ctx) {
        let message = '';
        try {
          pin(ctx).decide(facts(K1, undefined, K2));
        } catch (err) {
          message = (err as Error).message;
        }
        for (const part of [K1, K2, FILE]) {
          assert.ok(
            message.includes(part),
            `the message ${JSON.stringify(message)} does not name ${part}`,
          );
        }
      },
    },
    {
      name: 'decide: a key other than --server-fingerprint is FINGERPRINT_MISMATCH',
      hint: 'when the user expected a fingerprint, the presented key must be exactly that one',
      async run(ctx) {
        const { decide } = pin(ctx);
        expectSame(
          thrownCode(() => decide(facts(undefined, K2))),
          'FINGERPRINT_MISMATCH',
          'first contact, expected K2, presented K1',
        );
        expectSame(
          thrownCode(() => decide(facts(K1, K2))),
          'FINGERPRINT_MISMATCH',
          'pinned K1, expected K2, presented K1',
        );
      },
    },
    {
      name: 'through real TLS: a client built on your check sends its secret to the pinned server, and nothing to another',
      hint: 'both functions together: fingerprint the peer on secureConnect, decide, and only "accept" lets the client write',
      async run(ctx) {
        const { serverFingerprint, decide } = pin(ctx);
        const real = await server(ctx);
        const impostor = await server(ctx);
        const client = async (port: number) => {
          const socket = await handshake(ctx, port);
          const presented = serverFingerprint(socket.getPeerCertificate());
          const decision = decide({ ...facts(real.fingerprint), presented });
          if (decision === 'accept') socket.write('password\n');
          socket.resume(); // read the echo, so the close can arrive
          socket.end();
          await once(socket, 'close');
        };
        await client(real.port);
        await assert.rejects(client(impostor.port), { code: 'KEY_CHANGED' });
        expectSame(real.received().toString(), 'password\n', 'what the pinned server received');
        expectSame(impostor.received().length, 0, 'bytes the impostor received');
      },
    },
  ],
};
