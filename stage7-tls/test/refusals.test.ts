// What a TLS 1.3-only chat server does with clients it cannot serve, and what
// the pinned client does with servers it cannot trust: real sockets, real TLS.
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { generateCertificate, type GeneratedCertificate } from '../../shared/src/certificate';
import { KnownServers } from '../../shared/src/known-servers';
import {
  connectPinned,
  toConnectError,
  type ConnectPinnedOptions,
} from '../../shared/src/tls-client';
import {
  classifyTlsClientError,
  refusePlaintext,
  TLS_REQUIRED_FRAME,
  type TlsClientFailure,
} from '../../shared/src/tls-server';
import {
  startRecordingServer,
  TEST_ALPN,
  type RecordingServer,
} from '../../shared/test/tls-fixtures';

const code = (c: string) => expect.objectContaining({ code: c });
const DAY_MS = 24 * 60 * 60 * 1000;

let identity: GeneratedCertificate;
let dir: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  identity = await generateCertificate();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stage7-refusals-'));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A server that logs what `tlsClientError` and `refusePlaintext` report, as a chat server would. */
async function guardedServer(): Promise<{ server: RecordingServer; failures: TlsClientFailure[] }> {
  const failures: TlsClientFailure[] = [];
  const server = await startRecordingServer(identity, {
    beforeListen: (s) => {
      s.on('tlsClientError', (err) => failures.push(classifyTlsClientError(err)));
      refusePlaintext(s, { onRefused: (_socket, failure) => failures.push(failure) });
    },
  });
  cleanups.push(() => server.close());
  return { server, failures };
}

const connect = (port: number, trust: ConnectPinnedOptions['trust'], host = '127.0.0.1') =>
  connectPinned({ host, port, alpnProtocol: TEST_ALPN, trust }).then((c) => {
    cleanups.push(() => void c.socket.destroy());
    return c;
  });

