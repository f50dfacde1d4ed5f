// The pinned TLS connect against real TLS servers on port 0: a client sends
// nothing until the server's key passed the check, so a wrong key or a man in
// the middle learns nothing but the fact that someone connected.
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { GeneratedCertificate } from '../../shared/src/certificate';
import { KnownServers, serverName } from '../../shared/src/known-servers';
import { TicketKeys, tlsSessionTicketKeys } from '../../shared/src/login-ticket';
import { connectPinned, TlsSessionCache, type PinTrust } from '../../shared/src/tls-client';
import {
  makeServerCertificate,
  startMitmRelay,
  startRecordingServer,
  TEST_ALPN,
  type RecordingServer,
} from '../../shared/test/tls-fixtures';

const PASSWORD_FRAME = '{"type":"login","user":"alice","password":"correct horse battery"}\n';
const code = (c: string) => expect.objectContaining({ code: c });
const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

let dir: string;
let real: GeneratedCertificate;
let impostor: GeneratedCertificate;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  [real, impostor] = await Promise.all([makeServerCertificate(), makeServerCertificate()]);
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stage7-pin-'));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function serve(identity: GeneratedCertificate): Promise<RecordingServer> {
  const server = await startRecordingServer(identity);
  cleanups.push(() => server.close());
  return server;
}

function pinTrust(extra: Partial<PinTrust> = {}): PinTrust {
  return { knownServers: new KnownServers(path.join(dir, 'known-servers')), ...extra };
}

/** Connects, sends the password frame once the check passed, and waits for its echo. */
async function loginThrough(port: number, trust: PinTrust, sessions?: TlsSessionCache) {
  const connection = await connectPinned({
    host: '127.0.0.1',
    port,
    alpnProtocol: TEST_ALPN,
    trust,
    sessions,
  });
  cleanups.push(() => void connection.socket.destroy());
  connection.socket.write(PASSWORD_FRAME);
  await once(connection.socket, 'data');
  return connection;
}

