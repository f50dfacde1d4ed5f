/**
 * One client of the stage 4 server, from its arrival to its departure, and
 * what happens to each line it sends.
 *
 * The server module accepts connections and owns shutdown; the room
 * (shared/src/room.ts) owns the member list and the broadcast. This module is
 * what lies between them, the part that is new in this stage:
 *
 * - **arrival**: the connection joins the room, is welcomed with its label,
 *   and everyone else is told (in a room of at most the presence limit);
 * - **each line**: relayed to everyone else as `IP:PORT: TEXT`
 *   (`handleLine`); a bad line is answered with an error, and
 *   an oversized one also ends the connection;
 * - **departure**: however the connection ends, it leaves the room once, and
 *   everyone is told once.
 *
 * @module
 */
import type net from 'node:net';
import type { ChatError } from '../../shared/src/errors';
import { encodeFrame, encodeFrames, LineDecoder, type SplitLine } from '../../shared/src/framing';
import { peerLabel } from '../../shared/src/peer-label';
import { endPolitely } from '../../shared/src/polite-close';
import { announcesPresence } from '../../shared/src/presence';
import type { Room } from '../../shared/src/room';
import {
  chatLines,
  chatPrefix,
  chatTextError,
  errorLine,
  joinedNotice,
  leftNotice,
  welcomeNotice,
} from './messages';

/** A connection as the room sees it. */
export interface Member {
  /** The client's socket. */
  readonly socket: net.Socket;
  /** `IP:PORT`, assigned by the server: a client cannot choose or fake it. */
  readonly label: string;
}

/** What every connection shares: the room, the server's settings and its log. */
export interface ServerState {
  /** Everyone connected: a connection joins when it arrives. */
  room: Room<Member>;
  /** Every open socket (the connections keep it up to date): shutdown says goodbye to each. */
  sockets: Set<net.Socket>;
  /** Longest accepted line in bytes (undefined: the framing default, 4096). */
  maxFrameBytes: number | undefined;
  /** Largest room in which joins and leaves are announced (see `announcesPresence`). */
  presenceLimit: number;
  /** Receives one line per connection event; never message text. */
  log: (line: string) => void;
}

// One listener for every socket's 'error' (see start), not a closure each.
const ignore = () => {};

/**
 * Takes charge of a freshly accepted socket: joins it to the room and handles
 * every line until the socket closes.
 *
 * @param socket - the accepted connection
 * @param state - what all connections share
 */
export function serveConnection(socket: net.Socket, state: ServerState): void {
  // The socket's listeners keep the connection alive; nothing else needs it.
  new Connection(socket, state).start();
}

/** One connected client: a member of the room, and the handling of its lines. */
class Connection implements Member {
  readonly label: string;
  // `IP:PORT: `, the start of every chat line this client sends, encoded once.
  private readonly prefix: Buffer;
  private readonly decoder: LineDecoder;
  // Chat lines completed by one read, sent as ONE broadcast (see flush).
  private outgoing: Uint8Array[] | undefined;
  // The answers to the bad lines one read completed, sent as ONE write (see answerErrors).
  private errors: { replies: string[]; first: string } | undefined;

  constructor(
    readonly socket: net.Socket,
    private readonly state: ServerState,
  ) {
    this.label = peerLabel(socket.remoteAddress, socket.remotePort);
    this.prefix = chatPrefix(this.label);
    this.decoder = new LineDecoder({ maxFrameBytes: state.maxFrameBytes });
  }

