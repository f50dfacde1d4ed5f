/**
 * One conversation, strictly turn by turn: the client sends a line, the
 * server answers it, and only then is the next line read.
 *
 * This is stage 2's heart, and its limitation. While the server waits for
 * the operator to type a reply, the client can only wait; while the server
 * waits for the client's next line, the operator can only wait; and a second
 * client cannot be served at all until this conversation ends. Stage 3 and
 * stage 4 take this apart.
 *
 * Bytes become lines with `LineDecoder` from shared/src/framing.ts, so it does
 * not matter how TCP cuts the stream: a line arriving a byte at a time, or
 * three lines in one read, give the same turns in the same order.
 *
 * @module
 */
import type net from 'node:net';
import { encodeFrame, LineDecoder, type DecodedFrame } from '../../shared/src/framing';
import { formatServerLine, peerName, type ServerLine } from './messages';
import type { ServerEvent } from './events';

/** What the reply function is told besides the client's text. */
export interface ReplyContext {
  /** The client's `ip:port`. */
  from: string;
  /**
   * Aborted if the reply is no longer wanted: its `reason` is `'left'` when
   * the client left first, `'shutdown'` when the server is stopping.
   */
  signal: AbortSignal;
}

/**
 * Produces the server's answer to one line: typed by the operator in the
 * real program, computed in tests. Return `null` when no reply will ever
 * come (the operator closed stdin): the server then shuts down.
 */
export type ReplyFn = (
  text: string,
  context: ReplyContext,
) => Promise<string | null> | string | null;

/** How a conversation ended. */
export type ConversationEnd = 'left' | 'refused' | 'operator-done' | 'shutdown';

/** What {@link converse} needs from the server. */
export interface ConversationOptions {
  /** Produces each reply. */
  reply: ReplyFn;
  /** Longest accepted line, in bytes. */
  maxFrameBytes: number;
  /** Told about every line and reply. */
  onEvent: (event: ServerEvent) => void;
  /** Aborted when the server shuts down. */
  signal: AbortSignal;
  /** After hanging up on a client, how long to wait for its side to close, in ms. */
  closeGraceMs: number;
}

// Lines a client may send ahead of its turn before we stop reading its
// socket: TCP flow control then makes the client wait, not our memory grow.
const MAX_QUEUED_LINES = 16;

/**
 * Holds one client's conversation until it ends.
 *
 * @param socket - the client's connection (may be paused; this resumes it)
 * @param options - the reply source, limits and event sink
 * @returns why the conversation ended; the socket is closed or closing by then
 */
export async function converse(
  socket: net.Socket,
  options: ConversationOptions,
): Promise<ConversationEnd> {
  const peer = peerName(socket.remoteAddress, socket.remotePort);
  const me = peerName(socket.localAddress, socket.localPort);
  const send = (line: ServerLine) => socket.write(encodeFrame(formatServerLine(line)));
  const incoming = new IncomingLines(socket, options.maxFrameBytes);

  send({ kind: 'notice', text: `you are ${peer}; send one line, then wait for the reply` });
  const stopped = whenAborted(options.signal);
  try {
    return await takeTurns();
  } finally {
    stopped.dispose(); // one listener per conversation, removed when it ends
  }

  async function takeTurns(): Promise<ConversationEnd> {
    // #region focus
    for (;;) {
      // The client's turn: wait for one complete line.
      const frame = await Promise.race([incoming.next(), stopped.promise]);
      if (frame === 'aborted') return 'shutdown';
      if (frame === null) return 'left';
      if (!frame.ok) {
        send({ kind: 'error', code: frame.error.code, message: frame.error.message });
        options.onEvent({ type: 'refused', peer, code: frame.error.code });
        if (frame.error.code !== 'FRAME_TOO_LARGE') continue; // still the client's turn
        // Rejected, never truncated: say why, then hang up politely.
        await hangUp(socket, incoming, options.closeGraceMs);
        return 'refused';
      }
      if (frame.text === '') continue; // an empty line is not a message
      options.onEvent({ type: 'line', peer, text: frame.text });

      // The server's turn: the client has nothing to do but wait.
      const turn = new AbortController();
      const signal = AbortSignal.any([turn.signal, options.signal]);
      const answer = await Promise.race([
        Promise.resolve(options.reply(frame.text, { from: peer, signal })),
        incoming.gone.then(() => 'left' as const),
        stopped.promise,
      ]);
      if (answer === 'aborted') return 'shutdown';
      if (answer === 'left') {
        turn.abort('left'); // tell the operator's prompt to stop waiting
        return 'left';
      }
      if (answer === null) return 'operator-done';
      // A reply is one frame: a line break inside it would make it two.
      const text = answer.replace(/[\r\n]+/g, ' ');
      send({ kind: 'reply', from: me, text });
      options.onEvent({ type: 'replied', peer, text });
    }
    // #endregion focus
  }
}

/**
 * Ends our side (a FIN after the bytes already written), then waits for the
 * client to close its side. Meanwhile incoming bytes are read and dropped:
 * closing a socket with unread data makes the kernel send a reset, which can
 * destroy our last line before the client reads it. A client that keeps
 * sending, or never closes, is cut off after `graceMs`.
 */
async function hangUp(socket: net.Socket, incoming: IncomingLines, graceMs: number) {
  socket.end();
  socket.removeAllListeners('data');
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), graceMs);
  await incoming.gone;
  clearTimeout(timer);
}

/** A promise that resolves when `signal` aborts, and a way to stop listening. */
function whenAborted(signal: AbortSignal) {
  let dispose = () => {};
  const promise = new Promise<'aborted'>((resolve) => {
    if (signal.aborted) return resolve('aborted');
    const onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    dispose = () => signal.removeEventListener('abort', onAbort);
  });
  return { promise, dispose };
}

/**
 * The lines a socket delivers, one at a time, on request.
 *
 * Reading goes on while the server is busy with a reply (so we notice when
 * the client leaves), but lines are handed out one per turn, in order. If a
 * client sends many lines ahead, the socket is paused until they are used up.
 */
class IncomingLines {
  /** Resolves when the client has closed its side or the socket is gone. */
  readonly gone: Promise<void>;
  private readonly frames: DecodedFrame[] = [];
  private isGone = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly socket: net.Socket,
    maxFrameBytes: number,
  ) {
    const decoder = new LineDecoder({ maxFrameBytes });
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(...decoder.push(chunk));
      if (this.frames.length >= MAX_QUEUED_LINES) socket.pause();
      this.notify();
    });
    this.gone = new Promise((resolve) => {
      const done = () => {
        this.isGone = true;
        this.notify();
        resolve();
      };
      // 'end': the client sent FIN ("no more data from me"); Node then ends
      // our side too (allowHalfOpen is false), so no reply could reach it.
      socket.once('end', done);
      socket.once('close', done);
    });
  }

  /** The next line, or `null` once the client is gone. */
  async next(): Promise<DecodedFrame | null> {
    for (;;) {
      if (this.isGone) return null;
      const frame = this.frames.shift();
      if (frame !== undefined) return frame;
      // Nothing queued: read more. The socket may have been paused by the
      // server (a waiting client) or by the queue limit above.
      this.socket.resume();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
