/**
 * A load client for stage 5 that does everything a real stage 5 client does
 * to a message: it seals every payload with AES-256-GCM (a fresh random nonce
 * each time) into a `chat` frame, and for every frame it receives it splits
 * the line with the shared LineDecoder, validates the JSON with the shared
 * protocol decoder, and opens the box with the room key, checking the tag,
 * before the payload counts as delivered.
 *
 * Unlike the plain-text client, nothing here is cut short for speed: the
 * benchmark must show what encryption costs the whole system, and in stage 5
 * the cost sits in the clients (the server relays boxes it cannot open). The
 * consequence is spelled out in bench/README.md: one load process playing 50
 * such clients runs out of CPU long before the server does. That is why the
 * same client also drives the raw broadcaster (target `raw-sealed`): stage 5
 * is judged against a baseline whose clients do the same work per message.
 *
 * @module
 */
import net from 'node:net';
import { openText } from '../shared/src/crypto';
import { LineDecoder } from '../shared/src/framing';
import { MAX_FRAME_BYTES, type Decoded } from '../shared/src/protocol';
import {
  chatAssociatedData,
  decodeClientFrame,
  decodeServerFrame,
} from '../stage5-aes/src/messages';
import { sealMessage } from '../stage5-aes/src/sealed-messages';
import { nowUs } from './payload';
import type { LoadClient, LoadClientEvents, LoadEndpoint } from './load-client';

// The same associated data for every stage 5 chat box: build it once.
const AD = chatAssociatedData();

/** The frames a sealed load client can receive, from either kind of server. */
type Received = Decoded<{ type: string; box?: string }>;

/**
 * How a received line is validated. The stage 5 server sends its own frames
 * (`chat` with a `from`, `welcome`, …). The raw broadcaster relays what
 * clients sent, so there a line is a client's `chat` frame, validated with the
 * server's own decoder for client frames: the same work, one field less.
 */
const DECODERS: Record<'stage5' | 'raw', (text: string) => Received> = {
  stage5: decodeServerFrame,
  raw: decodeClientFrame,
};

/**
 * Connects one sealed load client. Against stage 5 it waits for the
 * `welcome`; the raw broadcaster sends none, so there it is ready once connected.
 *
 * @param endpoint - the server's address
 * @param events - receives each opened payload
 * @param key - the room key
 * @param server - which server it talks to: `stage5`, or `raw` for the raw broadcaster
 * @returns the client, once admitted
 */
export function openSealedClient(
  endpoint: LoadEndpoint,
  events: LoadClientEvents,
  key: Buffer,
  server: 'stage5' | 'raw',
): Promise<LoadClient> {
  const decode = DECODERS[server];
  return new Promise((resolve, reject) => {
    // noDelay for the same reason as the plain-text client: compare servers, not Nagle.
    const socket = net.connect({ host: endpoint.host, port: endpoint.port, noDelay: true });
    const decoder = new LineDecoder({ maxFrameBytes: MAX_FRAME_BYTES });
    let admitted = false;
    const admit = () => {
      admitted = true;
      resolve(client);
    };
    const client: LoadClient & { closed: boolean } = {
      closed: false,
      send: (payload) => {
        if (!client.closed) socket.write(sealMessage(key, payload));
      },
      close: () => socket.destroy(),
    };

    if (server === 'raw') socket.once('connect', admit);
    socket.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk)) {
        const decoded = line.ok ? decode(line.text) : null;
        // A frame that is not valid protocol means a broken server or client:
        // stop this client, so the report shows it as disconnected.
        if (decoded === null || !decoded.ok) {
          socket.destroy();
          return;
        }
        const frame = decoded.frame;
        if (frame.type === 'welcome' && !admitted) {
          admit();
        } else if (frame.type === 'chat' && frame.box !== undefined && admitted) {
          let text: string;
          try {
            text = openText(key, frame.box, AD);
          } catch {
            socket.destroy(); // an unauthentic box: never counted as delivered
            return;
          }
          events.onPayload(text, nowUs());
        }
      }
    });
    socket.on('error', (err) => {
      if (!admitted) reject(err);
    });
    socket.once('close', () => {
      client.closed = true;
      if (!admitted) reject(new Error('connection closed before the server welcomed it'));
    });
  });
}
