/**
 * One client of the stage 5 server, from its arrival to its departure, and
 * what happens to each frame it sends.
 *
 * The stage 4 connection, speaking JSON frames: a client's
 * `{"type":"chat","box":…}` is validated for *shape* (exact fields, canonical
 * base64, size), stamped with the sender's `IP:PORT` as `from`, and written to
 * every other member with the box unchanged. Whether the box is authentic is
 * for the receivers to decide: only they hold the key. Nothing the server logs
 * or stores contains plaintext, because it never has any.
 *
 * @module
 */
import type net from 'node:net';
import { canonicalChatBox, ChatRelayWriter } from '../../shared/src/chat-relay';
import type { ChatError } from '../../shared/src/errors';
import { decodeLine, LineDecoder, type SplitLine } from '../../shared/src/framing';
import { peerLabel } from '../../shared/src/peer-label';
import { endPolitely } from '../../shared/src/polite-close';
import { announcesPresence } from '../../shared/src/presence';
import type { Room } from '../../shared/src/room';
import {
  decodeClientFrame,
  encodeServerFrame,
  encodeServerFrames,
  type ServerFrame,
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
  /** Longest accepted frame in bytes. */
  maxFrameBytes: number;
  /** Largest room in which joins and leaves are announced (see `announcesPresence`). */
  presenceLimit: number;
  /** Receives one line per connection event; never a box or a key. */
  log: (line: string) => void;
}

// One listener for every socket's 'error' (see start), not a closure each.
const ignore = () => {};

/**
 * Takes charge of a freshly accepted socket: joins it to the room and handles
 * every frame until the socket closes.
 *
 * @param socket - the accepted connection
 * @param state - what all connections share
 */
export function serveConnection(socket: net.Socket, state: ServerState): void {
  // The socket's listeners keep the connection alive; nothing else needs it.
  new Connection(socket, state).start();
}

/** One connected client: a member of the room, and the handling of its frames. */
class Connection implements Member {
  readonly label: string;
  private readonly decoder: LineDecoder;
  private readonly relay: ChatRelayWriter;
  // The encoded chat relays completed by one read, sent as ONE broadcast (see flush).
  private outgoing: Uint8Array[] | undefined;
  // The answers to the bad frames one read completed, sent as ONE write (see answerErrors).
  private errors: { replies: ServerFrame[]; first: string } | undefined;

  constructor(
    readonly socket: net.Socket,
    private readonly state: ServerState,
  ) {
    this.label = peerLabel(socket.remoteAddress, socket.remotePort);
    this.decoder = new LineDecoder({ maxFrameBytes: state.maxFrameBytes });
    this.relay = new ChatRelayWriter(this.label);
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

    // #region join
    room.join(this);
    this.send({ type: 'welcome', you: this.label, online: room.size });
    // #endregion join
    // Not in a big room: a notice is a write to every member (see PRESENCE_NOTICE_LIMIT).
    if (announcesPresence(room.size, state.presenceLimit)) {
      room.broadcast(
        encodeServerFrame({ type: 'joined', who: this.label, online: room.size }),
        this,
      );
    }
    state.log(`${this.label} joined (${room.size} online)`);
  }

  private onData(chunk: Buffer): void {
    for (const line of this.decoder.split(chunk)) {
      // Once the connection is ended (a frame too large, or the room cut it
      // off as a slow reader), the rest of its input is ignored, not
      // parsed: still read, so that the close stays polite.
      if (!this.state.room.has(this) || this.socket.destroyed) break;
      this.handleLine(line);
    }
    this.flush();
    this.answerErrors();
  }

  // What happens to one frame: relayed to everyone else, or answered with an error.
  private handleLine(line: SplitLine): void {
    if (this.relayedAsIs(line)) return; // the usual chat request, from its bytes
    // Two layers of checks, both returning errors instead of throwing:
    // the line (size, UTF-8), then the frame (JSON, type, exact fields,
    // canonical base64, box size). The server cannot check more: it has no key.
    const text = line.ok ? decodeLine(line.bytes) : line;
    const decoded = text.ok ? decodeClientFrame(text.text) : text;
    if (decoded.ok) {
      // Relay the box exactly as received; `from` is the server's own label.
      // #region relay
      const { box } = decoded.frame;
      (this.outgoing ??= []).push(encodeServerFrame({ type: 'chat', from: this.label, box }));
      // #endregion relay
      return;
    }
    this.refuse(decoded.error);
  }
  // #endregion focus

  // The short cut: a chat request exactly as clients write it is relayed
  // from its bytes, after the same checks as handleLine's (see
  // shared/src/chat-relay.ts). Any other line takes the general path.
  private relayedAsIs(line: SplitLine): boolean {
    const box = line.ok ? canonicalChatBox(line.bytes) : undefined;
    if (box === undefined) return false;
    this.relay.append((this.outgoing ??= []), box);
    return true;
  }

  // The frames this read completed go out as ONE broadcast, joined into
  // one buffer: one write per recipient, not one per frame (a burst of 100
  // messages costs 100 times fewer system calls).
  private flush(): void {
    const { outgoing } = this;
    if (outgoing === undefined) return;
    this.outgoing = undefined;
    this.state.room.broadcast(Buffer.concat(outgoing), this);
  }

  private send(frame: ServerFrame): void {
    this.state.room.send(this, encodeServerFrame(frame));
  }

  // BAD_FRAME and BAD_UTF8 are answered and forgiven: the answers to one
  // read's bad frames go out together, after its chat (answerErrors).
  // FRAME_TOO_LARGE means a client that ignores the protocol's limit: tell
  // it why, then disconnect it (the frames before it still go out, first).
  private refuse(error: ChatError): void {
    const reply: ServerFrame = { type: 'error', code: error.code, message: error.message };
    if (error.code !== 'FRAME_TOO_LARGE') {
      (this.errors ??= { replies: [], first: error.code }).replies.push(reply);
      return;
    }
    this.flush();
    this.answerErrors();
    this.state.room.send(this, encodeServerFrame(reply));
    this.state.log(`${this.label} sent a bad frame: ${error.code}`);
    this.leave();
    endPolitely(this.socket);
  }

  // One write to the sender and one log line per read, however many bad
  // frames it held (as in stage 4: answered one by one, a read full of bad
  // frames held the event loop many times longer), and one encoding: the
  // replies are joined as text and turned into bytes once.
  private answerErrors(): void {
    const { errors } = this;
    if (errors === undefined) return;
    this.errors = undefined;
    this.state.room.send(this, encodeServerFrames(errors.replies));
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
      room.broadcast(encodeServerFrame({ type: 'left', who: this.label, online: room.size }));
    }
  }
}
