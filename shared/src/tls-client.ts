/**
 * The client's side of TLS: connect, make sure the server is the right one,
 * and only then hand the socket to the caller.
 *
 * Introduced by stage 7. Two ways to trust a server:
 *
 * - **Pinning** (the default): the server's certificate is self-signed, so no
 *   certificate authority can vouch for it. The client compares the key's
 *   fingerprint with the one it pinned the first time (`pin-decision.ts`,
 *   `known-servers.ts`), as ssh does with host keys.
 * - **A CA** (`--ca FILE`): ordinary certificate verification, as a browser
 *   does: the chain must lead to that CA, the dates must hold, and the
 *   certificate must name the host the client connected to.
 *
 * **Not one byte before the check.** Node calls `checkServerIdentity` only
 * after the chain verified, and a self-signed certificate never does; so in
 * pinning mode the check runs on `secureConnect`, and {@link connectPinned}
 * resolves only once it passed. Until then nobody holds the socket, so
 * nothing can be written to it: a man in the middle learns that a client
 * connected, and nothing else.
 *
 * **Resumption.** A server that resumes a TLS session proves it holds the
 * secret of an earlier session, which only the pinned server could have
 * made; a resumed handshake carries no certificate. So a session is cached
 * only after its pin check passed, together with the fingerprint it was
 * checked against, and a resumed connection is checked against that.
 *
 * @module
 */
import net from 'node:net';
import tls from 'node:tls';
import { ChatError, isChatError } from './errors';
import { fingerprintOfPeer } from './fingerprint';
import { serverName, type KnownServers } from './known-servers';
import { decidePin } from './pin-decision';
import { describeTlsError } from './tls-server';

/** Trust the server whose key is pinned in a known-servers file. */
export interface PinTrust {
  /** The known-servers file. */
  knownServers: KnownServers;
  /** `--server-fingerprint`: the key to expect on first contact (canonical, see `parseFingerprint`). */
  expectedFingerprint?: string;
  /**
   * Asks a person whether to trust a server seen for the first time (a
   * terminal prompt). Absent: first contact without `expectedFingerprint`
   * is refused with `UNKNOWN_SERVER`.
   */
  confirmFirstContact?: (contact: FirstContact) => Promise<boolean>;
}

/** Trust servers whose certificate a CA issued, for the host name connected to. */
export interface CaTrust {
  /** The CA certificate(s), PEM: the content of `--ca FILE`. */
  ca: string;
}

/** What a first-contact prompt shows. */
export interface FirstContact {
  /** `HOST:PORT`. */
  server: string;
  /** The key the server presented, `SHA256:…`. */
  fingerprint: string;
}

/** Options for {@link connectPinned}. */
export interface ConnectPinnedOptions {
  /** Host name or address of the server. */
  host: string;
  /** Its TCP port. */
  port: number;
  /** The application protocol both sides must agree on (ALPN), e.g. `socket-chat/7`. */
  alpnProtocol: string;
  /** How the server is trusted: a pin, or a CA. */
  trust: PinTrust | CaTrust;
  /** Where TLS sessions are kept between connections, for resumption. */
  sessions?: TlsSessionCache;
  /** Give up if the connection and handshake take longer. Default 30 000 ms. */
  handshakeTimeoutMs?: number;
}

/** A TLS connection whose server passed the trust check. */
export interface PinnedConnection {
  /** The socket: read and write application data here. */
  socket: tls.TLSSocket;
  /** The server key's fingerprint. */
  fingerprint: string;
  /** Whether the handshake resumed an earlier session (no certificate, less CPU). */
  resumed: boolean;
  /** Whether this connection pinned the server for the first time. */
  pinnedNow: boolean;
}

/** A TLS session kept for resumption, and the key it was checked against. */
export interface CachedSession {
  /** What the socket's `session` event gave (a TLS 1.3 ticket and its secret). */
  session: Buffer;
  /** The fingerprint the connection that made it was checked against. */
  fingerprint: string;
}

