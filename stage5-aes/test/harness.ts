/**
 * Stage 5 test harness: real clients run in-process on piped streams, and raw
 * sockets that speak (or break) the JSON protocol.
 */
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { connect, LineReader } from '../../shared/test/helpers';
import { runClient } from '../src/client';
import { decodeServerFrame, type ServerFrame } from '../src/messages';

/** A real stage 5 client running in this process, driven like a piped process. */
export interface TestClient {
  /** Chat messages (`SENDER: TEXT`). */
  stdout: LineReader;
  /** Notices and warnings. */
  stderr: LineReader;
  /** The client's label, from its welcome notice. */
  label: string;
  /** Types a line. */
  say(text: string): void;
  /** Ends its input (Ctrl-D) and waits for runClient to return. */
  quit(): Promise<number>;
  /** Resolves with runClient's result. */
  done: Promise<number>;
}

/** Starts a real client with piped streams and waits for its welcome. */
export async function startClient(port: number, key: Uint8Array): Promise<TestClient> {
  const input = new PassThrough();
  const output = new PassThrough();
  const errorOutput = new PassThrough();
  const stdout = new LineReader(output);
  const stderr = new LineReader(errorOutput);
  const done = runClient({ host: '127.0.0.1', port, key, input, output, errorOutput });
  done.finally(() => {
    output.end();
    errorOutput.end();
  });
  const welcome = await stderr.waitFor(/^\* welcome, you are /);
  const label = /you are (\S+) /.exec(welcome)![1]!;
  return {
    stdout,
    stderr,
    label,
    done,
    say: (text) => input.write(text + '\n'),
    quit: () => {
      input.end();
      return done;
    },
  };
}

/** A raw TCP connection to the server that reads and writes JSON lines itself. */
export interface RawPeer {
  socket: net.Socket;
  /** Every line received, as text (an observer's view of the wire). */
  lines: LineReader;
  /** Every byte received. */
  bytes(): Buffer;
  /** Writes raw text (add the `\n` yourself). */
  send(text: string | Buffer): void;
  /** Waits for the next frame matching `match`, decoded. */
  frame(match: (f: ServerFrame) => boolean): Promise<ServerFrame>;
  /** Its label, from its welcome frame. */
  label: string;
}

/** Connects a raw socket and waits for its welcome frame. */
export async function rawPeer(port: number): Promise<RawPeer> {
  const socket = await connect(port);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const lines = new LineReader(socket);
  const decode = (line: string) => {
    const d = decodeServerFrame(line);
    return d.ok ? d.frame : undefined;
  };
  const frame = async (match: (f: ServerFrame) => boolean) => {
    const line = await lines.waitFor((l) => {
      const f = decode(l);
      return f !== undefined && match(f);
    });
    return decode(line)!;
  };
  const welcome = await frame((f) => f.type === 'welcome');
  return {
    socket,
    lines,
    bytes: () => Buffer.concat(chunks),
    send: (text) => socket.write(text),
    frame,
    label: welcome.type === 'welcome' ? welcome.you : '',
  };
}