  // #region focus
  start(): void {
    const { socket, state } = this;
    const { room } = state;
    state.sockets.add(socket);
    // Chat lines are small and should leave at once. Nagle's algorithm would
    // hold a small write back while an earlier one is unacknowledged, adding
    // up to tens of milliseconds of latency per message. Batching is ours to
    // do: one buffer per read (flush), at most two writes per member per loop turn (the room).
    socket.setNoDelay(true);
    // ECONNRESET, EPIPE, ETIMEDOUT: a client that vanished. Not a server
    // error, just a disconnect; 'close' always follows and handles it.
    socket.on('error', ignore);
    // 'close' fires exactly once per socket, however the connection ended;
    // leave() is idempotent anyway, so exactly one "left" notice goes out.
    socket.on('close', () => {
      state.sockets.delete(socket);
      this.leave();
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // The client is done talking. Node ends our side too, but only after
    // whatever is queued for it: if it reads nothing, never. endPolitely
    // gives it the usual linger to read and close, then destroys.
    socket.on('end', () => endPolitely(socket));

    room.join(this);
    room.send(this, encodeFrame(welcomeNotice(this.label, room.size)));
    // Not in a big room: a notice is a write to every member (see PRESENCE_NOTICE_LIMIT).
    if (announcesPresence(room.size, state.presenceLimit)) {
      room.broadcast(encodeFrame(joinedNotice(this.label, room.size)), this);
    }
    state.log(`${this.label} joined (${room.size} online)`);
  }

  private onData(chunk: Buffer): void {
    for (const line of this.decoder.split(chunk)) {
      // Once the connection is ended (a line too large, or the room cut it
      // off as a slow reader), the rest of its input is ignored, not
      // decoded: still read, so that the close stays polite.
      if (!this.state.room.has(this) || this.socket.destroyed) break;
      this.handleLine(line);
    }
    this.flush();
    this.answerErrors();
  }

  // What happens to one line: relayed to everyone else, or answered with an
  // error. The server only forwards the line, so it checks the bytes (valid
  // UTF-8, no \r) and relays them as they came, behind the sender's label:
  // it never turns them into a string (see chatLines).
  private handleLine(line: SplitLine): void {
    if (!line.ok) return this.refuse(line.error);
    const error = chatTextError(line.bytes);
    if (error !== undefined) return this.refuse(error);
    if (line.bytes.length > 0) (this.outgoing ??= []).push(line.bytes);
  }
  // #endregion focus

  // The chat lines this read completed go out as ONE broadcast, joined into
  // one buffer: one write per recipient, not one per line (a pasted block of
  // 100 lines costs 100 times fewer system calls).
  private flush(): void {
    const { outgoing } = this;
    if (outgoing === undefined) return;
    this.outgoing = undefined;
    this.state.room.broadcast(chatLines(this.prefix, outgoing), this);
  }

  // BAD_UTF8 and BAD_FRAME are answered and forgiven: the answers to one
  // read's bad lines go out together, after its chat lines (answerErrors).
  // FRAME_TOO_LARGE means a client that ignores the protocol's limit: tell
  // it why, then disconnect it (the lines before it still go out, first).
  private refuse(error: ChatError): void {
    if (error.code !== 'FRAME_TOO_LARGE') {
      (this.errors ??= { replies: [], first: error.code }).replies.push(errorLine(error));
      return;
    }
    this.flush();
    this.answerErrors();
    this.state.room.send(this, encodeFrame(errorLine(error)));
    this.state.log(`${this.label} sent a bad frame: ${error.code}`);
    this.leave();
    endPolitely(this.socket);
  }

  // One write to the sender and one log line per read, however many bad
  // lines it held: answered one by one (a write and a log line each), a
  // 64 KiB read of two-byte bad lines held the event loop for a quarter
  // of a second and wrote 32,768 log lines.
  private answerErrors(): void {
    const { errors } = this;
    if (errors === undefined) return;
    this.errors = undefined;
    this.state.room.send(this, encodeFrames(errors.replies));
    const count = errors.replies.length;
    const what = count === 1 ? 'a bad frame' : `${count} bad frames, the first`;
    this.state.log(`${this.label} sent ${what}: ${errors.first}`);
  }

  private leave(): void {
    const { room, log, presenceLimit } = this.state;
    if (!room.leave(this)) return;
    log(`${this.label} left (${room.size} online)`);
    // room.size + 1: the room as it was before this member left.
    if (announcesPresence(room.size + 1, presenceLimit)) {
      room.broadcast(encodeFrame(leftNotice(this.label, room.size)));
    }
  }
}
