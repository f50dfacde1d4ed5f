/**
 * Stage 5's chat client: stage 4's client, with a key. It seals every line
 * before it leaves and opens every box that arrives.
 *
 * Where lines go, as in stage 4: chat messages (`IP:PORT: TEXT`) on stdout;
 * notices (`* …`), warnings (`! …`, including a message that failed
 * authentication) and status on stderr.
 *
 * **Quitting never hangs.** The original course read the socket in a second
 * thread and marked it a *daemon* thread, so that a thread blocked in
 * `recv()` could not keep the program alive after the user quit. Node has no
 * receive thread: the socket is a *handle* on the event loop, and the process
 * lives while any *referenced* handle (a socket, stdin, a timer) is active.
 * `handle.unref()` is the daemon flag: an unreferenced handle no longer keeps
 * the process alive. When input ends this client half-closes the connection
 * (so everything it sent is delivered) and waits for the server to close its
 * side, which normally takes a millisecond; a server that never answers gets
 * {@link LEAVE_TIMEOUT_MS}, then the socket is destroyed. The timer that does
 * this is itself `unref()`ed, so it never delays an exit that would happen anyway.
 *
 * @module
 */
import net from 'node:net';
import { once } from 'node:events';
import { ChatError } from '../../shared/src/errors';
import { LineDecoder } from '../../shared/src/framing';
import { MAX_FRAME_BYTES } from '../../shared/src/protocol';
import { ChatConsole } from '../../shared/src/terminal';
import { decodeServerFrame } from './messages';
import { renderServerFrame, sealMessage } from './sealed-messages';

/**
 * How long, in milliseconds, the client waits for the server to close the
 * connection after the user quit, before it closes it by force.
 */
export const LEAVE_TIMEOUT_MS = 3000;

/** Options for {@link runClient}. Streams default to the process's own. */
export interface ClientOptions {
  /** Server address. */
  host: string;
  /** Server port. */
  port: number;
  /** The room key (32 bytes), loaded by the caller from the key file. */
  key: Uint8Array;
  /** Where typed lines come from. Default `process.stdin`. */
  input?: NodeJS.ReadableStream;
  /** Where chat messages go. Default `process.stdout`. */
  output?: NodeJS.WritableStream;
  /** Where notices, warnings and status go. Default `process.stderr`. */
  errorOutput?: NodeJS.WritableStream;
  /** Prompt mode; default: stdin and stdout are both terminals. */
  terminal?: boolean;
}

/**
 * Connects to a stage 5 server and chats until the user or the server ends it.
 *
 * @param options - where to connect, the key, and the streams to use
 * @returns 0 once the session is over (the user quit or the server left)
 * @throws ChatError `CONNECT_FAILED` if the server cannot be reached
 *
 * @example
 * ```ts
 * const key = loadKeyFile(resolveKeyFile(undefined, process.env));
 * process.exitCode = await runClient({ host: '127.0.0.1', port: 5050, key });
 * ```
 */
export async function runClient(options: ClientOptions): Promise<number> {
  const { key } = options;
  const socket = net.connect({ host: options.host, port: options.port });
  socket.setNoDelay(true); // send each line as soon as it is typed
  try {
    await once(socket, 'connect');
  } catch (err) {
    const refused = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
    const why = refused ? 'connection refused (is the server running?)' : (err as Error).message;
    throw new ChatError(
      'CONNECT_FAILED',
      `cannot connect to ${options.host}:${options.port}: ${why}`,
    );
  }

  return new Promise<number>((resolve) => {
    let leaving = false; // true once we, not the server, started the goodbye
    let lostWith: string | undefined;

    // #region focus
    const ui = new ChatConsole({
      input: options.input,
      output: options.output,
      errorOutput: options.errorOutput,
      terminal: options.terminal,
      onLine: (text) => {
        if (text === '' || leaving) return;
        let frame: Buffer;
        try {
          frame = sealMessage(key, text); // encrypted here, before it touches the socket
        } catch (err) {
          ui.warn(`! not sent: ${(err as Error).message}`);
          return;
        }
        // Backpressure on our side too: if the socket's queue is full (a
        // large paste, a fast pipe), stop reading input until it drains.
        if (!socket.write(frame)) ui.pauseUntilDrained(socket);
      },
      onEnd: () => {
        leaving = true;
        socket.end(); // half-close: deliver what we sent, then FIN
        // The daemon-thread equivalent: never wait for the server forever.
        setTimeout(() => socket.destroy(), LEAVE_TIMEOUT_MS).unref();
      },
    });

    const decoder = new LineDecoder({ maxFrameBytes: MAX_FRAME_BYTES });
    socket.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk)) {
        const decoded = line.ok ? decodeServerFrame(line.text) : line;
        if (!decoded.ok) {
          ui.warn(`! ignored a frame from the server (${decoded.error.code})`);
          continue;
        }
        const shown = renderServerFrame(key, decoded.frame); // opened and sanitized
        if (shown.kind === 'chat') ui.print(shown.text);
        else ui.warn(shown.text, shown.kind === 'notice' ? 'notice' : 'error');
      }
    });
    // #endregion focus
    socket.on('error', (err: NodeJS.ErrnoException) => {
      lostWith = err.code ?? err.message;
    });
    socket.on('close', () => {
      if (!leaving) {
        ui.warn(
          lostWith ? `connection lost (${lostWith})` : 'server closed the connection',
          'notice',
        );
      }
      ui.close();
      resolve(0);
    });
  });
}
