/**
 * A load client for stage 6: it registers a user of its own through the real
 * handshake (`connectAndLogIn`: wait for `hello`, seal the credentials with
 * the server's challenge, wait for `welcome`), and only then counts as being
 * in the room. After that it behaves like the stage 5 load client: every
 * payload is sealed with the sender's username bound into the associated
 * data, every received box is validated by the stage 6 decoder and opened with
 * the `from` the server attached.
 *
 * The handshake and the frame decoding are the stage's own code
 * (stage6-auth/src/client-login.ts), not a copy: a benchmark that spoke its own
 * dialect would measure a server nobody runs.
 *
 * @module
 */
import { openText } from '../shared/src/crypto';
import { connectAndLogIn } from '../stage6-auth/src/client-login';
import { chatAssociatedData, encodeClientFrame } from '../stage6-auth/src/messages';
import { sealMessage } from '../stage6-auth/src/sealed-messages';
import { nowUs } from './payload';
import type { LoadClient, LoadClientEvents, LoadEndpoint } from './load-client';

const PING = '{"type":"ping"}';
const PONG = encodeClientFrame({ type: 'pong' });

/**
 * The password of every benchmark user. It meets the password policy; it is
 * not a secret (each stage 6 server in the benchmark has a throw-away database).
 */
export const BENCH_PASSWORD = 'bench-password';

/**
 * Registers (or logs in as) `username` and returns a load client logged in as
 * that user.
 *
 * @param endpoint - the server's address
 * @param events - receives each opened payload
 * @param key - the room key
 * @param username - the user, with password {@link BENCH_PASSWORD}
 * @param register - true: create the user first (the name must be free);
 *   false: log in to an existing user
 * @returns the client, once the server welcomed it
 * @throws ChatError with the server's code if it refused the login
 */
export async function openLoginClient(
  endpoint: LoadEndpoint,
  events: LoadClientEvents,
  key: Buffer,
  username: string,
  register = true,
): Promise<LoadClient> {
  const session = await connectAndLogIn({
    host: endpoint.host,
    port: endpoint.port,
    key,
    username,
    password: BENCH_PASSWORD,
    register,
  });
  const { socket, frames } = session;
  const me = session.username;
  // Receivers open every box with the AD of its claimed sender; cache them,
  // since 49 clients receive from the same 10 senders over and over.
  const adBySender = new Map<string, Buffer>();
  const client: LoadClient & { closed: boolean } = {
    closed: socket.destroyed,
    send: (payload) => {
      if (!client.closed) socket.write(sealMessage(key, me, payload));
    },
    close: () => socket.destroy(),
  };
  socket.once('close', () => (client.closed = true));
  frames.listen((decoded) => {
    if (!decoded.ok) {
      socket.destroy(); // broken protocol: the report shows a disconnected client
      return;
    }
    const frame = decoded.frame;
    if (frame.type !== 'chat') return; // joined, left, who: not chat messages
    let ad = adBySender.get(frame.from);
    if (ad === undefined) {
      ad = chatAssociatedData(frame.from);
      adBySender.set(frame.from, ad);
    }
    let text: string;
    try {
      text = openText(key, frame.box, ad);
    } catch {
      socket.destroy(); // an unauthentic box is never counted as delivered
      return;
    }
    events.onPayload(text, nowUs());
  });
  return client;
}

/**
 * Registers `username` and returns a client that only holds its connection
 * open: everything the server sends afterwards is read and thrown away,
 * undecoded. For the scale scenario's thousands of idle users: while the room
 * is small the server announces each newcomer to everyone already there (up to
 * its presence limit of 1,000 members, about half a million `joined` frames).
 * Decoding each one (JSON and validation, as the real client does) would make the
 * load process, not the server, what the scenario measures. The login itself is
 * the real handshake.
 *
 * @param endpoint - the server's address
 * @param key - the room key
 * @param username - the user to register, with password {@link BENCH_PASSWORD}
 * @returns the client, once the server welcomed it; `send` does nothing
 * @throws ChatError with the server's code if it refused the registration
 */
export async function openIdleLoginClient(
  endpoint: LoadEndpoint,
  key: Buffer,
  username: string,
): Promise<LoadClient> {
  const { socket } = await connectAndLogIn({
    host: endpoint.host,
    port: endpoint.port,
    key,
    username,
    password: BENCH_PASSWORD,
    register: true,
  });
  // Replace the login's frame decoder with a listener that only drains the
  // socket: it keeps reading (a client that stopped would be cut off as a slow
  // consumer) and costs no more than the kernel's copy. It answers the
  // server's idle ping, as the real client does, so a long run keeps its crowd.
  socket.removeAllListeners('data');
  socket.on('data', (chunk: Buffer) => {
    if (chunk.includes(PING)) socket.write(PONG);
  });
  const client: LoadClient & { closed: boolean } = {
    closed: socket.destroyed,
    send: () => {},
    close: () => socket.destroy(),
  };
  socket.once('close', () => (client.closed = true));
  return client;
}