describe('the server', () => {
  test('refuses a TLS 1.2 client in the handshake, and logs TLS_VERSION', async () => {
    const { server, failures } = await guardedServer();
    const old = tls.connect({
      port: server.port,
      host: '127.0.0.1',
      maxVersion: 'TLSv1.2',
      rejectUnauthorized: false,
    });
    const [err] = (await once(old, 'error').catch((e: unknown) => [e])) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'); // what the client's TLS library says
    await server.closed(1);
    expect(failures).toEqual([expect.objectContaining({ code: 'TLS_VERSION' })]);
    expect(server.received()).toHaveLength(0);
  });

  test('answers a plain-text client with one TLS_REQUIRED frame, then closes', async () => {
    const { server, failures } = await guardedServer();
    const plain = net.connect(server.port, '127.0.0.1');
    plain.write('{"type":"login","user":"alice","password":"secret-password"}\n');
    const chunks: Buffer[] = [];
    plain.on('data', (chunk: Buffer) => chunks.push(chunk));
    await once(plain, 'close');
    expect(Buffer.concat(chunks).toString()).toBe(TLS_REQUIRED_FRAME);
    expect(JSON.parse(TLS_REQUIRED_FRAME)).toMatchObject({ type: 'error', code: 'TLS_REQUIRED' });
    expect(failures).toEqual([expect.objectContaining({ code: 'TLS_REQUIRED' })]);
    expect(server.handshakes).toBe(0);

    // TLS clients still get through the guard, and are echoed.
    const trust = {
      knownServers: new KnownServers(path.join(dir, 'ks-guard')),
      expectedFingerprint: identity.fingerprint,
    };
    const { socket } = await connect(server.port, trust);
    socket.write('hello\n');
    const [echo] = (await once(socket, 'data')) as [Buffer];
    expect(echo.toString()).toBe('hello\n');
  });

  test('closes a connection that never sends its first byte', async () => {
    const failures: TlsClientFailure[] = [];
    const server = await startRecordingServer(identity, {
      beforeListen: (s) =>
        refusePlaintext(s, { firstByteTimeoutMs: 50, onRefused: (_s, f) => failures.push(f) }),
    });
    cleanups.push(() => server.close());
    const silent = net.connect(server.port, '127.0.0.1');
    await once(silent, 'close'); // closed by the server: the test would hang otherwise
    expect(failures).toEqual([]);
  });

  // The server's end of a refused connection, closed or not.
  const serverSide = async (lingerMs?: number, allowHalfOpen = false) => {
    const refused: net.Socket[] = [];
    const server = await startRecordingServer(identity, {
      beforeListen: (s) => refusePlaintext(s, { lingerMs, onRefused: (r) => refused.push(r) }),
    });
    cleanups.push(() => server.close());
    const plain = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen });
    cleanups.push(() => void plain.destroy());
    plain.write('hello\n');
    plain.resume();
    await once(plain, 'end'); // the reply, then the server's FIN
    return refused[0]!;
  };
  const closed = async (socket: net.Socket) =>
    void (socket.closed || (await once(socket, 'close')));

  test('lets go of a refused plain-text client as soon as it closes its side', async () => {
    // An hour's linger: only reading the client's FIN can close it in time.
    await closed(await serverSide(3_600_000)); // the test would hang otherwise
  });

  test('lets go of a refused plain-text client that never closes its side, after the linger', async () => {
    await closed(await serverSide(50, true)); // the test would hang otherwise
  });

  test('without the guard, a plain-text client only sees the connection drop (why the guard exists)', async () => {
    const failures: TlsClientFailure[] = [];
    const server = await startRecordingServer(identity, {
      beforeListen: (s) =>
        s.on('tlsClientError', (err) => failures.push(classifyTlsClientError(err))),
    });
    cleanups.push(() => server.close());
    const plain = net.connect(server.port, '127.0.0.1');
    plain.on('error', () => {});
    plain.write('hello\n');
    const chunks: Buffer[] = [];
    plain.on('data', (chunk: Buffer) => chunks.push(chunk));
    await once(plain, 'close');
    expect(Buffer.concat(chunks)).toHaveLength(0);
    expect(failures).toEqual([expect.objectContaining({ code: 'TLS_REQUIRED' })]);
  });

  test('refuses a client that offers another application protocol (ALPN)', async () => {
    const { server, failures } = await guardedServer();
    const other = tls.connect({
      port: server.port,
      host: '127.0.0.1',
      ALPNProtocols: ['http/1.1'],
      rejectUnauthorized: false,
    });
    await expect(once(other, 'secureConnect')).rejects.toMatchObject({
      code: 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL',
    });
    await server.closed(1);
    expect(failures).toEqual([expect.objectContaining({ code: 'TLS_HANDSHAKE' })]);
  });

  test("logs an unexpected OpenSSL failure on one line, with OpenSSL's short reason", () => {
    const err = Object.assign(
      new Error('80CC:error:0A0000C1:SSL routines:tls_post_process:no shared cipher:ssl.c:2283:\n'),
      { code: 'ERR_SSL_NO_SHARED_CIPHER', library: 'SSL routines', reason: 'no shared cipher' },
    );
    expect(classifyTlsClientError(err)).toEqual({
      code: 'TLS_HANDSHAKE',
      message: 'TLS handshake failed: no shared cipher (ERR_SSL_NO_SHARED_CIPHER)',
    });
  });
});

