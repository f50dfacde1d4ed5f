/**
 * Test helper: a raw TCP chat participant (what `nc` would be), with a
 * LineReader on its socket and the label the server gave it.
 */
import type net from 'node:net';
import { connect, LineReader } from '../../shared/test/helpers';

/** One raw client of the stage 4 server. */
export interface Peer {
  socket: net.Socket;
  lines: LineReader;
  /** `IP:PORT`, read from the welcome notice. */
  label: string;
  /** Sends one line (adds the `\n`). */
  say(text: string): void;
  /** Resolves when the socket has fully closed. */
  closed: Promise<void>;
}

/** Connects and waits for the welcome notice. */
export async function joinRoom(port: number): Promise<Peer> {
  const socket = await connect(port);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const lines = new LineReader(socket);
  const welcome = await lines.next();
  const match = /^\* welcome, you are (\S+) \(\d+ online\)$/.exec(welcome);
  if (!match) throw new Error(`expected a welcome notice, got: ${welcome}`);
  return { socket, lines, label: match[1]!, closed, say: (text) => socket.write(text + '\n') };
}

/**
 * Joins `count` peers one after another, waiting each time until everyone
 * already present has seen the join notice, so later assertions do not race
 * with join notices.
 */
export async function joinMany(port: number, count: number): Promise<Peer[]> {
  const peers: Peer[] = [];
  for (let i = 0; i < count; i++) {
    const peer = await joinRoom(port);
    await Promise.all(peers.map((p) => p.lines.waitFor(`* ${peer.label} joined`)));
    peers.push(peer);
  }
  return peers;
}

/** Lines seen so far by a peer that came from `sender` (chat lines only). */
export function chatFrom(peer: Peer, sender: Peer): string[] {
  const prefix = `${sender.label}: `;
  return peer.lines.lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
}

/**
 * Reads lines until `done(allLinesSoFar)` holds. Unlike `waitFor`, it cannot
 * miss a line that arrived (and was skipped) earlier.
 */
export async function readUntil(peer: Peer, done: (lines: string[]) => boolean): Promise<void> {
  while (!done(peer.lines.lines)) await peer.lines.next();
}