test('first contact with the right --server-fingerprint: accepted, pinned in a new 0600 file', async () => {
  const server = await serve(real);
  const trust = pinTrust({ expectedFingerprint: real.fingerprint });
  const first = await loginThrough(server.port, trust);
  expect(first).toMatchObject({ fingerprint: real.fingerprint, pinnedNow: true, resumed: false });

  const file = trust.knownServers.file;
  expect(modeOf(file)).toBe(0o600);
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  expect(lines[0]).toMatch(/^# /);
  expect(lines[1]).toBe(`127.0.0.1:${server.port} ${real.fingerprint}`);

  // The next connection needs no flag: the pin is in the file.
  const second = await loginThrough(server.port, pinTrust());
  expect(second).toMatchObject({ fingerprint: real.fingerprint, pinnedNow: false });
  expect(server.received().toString()).toBe(PASSWORD_FRAME.repeat(2));
});

test('first contact with a wrong --server-fingerprint: FINGERPRINT_MISMATCH, nothing sent, nothing pinned', async () => {
  const server = await serve(real);
  const trust = pinTrust({ expectedFingerprint: impostor.fingerprint });
  await expect(loginThrough(server.port, trust)).rejects.toThrow(code('FINGERPRINT_MISMATCH'));
  await server.closed(1);
  expect(server.received()).toHaveLength(0);
  expect(fs.existsSync(trust.knownServers.file)).toBe(false);
});

test('first contact with no terminal and no fingerprint: UNKNOWN_SERVER names the key; a prompt decides', async () => {
  const server = await serve(real);
  const refused = loginThrough(server.port, pinTrust());
  await expect(refused).rejects.toThrow(code('UNKNOWN_SERVER'));
  await expect(refused).rejects.toThrow(`--server-fingerprint ${real.fingerprint}`);

  const asked: string[] = [];
  const declined = pinTrust({
    confirmFirstContact: async ({ server: name, fingerprint }) => {
      asked.push(`${name} ${fingerprint}`);
      return false;
    },
  });
  await expect(loginThrough(server.port, declined)).rejects.toThrow(code('UNKNOWN_SERVER'));
  expect(asked).toEqual([`127.0.0.1:${server.port} ${real.fingerprint}`]);

  const accepted = pinTrust({ confirmFirstContact: async () => true });
  expect(await loginThrough(server.port, accepted)).toMatchObject({ pinnedNow: true });
  await server.closed(2);
  expect(server.received().toString()).toBe(PASSWORD_FRAME); // only the accepted one sent
});

test('a pinned server that presents another key: KEY_CHANGED with both fingerprints, before any byte is sent', async () => {
  const server = await serve(impostor);
  const trust = pinTrust();
  trust.knownServers.remember(serverName('127.0.0.1', server.port), real.fingerprint);

  const attempt = loginThrough(server.port, trust);
  await expect(attempt).rejects.toThrow(code('KEY_CHANGED'));
  const message = await attempt.catch((err: Error) => err.message);
  expect(message).toContain(real.fingerprint);
  expect(message).toContain(impostor.fingerprint);
  expect(message).toContain(trust.knownServers.file); // where to look, what to delete

  // The client saw the server's certificate (the message names its key), then
  // closed: the server holds not one application byte.
  await server.closed(1);
  expect(server.received()).toHaveLength(0);
  // Even --server-fingerprint with the new key does not override a pin.
  const insist = pinTrust({ expectedFingerprint: impostor.fingerprint });
  await expect(loginThrough(server.port, insist)).rejects.toThrow(code('KEY_CHANGED'));
  expect(trust.knownServers.lookup(serverName('127.0.0.1', server.port))).toBe(real.fingerprint);
});

test('a man in the middle with its own certificate gets the password from a naive client, and nothing from a pinned one', async () => {
  const server = await serve(real);
  const relay = await startMitmRelay(impostor, server.port);
  cleanups.push(() => relay.close());

  // The attack works: a client that checks nothing (`rejectUnauthorized: false`) hands it over.
  const naive = tls.connect({
    port: relay.port,
    host: '127.0.0.1',
    rejectUnauthorized: false,
    ALPNProtocols: [TEST_ALPN],
  });
  cleanups.push(() => void naive.destroy());
  await once(naive, 'secureConnect');
  naive.write(PASSWORD_FRAME);
  await once(naive, 'data'); // echoed by the real server, through the relay
  expect(relay.seen().toString()).toBe(PASSWORD_FRAME);

  // A client that pinned the real server's key refuses the relay and sends nothing.
  const trust = pinTrust({ expectedFingerprint: real.fingerprint });
  await loginThrough(server.port, trust); // pins the real key directly
  const seenBefore = relay.seen().length;
  await expect(loginThrough(relay.port, trust)).rejects.toThrow(code('FINGERPRINT_MISMATCH'));
  // The relay listens on another port, so it is a first contact there: pin
  // that port too, to the real key, as a client that knew it would.
  trust.knownServers.remember(serverName('127.0.0.1', relay.port), real.fingerprint);
  await expect(loginThrough(relay.port, pinTrust())).rejects.toThrow(code('KEY_CHANGED'));
  expect(relay.seen().length).toBe(seenBefore);
});

test('a second connection resumes the TLS session (no certificate sent) and keeps the pin', async () => {
  const server = await serve(real);
  const sessions = new TlsSessionCache();
  const trust = pinTrust({ expectedFingerprint: real.fingerprint });
  const first = await loginThrough(server.port, trust, sessions);
  expect(first.resumed).toBe(false);
  expect(sessions.get(serverName('127.0.0.1', server.port))).toBeDefined(); // a ticket arrived with the echo

  const again = await loginThrough(server.port, pinTrust(), sessions);
  expect(again.resumed).toBe(true);
  expect(again.socket.isSessionReused()).toBe(true);
  expect(again.fingerprint).toBe(real.fingerprint);
});

test('a refused connection leaves no session behind to resume', async () => {
  const server = await serve(impostor);
  const sessions = new TlsSessionCache();
  const trust = pinTrust({ expectedFingerprint: real.fingerprint });
  await expect(loginThrough(server.port, trust, sessions)).rejects.toThrow(
    code('FINGERPRINT_MISMATCH'),
  );
  expect(sessions.get(serverName('127.0.0.1', server.port))).toBeUndefined();
});

test('a session from one server process resumes on another with the same ticket key file (a restart), not on one without', async () => {
  const keys = TicketKeys.generate();
  const withKeys = (ticketKeys: Buffer) => ({ tlsOptions: { ticketKeys } });
  const ticketKeysOf = (k: TicketKeys) => tlsSessionTicketKeys(k, real.privateKeyPem);
  const before = await startRecordingServer(real, withKeys(ticketKeysOf(keys)));
  const restarted = await startRecordingServer(real, withKeys(ticketKeysOf(keys)));
  const stranger = await startRecordingServer(real, withKeys(ticketKeysOf(TicketKeys.generate())));
  cleanups.push(
    () => before.close(),
    () => restarted.close(),
    () => stranger.close(),
  );

  const sessions = new TlsSessionCache();
  const trust = pinTrust({ expectedFingerprint: real.fingerprint });
  await loginThrough(before.port, trust, sessions);
  const session = sessions.get(serverName('127.0.0.1', before.port))!;
  for (const port of [restarted.port, stranger.port]) {
    trust.knownServers.remember(serverName('127.0.0.1', port), real.fingerprint);
    sessions.set(serverName('127.0.0.1', port), session.session, session.fingerprint);
  }
  expect((await loginThrough(restarted.port, pinTrust(), sessions)).resumed).toBe(true);
  const full = await loginThrough(stranger.port, pinTrust(), sessions);
  expect(full).toMatchObject({ resumed: false, fingerprint: real.fingerprint }); // a full handshake, checked
});

test('the ticket key file alone cannot pose as the server: its sessions resume only with the private key', async () => {
  const keys = TicketKeys.generate();
  const withKeys = (ticketKeys: Buffer) => ({ tlsOptions: { ticketKeys } });
  const server = await startRecordingServer(
    real,
    withKeys(tlsSessionTicketKeys(keys, real.privateKeyPem)),
  );
  // A thief with a copy of the ticket key file, but not the private key:
  // its own certificate, the same ticket keys.
  const thief = await startRecordingServer(
    impostor,
    withKeys(tlsSessionTicketKeys(keys, impostor.privateKeyPem)),
  );
  cleanups.push(
    () => server.close(),
    () => thief.close(),
  );
  const sessions = new TlsSessionCache();
  const trust = pinTrust({ expectedFingerprint: real.fingerprint });
  await loginThrough(server.port, trust, sessions);
  // The thief answers where the server was: the pin and the session apply.
  const session = sessions.get(serverName('127.0.0.1', server.port))!;
  trust.knownServers.remember(serverName('127.0.0.1', thief.port), real.fingerprint);
  sessions.set(serverName('127.0.0.1', thief.port), session.session, session.fingerprint);
  // Before, the session resumed (no certificate to check) and the password
  // frame went to the thief; now the handshake is a full one, and refused.
  await expect(loginThrough(thief.port, pinTrust(), sessions)).rejects.toThrow(code('KEY_CHANGED'));
  expect(thief.received().length).toBe(0);
});

test('a resumed session is still checked against the pin: after the pin changed, KEY_CHANGED, nothing sent', async () => {
  const server = await serve(real);
  const sessions = new TlsSessionCache();
  const trust = pinTrust({ expectedFingerprint: real.fingerprint });
  await loginThrough(server.port, trust, sessions);
  const name = serverName('127.0.0.1', server.port);
  trust.knownServers.remember(name, impostor.fingerprint); // say, the user pinned another key meanwhile
  const received = server.received().length;
  await expect(loginThrough(server.port, pinTrust(), sessions)).rejects.toThrow(
    code('KEY_CHANGED'),
  );
  expect(server.received().length).toBe(received);
  expect(sessions.get(name)).toBeUndefined();
});
