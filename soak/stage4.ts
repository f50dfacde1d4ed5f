/**
 * The soak's adapter for stage 4: plain text lines, no login. The server names
 * each client by its `IP:PORT` (the label in its welcome), so the session id
 * travels inside the message text and the receiver checks that the label in
 * front of it is that session's label.
 *
 * ```text
 * sent:      soak churner-3#2 17 pppp…
 * received:  127.0.0.1:50312: soak churner-3#2 17 pppp…
 * ```
 *
 * Stage 4 gets a smaller share of the default time budget: it is the simpler
 * server, and stage 6 runs the same relay code and more.
 *
 * @module
 */
import net from 'node:net';
import { DEFAULT_MAX_FRAME_BYTES, LineDecoder } from '../shared/src/framing';
import { garbageFrame, invalidUtf8Frame, type BadFrame } from './bad-frames';
import { ServerChild } from './server-child';
import { Session, type Heard } from './session';
import type { StageAdapter } from './stage';

// Server lines are a label plus a client's line (at most 4096 bytes).
const MAX_LINE_BYTES = 64 * 1024;
const WELCOME = /^\* welcome, you are (\S+) \(\d+ online\)$/;
const NOTICE = /^\* (\S+) (joined|left) \((\d+) online\)$/;
const ERROR = /^! ([A-Z0-9_]+): /;
const CHAT = /^(\S+): (.*)$/s;

/** A carriage return inside a line: answered with `BAD_FRAME`, not fatal. */
function carriageReturnLine(): BadFrame {
  return { kind: 'CR inside a line', bytes: Buffer.from('a\rb\n'), code: 'BAD_FRAME' };
}

/** What one stage 4 server line means. */
function hear(text: string): Heard {
  const welcome = WELCOME.exec(text);
  if (welcome) return { type: 'welcome', label: welcome[1]! };
  const notice = NOTICE.exec(text);
  if (notice) {
    const online = Number(notice[3]);
    return notice[2] === 'left'
      ? { type: 'presence', online, left: notice[1]! }
      : { type: 'presence', online };
  }
  if (text === '* server shutting down') return { type: 'bye' };
  const error = ERROR.exec(text);
  if (error) return { type: 'error', code: error[1]! };
  const chat = CHAT.exec(text);
  if (chat && !text.startsWith('* ')) return { type: 'chat', from: chat[1]!, text: chat[2]! };
  return { type: 'unexpected', what: text.slice(0, 60) };
}

/** Stage 4 in the soak. */
export const stage4: StageAdapter = {
  name: 'stage4',
  logFormat: 'plain',
  setupBatch: 50,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  oneSessionPerUser: false,
  byeName: 'the shutdown notice',
  setupVerb: 'connected',
  // Each bad line earns a 52-byte error line: about a megabyte a second unread.
  stuckFlood: {
    batch: Buffer.concat(Array.from({ length: 500 }, () => carriageReturnLine().bytes)),
    count: 500,
    unit: 'bad lines',
  },
  seconds: (options) => options.stage4Seconds,
  vandalInput: () => [garbageFrame(), invalidUtf8Frame(), carriageReturnLine()],
  leavingInput: () => [garbageFrame(), carriageReturnLine()],
  async start(_options, world, onLine) {
    const server = await ServerChild.start('stage4-multiclient/bin/server.ts', [], onLine);
    return {
      server,
      cleanup: () => {},
      async connect(cast, name, sessionNo) {
        const id = `${name}#${sessionNo}`;
        const socket = net.connect({ host: cast.host, port: cast.port });
        socket.setNoDelay(true);
        socket.on('error', () => {}); // 'close' follows and is handled
        const session = new Session(world, id, socket, (text) => Buffer.from(text + '\n'));
        const decoder = new LineDecoder({ maxFrameBytes: MAX_LINE_BYTES });
        socket.on('data', (chunk: Buffer) => {
          for (const line of decoder.push(chunk)) {
            session.hear(
              line.ok ? hear(line.text) : { type: 'undecodable', code: line.error.code },
            );
          }
        });
        await session.changed.wait(() => session.label !== '' || session.closed);
        if (session.label === '') throw new Error(`${id}: closed before the welcome`);
        return session;
      },
    };
  },
};
