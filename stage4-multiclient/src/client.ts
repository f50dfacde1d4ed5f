/**
 * Stage 4's chat client: the keyboard and the socket, read at the same time.
 *
 * There is no thread per direction and no polling: the socket's `'data'`
 * events and the console's `onLine` callback both arrive on the one event
 * loop, whichever comes first. Received text is untrusted, so every line goes
 * through the console, which sanitizes it before it reaches the terminal.
 *
 * Where lines go: chat messages (`IP:PORT: TEXT`) on stdout; notices (`* …`),
 * errors (`! …`) and status on stderr. A script reading stdout therefore sees
 * only chat messages, one per line.
 *
 * When it exits (always with code 0 once connected):
 * - **stdin ends** (Ctrl-D, or the end of a pipe): the client half-closes the
 *   connection (TCP FIN, "I will send nothing more") and keeps printing until
 *   the server closes its side. TCP delivers in order, so by the time the
 *   server has seen our FIN it has read, and broadcast, every line we sent:
 *   "exited" really means "flushed", and nothing typed is lost. Messages that
 *   arrive in that window are still printed.
 * - **Ctrl-C** on a terminal: the same, as the user asked to leave.
 * - **the server goes away**: `server closed the connection` on stderr.
 *
 * @module
 */
import net from 'node:net';
import { ChatError } from '../../shared/src/errors';
import { encodeFrame, LineDecoder, DEFAULT_MAX_FRAME_BYTES } from '../../shared/src/framing';
import { ChatConsole, type Tone } from '../../shared/src/terminal';

/** Options for {@link runClient}. Streams default to the process's own. */
export interface ClientOptions {
  /** Server address. */
  host: string;
  /** Server port. */
  port: number;
  /** Where typed lines come from. Default `process.stdin`. */
  input?: NodeJS.ReadableStream;
  /** Where chat messages go. Default `process.stdout`. */
  output?: NodeJS.WritableStream;
  /** Where notices, errors and status go. Default `process.stderr`. */
  errorOutput?: NodeJS.WritableStream;
  /** Prompt mode; default: stdin and stdout are both terminals. */
  terminal?: boolean;
  /** Longest line the server accepts; longer lines are refused locally. Default 4096. */
  maxFrameBytes?: number;
}

// Server lines are a label plus a client's line: allow well over the
// client-to-server limit so a legitimate message is never refused.
const MAX_RECEIVED_LINE_BYTES = 64 * 1024;

/**
 * Connects to a stage 4 server and chats until the user or the server ends it.
 *
 * @param options - where to connect, and the streams to use
 * @returns the exit code, 0: once connected, every way of leaving is a normal end
 * @throws ChatError `CONNECT_FAILED` if the connection cannot be made
 *
 * @example
 * ```ts
 * process.exitCode = await runClient({ host: '127.0.0.1', port: 5050 });
 * ```
 */
export async function runClient(options: ClientOptions): Promise<number> {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const socket = await connect(options.host, options.port);
  socket.setNoDelay(true); // send each line as soon as it is typed

  return new Promise<number>((resolve) => {
    let leaving = false; // true once we, not the server, started the goodbye
    let lostWith: string | undefined;

    const ui = new ChatConsole({
      input: options.input,
      output: options.output,
      errorOutput: options.errorOutput,
      terminal: options.terminal,
      onLine: (text) => {
        if (text === '' || leaving) return;
        // Refuse locally what the server would punish by disconnecting us.
        if (Buffer.byteLength(text) > maxFrameBytes) {
          ui.warn(`not sent: line longer than ${maxFrameBytes} bytes`);
          return;
        }
        // Backpressure on our side too: if the socket's queue is full (a
        // large paste, a fast pipe), stop reading input until it drains.
        if (!socket.write(encodeFrame(text))) ui.pauseUntilDrained(socket);
      },
      onEnd: () => {
        leaving = true;
        socket.end(); // half-close: flush what we sent, then FIN
      },
    });

    const decoder = new LineDecoder({ maxFrameBytes: MAX_RECEIVED_LINE_BYTES });
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        if (!frame.ok) ui.warn(`ignored a line from the server (${frame.error.code})`);
        else if (isChat(frame.text)) ui.print(frame.text);
        else ui.warn(frame.text, toneOf(frame.text));
      }
    });
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

/** Chat lines are everything that is not a notice (`* `) or an error (`! `). */
function isChat(line: string): boolean {
  return !line.startsWith('* ') && !line.startsWith('! ');
}

function toneOf(line: string): Tone {
  return line.startsWith('! ') ? 'error' : 'notice';
}

function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'ECONNREFUSED' ? 'connection refused (is the server running?)' : err.message;
      reject(new ChatError('CONNECT_FAILED', `cannot connect to ${host}:${port}: ${why}`));
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.off('error', fail);
      resolve(socket);
    });
  });
}
