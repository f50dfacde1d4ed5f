/**
 * The server's side of TLS: the options every chat server uses, a clear
 * answer to clients that do not speak TLS, and stable codes for failed
 * handshakes.
 *
 * Introduced by stage 7.
 *
 * - **TLS 1.3 only.** 1.3 removed the weak parts of 1.2 (static RSA key
 *   exchange, CBC ciphers, renegotiation) and every handshake has forward
 *   secrecy. Node 12 and OpenSSL 1.1.1 speak it, so nothing older is needed.
 * - **ALPN.** Client and server name the application protocol inside the
 *   handshake (`socket-chat/7`); a client of another protocol (or another
 *   stage) fails the handshake instead of misreading frames.
 * - **Session tickets.** A returning client resumes its session: no
 *   certificate, no signature, less CPU on the event loop. The ticket keys
 *   come from the server's ticket key file, so sessions survive a restart.
 * - **Plain text gets an answer.** A TLS server that receives plain text can
 *   only drop the connection, and the person at `nc` (or an older client)
 *   sees nothing. {@link refusePlaintext} looks at the first byte: a TLS
 *   handshake record starts with 22 (0x16), and anything else is answered in
 *   plain text with a `TLS_REQUIRED` error frame before the connection closes.
 * - **A failed handshake closes its connection.** Node leaves a connection
 *   whose handshake timed out open; {@link closeFailedHandshakes} closes it.
 *
 * @module
 */
import type net from 'node:net';
import type tls from 'node:tls';
import type { ChatErrorCode } from './errors';
import { endPolitely } from './polite-close';

/** What a chat server needs to serve TLS. */
export interface TlsServerIdentity {
  /** The certificate chain, PEM, leaf first. */
  chainPem: string;
  /** The private key, PEM. */
  privateKeyPem: string;
  /** The application protocol (ALPN id), e.g. `socket-chat/7`. */
  alpnProtocol: string;
  /**
   * 48 bytes that encrypt TLS session tickets (`ticketKeys` in `node:tls`);
   * see `tlsSessionTicketKeys` in `login-ticket.ts`. Absent: random per
   * process, so sessions do not survive a restart.
   */
  sessionTicketKeys?: Buffer;
}

/** How long a TLS session may be resumed: the same day as the login ticket. */
export const TLS_SESSION_TIMEOUT_S = 24 * 60 * 60;

/**
 * The key-exchange groups a chat server accepts: X25519, then P-256. Left
 * to OpenSSL's defaults, a TLS 1.3 server also accepts the finite-field
 * groups (ffdhe2048 to ffdhe8192), and its side of an ffdhe8192 exchange
 * costs about 100 ms of CPU, a hundred times X25519's: a client replaying a
 * recorded hello that offers only that group computes nothing and keeps the
 * event loop busy (stage 7's `security.test.ts`). Every TLS 1.3 client
 * offers one of these two.
 */
export const TLS_KEY_EXCHANGE_GROUPS = 'X25519:P-256';

/**
 * The `tls.createServer` options of a chat server: TLS 1.3 only, one ALPN
 * id, session tickets on, only cheap key-exchange groups.
 *
 * @param identity - certificate, key, protocol id, ticket keys
 */
export function tlsServerOptions(identity: TlsServerIdentity): tls.TlsOptions {
  return {
    cert: identity.chainPem,
    key: identity.privateKeyPem,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ecdhCurve: TLS_KEY_EXCHANGE_GROUPS,
    ALPNProtocols: [identity.alpnProtocol],
    ticketKeys: identity.sessionTicketKeys,
    sessionTimeout: TLS_SESSION_TIMEOUT_S,
  };
}

/** A failed handshake, as a server logs it. */
export interface TlsClientFailure {
  /** `TLS_REQUIRED` (not TLS at all), `TLS_VERSION` (TLS older than 1.3), or `TLS_HANDSHAKE`. */
  code: Extract<ChatErrorCode, 'TLS_REQUIRED' | 'TLS_VERSION' | 'TLS_HANDSHAKE'>;
  /** One line for the log: what happened, and OpenSSL's code. */
  message: string;
}

const NOT_TLS = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_HTTP_REQUEST',
  'ERR_SSL_HTTPS_PROXY_REQUEST',
  'ERR_SSL_UNKNOWN_PROTOCOL',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
]);
const OLD_TLS = new Set([
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
  'ERR_SSL_VERSION_TOO_LOW',
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
]);

/**
 * Classifies the error of a server's `tlsClientError` event.
 *
 * @param err - the error Node passed to `tlsClientError`
 * @returns a stable code and a log line
 *
 * @example
 * ```ts
 * server.on('tlsClientError', (err, socket) => {
 *   const { code, message } = classifyTlsClientError(err);
 *   logger.info({ code, peer: socket.remoteAddress }, message);
 *   socket.destroy(); // what closeFailedHandshakes does for you
 * });
 * ```
 */
export function classifyTlsClientError(err: Error): TlsClientFailure {
  const openssl = (err as NodeJS.ErrnoException).code ?? 'no code';
  if (NOT_TLS.has(openssl)) {
    return { code: 'TLS_REQUIRED', message: `the client did not speak TLS (${openssl})` };
  }
  if (OLD_TLS.has(openssl)) {
    return {
      code: 'TLS_VERSION',
      message: `the client offered only TLS older than 1.3 (${openssl})`,
    };
  }
  if (openssl === 'ERR_TLS_HANDSHAKE_TIMEOUT') {
    return {
      code: 'TLS_HANDSHAKE',
      message: `the client did not finish its handshake in time (${openssl})`,
    };
  }
  if (openssl === 'ERR_SSL_NO_APPLICATION_PROTOCOL') {
    return {
      code: 'TLS_HANDSHAKE',
      message: `the client offered another application protocol (ALPN) (${openssl})`,
    };
  }
  return {
    code: 'TLS_HANDSHAKE',
    message: `TLS handshake failed: ${describeTlsError(err)} (${openssl})`,
  };
}