/**
 * TLS sessions a client keeps between connections, by server. In memory:
 * a session holds a resumption secret, and outlives one process only in the
 * server's ticket key, never on the client's disk.
 */
export class TlsSessionCache {
  private readonly sessions = new Map<string, CachedSession>();

  /**
   * The latest session for `server` and the fingerprint it was checked against.
   *
   * @param server - `HOST:PORT`
   */
  get(server: string): CachedSession | undefined {
    return this.sessions.get(server);
  }

  /**
   * Keeps `session`, replacing the previous one for `server`.
   *
   * @param server - `HOST:PORT`
   * @param session - what the socket's `session` event gave
   * @param fingerprint - the server key it was checked against
   */
  set(server: string, session: Buffer, fingerprint: string): void {
    this.sessions.set(server, { session, fingerprint });
  }

  /**
   * Drops the session for `server` (after a failed check).
   *
   * @param server - `HOST:PORT`
   */
  delete(server: string): void {
    this.sessions.delete(server);
  }
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;

/**
 * Connects with TLS 1.3, checks the server (pin or CA), and resolves with the
 * socket only after the check passed. Nothing is written before that. The
 * caller adds its own `error` listener to the socket it gets.
 *
 * @param options - where, which protocol, how to trust
 * @returns the checked connection
 * @throws ChatError `KEY_CHANGED`, `FINGERPRINT_MISMATCH` or `UNKNOWN_SERVER`
 *   (pinning), `CERT_INVALID` (CA), `TLS_VERSION` or `TLS_HANDSHAKE` (the
 *   handshake failed), `CONNECT_FAILED` (no TCP connection)
 */
export async function connectPinned(options: ConnectPinnedOptions): Promise<PinnedConnection> {
  const { host, port, alpnProtocol, trust, sessions } = options;
  const server = serverName(host, port);
  const pinning = 'knownServers' in trust;
  const cached = sessions?.get(server);
  const socket = tls.connect({
    host,
    port,
    // SNI carries a host name, never an address (RFC 6066).
    servername: net.isIP(host) === 0 ? host : undefined,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ALPNProtocols: [alpnProtocol],
    session: cached?.session,
    // Pinning checks the key itself, below, so OpenSSL's verdict on a
    // self-signed chain ("not trusted") is set aside; under a CA it decides.
    // `rejectUnauthorized: false` with no check of your own is the classic bug.
    rejectUnauthorized: !pinning,
    ca: pinning ? undefined : (trust as CaTrust).ca,
  });
  // Sessions arrive after the handshake; keep them only once the check passed.
  let checkedFingerprint: string | undefined;
  socket.on('session', (session: Buffer) => {
    if (checkedFingerprint !== undefined) sessions?.set(server, session, checkedFingerprint);
  });
  socket.setTimeout(options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, () =>
    socket.destroy(
      new ChatError('TLS_HANDSHAKE', `no TLS handshake with ${server} within the deadline`),
    ),
  );
  let fail: (err: unknown) => void = () => {};
  const onClose = () =>
    fail(new ChatError('TLS_HANDSHAKE', `${server} closed the connection during the handshake`));
  const onError = (err: unknown) => fail(err);
  socket.on('error', onError);
  socket.on('close', onClose);
  try {
    await new Promise<void>((resolve, reject) => {
      fail = reject;
      socket.once('secureConnect', resolve);
    });
    if (socket.alpnProtocol !== alpnProtocol) {
      throw new ChatError(
        'TLS_HANDSHAKE',
        `${server} did not agree to speak ${alpnProtocol} (ALPN); is it a chat server of this stage?`,
      );
    }
    // The handshake is done: a first-contact prompt may take as long as the
    // person needs (the server's own login deadline still bounds it).
    socket.setTimeout(0);
    const resumed = socket.isSessionReused();
    // A resumed session was checked when it was made, against this fingerprint.
    const fingerprint =
      resumed && cached !== undefined
        ? cached.fingerprint
        : fingerprintOfPeer(socket.getPeerCertificate());
    let pinnedNow = false;
    if (pinning) {
      // A prompt can take a while: if the server hangs up meanwhile, stop asking.
      pinnedNow = await new Promise<boolean>((resolve, reject) => {
        fail = reject;
        checkPin(trust, server, fingerprint).then(resolve, reject);
      });
    }
    checkedFingerprint = fingerprint;
    socket.off('error', onError);
    socket.off('close', onClose);
    return { socket, fingerprint, resumed, pinnedNow };
  } catch (err) {
    sessions?.delete(server);
    socket.destroy();
    throw toConnectError(err, server, alpnProtocol);
  }
}

// Runs the pinning decision; returns whether the server was pinned just now.
async function checkPin(trust: PinTrust, server: string, presented: string): Promise<boolean> {
  const decision = decidePin({
    server,
    presented,
    pinned: trust.knownServers.lookup(server),
    expected: trust.expectedFingerprint,
    knownServersFile: trust.knownServers.file,
  });
  if (decision === 'accept') return false;
  if (decision === 'ask') {
    if (trust.confirmFirstContact === undefined) {
      throw new ChatError(
        'UNKNOWN_SERVER',
        `first contact with ${server}, which presented the key ${presented}, and no terminal to ask ` +
          `whether to trust it. Check that fingerprint with the server's operator (the server prints it ` +
          `at start), then pass --server-fingerprint ${presented}`,
      );
    }
    if (!(await trust.confirmFirstContact({ server, fingerprint: presented }))) {
      throw new ChatError(
        'UNKNOWN_SERVER',
        `you did not trust the key of ${server}; nothing was sent`,
      );
    }
  }
  trust.knownServers.remember(server, presented);
  return true;
}

// OpenSSL's verification codes, as Node reports them, that mean "bad certificate".
const CERT_CODES =
  /^(CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ERR_TLS_CERT_ALTNAME|HOSTNAME_MISMATCH)/;

/**
 * Turns what a failed TLS connection throws into a {@link ChatError} with a
 * stable code and a one-line message; a `ChatError` passes through.
 *
 * @param err - the error
 * @param server - `HOST:PORT`, for the message
 * @param alpnProtocol - the application protocol the client offered, for the message
 */
export function toConnectError(err: unknown, server: string, alpnProtocol?: string): ChatError {
  if (isChatError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const message = describeTlsError(err as Error);
  // The plain-TCP clients of stages 2-6 say it the same way.
  if (code === 'ECONNREFUSED') {
    return new ChatError(
      'CONNECT_FAILED',
      `cannot connect to ${server}: connection refused (is the server running?)`,
    );
  }
  if (['ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code)) {
    return new ChatError('CONNECT_FAILED', `cannot connect to ${server}: ${message}`);
  }
  if (CERT_CODES.test(code)) {
    return new ChatError(
      'CERT_INVALID',
      `the certificate of ${server} did not verify: ${message} (${code})`,
    );
  }
  if (code === 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' || code === 'ERR_SSL_UNSUPPORTED_PROTOCOL') {
    return new ChatError(
      'TLS_VERSION',
      `${server} and this client share no TLS version (this client speaks TLS 1.3 only)`,
    );
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return new ChatError(
      'TLS_HANDSHAKE',
      `${server} did not answer in TLS (a server of an earlier stage?)`,
    );
  }
  // The server refused our ALPN id with alert 120: it speaks another protocol.
  if (code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') {
    return new ChatError(
      'TLS_HANDSHAKE',
      `the server at ${server} does not speak ${alpnProtocol ?? 'this protocol'} (another stage's server?)`,
    );
  }
  return new ChatError(
    'TLS_HANDSHAKE',
    `TLS handshake with ${server} failed: ${message}${code ? ` (${code})` : ''}`,
  );
}
