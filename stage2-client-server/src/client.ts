/**
 * Stage 2's client: sends a line, waits for the reply, and only then may
 * send again.
 *
 * On a terminal it shows a `you> ` prompt; a line typed while the reply is
 * still outstanding is refused ("not your turn"). When stdin is a pipe, each
 * input line is sent in turn (the next one only after the previous one's
 * reply), replies are printed on `output` as `SENDER: TEXT`, and notices and
 * errors go to `log`, so a script can read the replies alone.
 *
 * Bytes are framed with shared/src/framing.ts in both directions, exactly as
 * the server does: one protocol module for both ends.
 *
 * @module
 */
import net from 'node:net';
import readline from 'node:readline';
import { ChatError } from '../../shared/src/errors';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, LineDecoder } from '../../shared/src/framing';
import { sanitizeForTerminal as safe } from '../../shared/src/terminal';
import { parseServerLine, peerName } from './messages';

/** Options for {@link startClient}. */
export interface ClientOptions {
  /** Server address. Default `127.0.0.1`. */
  host?: string;
  /** Server port. */
  port: number;
  /** Lines to send: the keyboard, a pipe, or a test's stream. */
  input: NodeJS.ReadableStream;
  /** Where replies are printed, one `SENDER: TEXT` line each. */
  output: NodeJS.WritableStream;
  /** Where notices, errors and status lines go. Default: `output`. */
  log?: NodeJS.WritableStream;
  /** Prompt mode for a person at a terminal. Default `false` (script mode). */
  interactive?: boolean;
  /** Longest line the client will send, in bytes. Default 4096, as the server. */
  maxFrameBytes?: number;
}

/** Why a client session ended. */
export type ClientEnd = 'input-ended' | 'server-closed' | 'interrupted' | 'closed';

/** A connected stage 2 client. */
export interface Stage2Client {
  /** The client's own `ip:port` (the ephemeral port its OS picked). */
  local: string;
  /** The server's `ip:port`. */
  remote: string;
  /** Resolves, once, when the session is over and the socket closed. */
  done: Promise<ClientEnd>;
  /** Hangs up now. */
  close(): void;
}

/**
 * Connects to the server and runs the turn-by-turn session.
 *
 * @param options - where to connect, and the streams to use
 * @throws ChatError `CONNECT_FAILED` if the connection cannot be made
 *
 * @example
 * ```ts
 * const client = await startClient({ port: 5050, input: process.stdin, output: process.stdout });
 * await client.done; //=> 'input-ended' once stdin ends and the last reply arrived
 * ```
 */
export async function startClient(options: ClientOptions): Promise<Stage2Client> {
  const { host = '127.0.0.1', port, input, output, interactive = false } = options;
  const log = options.log ?? output;
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const socket = await connect(host, port);
  socket.on('error', () => {}); // a reset ends the session like a close does
  const local = peerName(socket.localAddress, socket.localPort);
  const remote = peerName(socket.remoteAddress, socket.remotePort);

  const rl = readline.createInterface({
    input,
    output: interactive ? log : undefined, // in script mode, never echo or prompt
    terminal: interactive,
    prompt: 'you> ',
    crlfDelay: Infinity,
  });
  let waitingForReply = false; // the turn: true while the server owes us a reply
  let inputEnded = false;
  let leaving = false;
  const queued: string[] = []; // script mode: lines read ahead of their turn
  let settle: (end: ClientEnd) => void = () => {};
  const done = new Promise<ClientEnd>((resolve) => (settle = resolve));

  const print = (stream: NodeJS.WritableStream, text: string) => {
    const prompting = interactive && !waitingForReply && !inputEnded;
    if (prompting) {
      readline.cursorTo(log, 0); // erase the prompt, print, draw it again
      readline.clearLine(log, 0);
    }
    stream.write(text + '\n');
    if (prompting) rl.prompt(true);
  };
  const finish = (end: ClientEnd) => {
    inputEnded = true;
    rl.close();
    socket.destroy();
    settle(end);
  };

  // #region focus
  const send = (line: string) => {
    if (Buffer.byteLength(line) > maxFrameBytes) {
      print(log, `(that line is over ${maxFrameBytes} bytes; not sent, still your turn)`);
      return;
    }
    socket.write(encodeFrame(line));
    waitingForReply = true; // until the reply arrives we may not send again
  };
  // Our turn again: send the next scripted line, or leave if input is over.
  const takeTurn = () => {
    while (!waitingForReply && queued.length > 0) {
      const line = queued.shift()!;
      if (line !== '') send(line); // an empty line is not a message: no reply would come
    }
    if (queued.length < 64 && !inputEnded) rl.resume();
    if (waitingForReply) return;
    if (inputEnded && !leaving) {
      leaving = true;
      socket.end(); // polite close: FIN after our last line
    } else if (interactive && !inputEnded) {
      rl.prompt();
    }
  };

  rl.on('line', (line) => {
    if (!interactive) {
      queued.push(line);
      if (queued.length >= 64) rl.pause(); // a long script need not sit in memory
      takeTurn();
    } else if (waitingForReply) {
      print(log, "(not your turn: wait for the server's reply; that line was not sent)");
    } else {
      if (line !== '') send(line);
      if (!waitingForReply) rl.prompt(); // empty or too long: still our turn
    }
  });

  const decoder = new LineDecoder({ maxFrameBytes: Math.max(maxFrameBytes, 64 * 1024) });
  socket.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      if (!frame.ok) {
        print(log, `(unreadable line from the server: ${frame.error.code})`);
        continue;
      }
      const message = parseServerLine(frame.text);
      if (message?.kind === 'reply') {
        waitingForReply = false;
        print(output, `${safe(message.from)}: ${safe(message.text)}`);
        takeTurn();
      } else if (message?.kind === 'error') {
        // Our line was refused: it is our turn again (or the server hangs up).
        waitingForReply = false;
        print(log, `! ${message.code}: ${safe(message.message)}`);
        takeTurn();
      } else {
        print(log, message === null ? `? ${safe(frame.text)}` : `* ${safe(message.text)}`);
      }
    }
  });
  // #endregion focus

  rl.on('close', () => {
    if (inputEnded) return; // closed by finish()
    inputEnded = true; // Ctrl-D, or the end of a pipe
    takeTurn();
  });
  rl.on('SIGINT', () => finish('interrupted')); // Ctrl-C at the prompt
  // Nobody reads our output any more (`client | head -1`): writing to it
  // fails with EPIPE, an 'error' event that would crash us. Take it as the
  // end of input: the lines already typed still go out, then we leave.
  output.on('error', () => rl.close());
  log.on('error', () => {}); // status lines only: no reason to leave
  socket.once('close', () => {
    if (!inputEnded && !leaving) print(log, '(the server closed the connection)');
    finish(leaving ? 'input-ended' : 'server-closed');
  });

  print(log, `connected to ${remote} as ${local}`);
  if (interactive) rl.prompt();
  return { local, remote, done, close: () => finish('closed') };
}

function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'ECONNREFUSED' ? 'connection refused (is the server running?)' : err.message;
      reject(new ChatError('CONNECT_FAILED', `cannot connect to ${host}:${port}: ${why}`));
    });
  });
}