describe('the client', () => {
  const pinFor = (name: string) => ({
    knownServers: new KnownServers(path.join(dir, name)),
    expectedFingerprint: identity.fingerprint,
  });

  test('refuses a server that speaks only TLS 1.2: TLS_VERSION', async () => {
    const server = await startRecordingServer(identity, {
      tlsOptions: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' },
    });
    cleanups.push(() => server.close());
    await expect(connect(server.port, pinFor('ks-12'))).rejects.toThrow(code('TLS_VERSION'));
  });

  test('refuses a plain TCP server (an earlier stage): TLS_HANDSHAKE, and sends it nothing but a ClientHello', async () => {
    const received: Buffer[] = [];
    let serverSideClosed!: Promise<unknown>;
    const plain = net.createServer((socket) => {
      serverSideClosed = once(socket, 'close');
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.on('error', () => {});
      socket.write('{"type":"hello"}\n');
    });
    plain.listen(0, '127.0.0.1');
    await once(plain, 'listening');
    cleanups.push(() => void plain.close());
    const port = (plain.address() as net.AddressInfo).port;
    await expect(connect(port, pinFor('ks-plain'))).rejects.toThrow(code('TLS_HANDSHAKE'));
    await serverSideClosed;
    expect(Buffer.concat(received)[0]).toBe(0x16); // a TLS record, not a frame
  });

  test('refuses a server that does not speak the chat protocol (no ALPN): TLS_HANDSHAKE', async () => {
    const server = await startRecordingServer(identity, { tlsOptions: { ALPNProtocols: [] } });
    cleanups.push(() => server.close());
    await expect(connect(server.port, pinFor('ks-alpn'))).rejects.toThrow(code('TLS_HANDSHAKE'));
    expect(server.received()).toHaveLength(0);
  });

  test("refuses another stage's server (another ALPN id) in one line: TLS_HANDSHAKE", async () => {
    const server = await startRecordingServer(identity, {
      tlsOptions: { ALPNProtocols: ['socket-chat/8'] },
    });
    cleanups.push(() => server.close());
    const attempt = connect(server.port, pinFor('ks-alpn-8'));
    await expect(attempt).rejects.toThrow(code('TLS_HANDSHAKE'));
    // Not OpenSSL's two lines ("…:error:0A000460:SSL routines:…\n (ERR_SSL_…)").
    await expect(attempt).rejects.toHaveProperty(
      'message',
      `the server at 127.0.0.1:${server.port} does not speak ${TEST_ALPN} (another stage's server?)`,
    );
    expect(server.received()).toHaveLength(0);
  });

  test("any other OpenSSL failure is one line: OpenSSL's short reason, or the message folded", () => {
    const openssl = Object.assign(
      new Error(
        '80FC423BD17F0000:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:' +
          '../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1605:SSL alert number 40\n',
      ),
      {
        code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
        library: 'SSL routines',
        reason: 'sslv3 alert handshake failure',
      },
    );
    expect(toConnectError(openssl, '127.0.0.1:5050').message).toBe(
      'TLS handshake with 127.0.0.1:5050 failed: sslv3 alert handshake failure ' +
        '(ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE)',
    );
    const folded = toConnectError(new Error('first line\n  second line\n'), '127.0.0.1:5050');
    expect(folded).toMatchObject({ code: 'TLS_HANDSHAKE' });
    expect(folded.message).toBe('TLS handshake with 127.0.0.1:5050 failed: first line second line');
  });

  test('nothing listening: CONNECT_FAILED, asking whether the server is running', async () => {
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as net.AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const refused = connect(port, pinFor('ks-none'));
    await expect(refused).rejects.toThrow(code('CONNECT_FAILED'));
    // What stages 2-6 say, not Node's `connect ECONNREFUSED 127.0.0.1:PORT`.
    await expect(refused).rejects.toThrow(
      `cannot connect to 127.0.0.1:${port}: connection refused (is the server running?)`,
    );
  });
});

describe('under --ca (certificate verification instead of a pin)', () => {
  let ca: GeneratedCertificate;
  let issuer: { certificatePem: string; privateKeyPem: string };
  beforeAll(async () => {
    ca = await generateCertificate({ isCa: true, commonName: 'Test CA', hostNames: [] });
    issuer = { certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem };
  });

  async function serveIssued(leaf: GeneratedCertificate): Promise<RecordingServer> {
    // The chain a CA hands out: the leaf, then the issuer.
    const server = await startRecordingServer(leaf, {
      tlsOptions: { cert: leaf.certificatePem + ca.certificatePem },
    });
    cleanups.push(() => server.close());
    return server;
  }

  test('a certificate the CA issued for this host name is accepted, by name and by address', async () => {
    const server = await serveIssued(await generateCertificate({ issuer }));
    for (const host of ['localhost', '127.0.0.1']) {
      const { socket, fingerprint } = await connect(server.port, { ca: ca.certificatePem }, host);
      expect(socket.authorized).toBe(true);
      expect(fingerprint).toMatch(/^SHA256:/);
    }
  });

  test('an expired certificate is refused: CERT_INVALID, nothing sent', async () => {
    const expired = await generateCertificate({
      issuer,
      now: new Date(Date.now() - 10 * DAY_MS),
      validDays: 1,
    });
    const server = await serveIssued(expired);
    const attempt = connect(server.port, { ca: ca.certificatePem });
    await expect(attempt).rejects.toThrow(code('CERT_INVALID'));
    await expect(attempt).rejects.toThrow(/expired/);
    expect(server.received()).toHaveLength(0);
  });

  test('a certificate for another host name is refused: CERT_INVALID', async () => {
    const elsewhere = await generateCertificate({ issuer, hostNames: ['chat.example.org'] });
    const server = await serveIssued(elsewhere);
    const attempt = connect(server.port, { ca: ca.certificatePem }, 'localhost');
    await expect(attempt).rejects.toThrow(code('CERT_INVALID'));
    await expect(attempt).rejects.toThrow(/localhost/);
    expect(server.received()).toHaveLength(0);
  });

  test('a self-signed certificate (not from the CA) is refused: CERT_INVALID', async () => {
    const server = await startRecordingServer(identity);
    cleanups.push(() => server.close());
    await expect(connect(server.port, { ca: ca.certificatePem })).rejects.toThrow(
      code('CERT_INVALID'),
    );
  });
});
