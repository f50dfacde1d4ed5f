/**
 * A load client for the plain-text line protocols (the raw baseline and stage 4).
 *
 * It sends with the project's shared encodeFrame, but it does NOT receive with
 * the shared LineDecoder, on purpose: one load process plays 50 clients
 * against one server process, so every microsecond it spends per received
 * line lowers the ceiling the servers are measured against. Decoding a whole
 * read as latin1 once and splitting the string is cheaper per line than
 * validating UTF-8 line by line, and safe here because every
 * byte the benchmark exchanges is ASCII. Real clients should use LineDecoder.
 *
 * It reads every byte as soon as it arrives: stage 4 disconnects a client
 * whose output queue passes its cap, and a load client must never be that
 * slow reader.
 *
 * @module
 */
import net from 'node:net';
import { encodeFrame } from '../shared/src/framing';
import { nowUs } from './payload';
import type { LoadClient, LoadClientEvents, LoadEndpoint } from './load-client';

/** A received line longer than this means the server is misbehaving; the client gives up. */
const MAX_LINE_CHARS = 1 << 16;

/** How one line protocol differs from another, as far as a load client cares. */
export interface LineProtocol {
  /** The payload a received line carries, or null if the line is not a chat message. */
  payloadOf(line: string): string | null;
  /** The line that means "you are in the room"; null if the server sends none. */
  welcome: RegExp | null;
}

/**
 * Connects one plain-text load client.
 *
 * @param endpoint - the server's address
 * @param events - receives each chat payload
 * @param protocol - how to recognise the welcome line and chat lines
 * @returns the client, once connected (and welcomed, if the protocol has a welcome)
 */
export function openLineClient(
  endpoint: LoadEndpoint,
  events: LoadClientEvents,
  protocol: LineProtocol,
): Promise<LoadClient> {
  return new Promise((resolve, reject) => {
    // noDelay: send each message at once. With Nagle's algorithm on, a sender
    // with messages in flight would hold small writes back, and the benchmark
    // would measure its own client instead of the server.
    const socket = net.connect({ host: endpoint.host, port: endpoint.port, noDelay: true });
    let tail = ''; // the unfinished last line of the previous read
    let admitted = false;
    const client: LoadClient & { closed: boolean } = {
      closed: false,
      send: (payload) => {
        if (!client.closed) socket.write(encodeFrame(payload));
      },
      close: () => socket.destroy(),
    };
    const admit = () => {
      admitted = true;
      resolve(client);
    };

    socket.once('connect', () => {
      if (protocol.welcome === null) admit();
    });
    socket.on('data', (chunk: Buffer) => {
      const receivedAtUs = nowUs(); // every line of one read arrived at the same moment
      const text = tail + chunk.toString('latin1');
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        const line = text.slice(start, nl);
        start = nl + 1;
        if (!admitted) {
          if (protocol.welcome?.test(line)) admit();
          continue;
        }
        const payload = protocol.payloadOf(line);
        if (payload !== null) events.onPayload(payload, receivedAtUs);
      }
      tail = text.slice(start);
      // Bounded like every buffer in this project: no server under test sends lines this long.
      if (tail.length > MAX_LINE_CHARS) socket.destroy();
    });
    // A reset or a refused connection must not crash the load process: before
    // admission it fails this client, afterwards it simply closes it.
    socket.on('error', (err) => {
      if (!admitted) reject(err);
    });
    socket.once('close', () => {
      client.closed = true;
      if (!admitted) reject(new Error('connection closed before the server admitted it'));
    });
  });
}