/**
 * A TLS error in one line for a person. The message of an OpenSSL error is
 * OpenSSL's own record (an id, the library, the function, the source file
 * and line, the detail, and a newline); its short reason says the same. Any
 * other message is folded onto one line, so that one error stays one line,
 * in a log as in a client's `error: MESSAGE [CODE]`.
 *
 * @param err - what a TLS socket failed with
 * @returns OpenSSL's short reason (e.g. `no shared cipher`), or the message on one line
 */
export function describeTlsError(err: Error): string {
  const { library, reason } = err as Error & { library?: unknown; reason?: unknown };
  const text = typeof library === 'string' && typeof reason === 'string' ? reason : err.message;
  return String(text).replace(/\s+/g, ' ').trim();
}

/**
 * Whether a finished handshake agreed on the server's application protocol.
 *
 * ALPN is an optional extension: a client that offers another protocol
 * fails the handshake, but one that offers none at all completes it, and
 * would then hold a connection (and its place under the caps) until the
 * login deadline without ever speaking the chat protocol. Check this in
 * `secureConnection` before the connection is served.
 *
 * @param socket - a server-side socket whose handshake finished
 * @param alpnProtocol - the server's protocol id, e.g. `socket-chat/7`
 * @returns the refusal to log (then destroy the socket), or `undefined` if it agreed
 */
export function unexpectedProtocol(
  socket: tls.TLSSocket,
  alpnProtocol: string,
): TlsClientFailure | undefined {
  if (socket.alpnProtocol === alpnProtocol) return undefined;
  return { code: 'TLS_HANDSHAKE', message: 'the client offered no application protocol (ALPN)' };
}

/**
 * Closes every connection whose TLS handshake failed, after reporting why.
 *
 * Node tells a server about a failed handshake with `tlsClientError`, and
 * for most failures (a bad record, an old version) OpenSSL has already
 * ended the connection. Not for a handshake that is too slow: when the
 * `handshakeTimeout` passes, Node emits `tlsClientError` with
 * `ERR_TLS_HANDSHAKE_TIMEOUT` and leaves the socket open. A client that
 * sends half a ClientHello and waits would then keep its connection, and
 * its place under every connection cap, for as long as it likes: a few dozen
 * such clients lock everyone out. So the listener destroys the socket
 * itself, whatever the failure.
 *
 * @param server - a `tls.Server`
 * @param onFailure - called first with the failure's code and log line (to log it)
 */
export function closeFailedHandshakes(
  server: tls.Server,
  onFailure?: (failure: TlsClientFailure, socket: tls.TLSSocket) => void,
): void {
  server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
    onFailure?.(classifyTlsClientError(err), socket);
    socket.destroy();
  });
}

/** Options for {@link refusePlaintext}. */
export interface RefusePlaintextOptions {
  /**
   * What a plain-text client is sent before the connection closes. Default:
   * one JSON error frame, `{"type":"error","code":"TLS_REQUIRED",…}`.
   */
  reply?: string;
  /** Called for each refused connection (to log it). */
  onRefused?: (socket: net.Socket, failure: TlsClientFailure) => void;
  /**
   * A connection that sends no byte within this time is closed. Default
   * 10 000 ms: Node's own handshake deadline starts only after the first byte.
   */
  firstByteTimeoutMs?: number;
  /**
   * How long a refused client may take to close its side after the reply
   * before its connection is destroyed. Default `LINGER_MS` (polite-close.ts).
   */
  lingerMs?: number;
}

/** The plain-text reply of {@link refusePlaintext}, unless told otherwise. */
export const TLS_REQUIRED_FRAME =
  JSON.stringify({
    type: 'error',
    code: 'TLS_REQUIRED',
    message: 'this port speaks TLS 1.3 only: connect with a TLS client',
  }) + '\n';

const TLS_HANDSHAKE_RECORD = 0x16;

/**
 * Makes `server` answer a client whose first byte is not a TLS handshake
 * with a plain-text error instead of silence. Install it before `listen`.
 *
 * It takes over the server's `connection` event: it reads the first chunk,
 * and either puts it back and hands the socket to TLS (Node's `TLSSocket`
 * reads what is already buffered), or writes the reply and closes.
 *
 * @param server - a `tls.Server`, not yet listening
 * @param options - the reply, a logging hook, the first-byte deadline
 */
export function refusePlaintext(server: tls.Server, options: RefusePlaintextOptions = {}): void {
  const toTls = server.listeners('connection') as ((socket: net.Socket) => void)[];
  server.removeAllListeners('connection');
  const timeoutMs = options.firstByteTimeoutMs ?? 10_000;
  server.on('connection', (socket: net.Socket) => {
    socket.setTimeout(timeoutMs, () => socket.destroy());
    socket.on('error', () => {}); // a reset before the first byte is nobody's business
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.setTimeout(0);
      if (first[0] === TLS_HANDSHAKE_RECORD) {
        socket.unshift(first);
        for (const listener of toTls) listener.call(server, socket);
        return;
      }
      const failure: TlsClientFailure = {
        code: 'TLS_REQUIRED',
        message: 'the client sent plain text to the TLS port; answered and closed',
      };
      options.onRefused?.(socket, failure);
      // The reply, a FIN, and a deadline (endPolitely): the socket is paused
      // here, and a paused socket never reads the client's FIN, so a plain
      // `end` would hold every refused connection open for good.
      endPolitely(socket, Buffer.from(options.reply ?? TLS_REQUIRED_FRAME), options.lingerMs);
    });
  });
}
