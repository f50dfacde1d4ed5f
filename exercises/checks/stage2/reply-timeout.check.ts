// Stage 2: a client that stops waiting for a reply that never comes. The task
// is in stage2-client-server/README.md, section "Exercises".
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { CheckContext, Exercise } from '../../kit/check';
import { expectMatch, expectSame } from '../../kit/expect';
import { Lines } from '../../kit/lines';

/** What this exercise uses from stage 2: the server as is, the client with one new option. */
interface Stage2Server {
  startServer(options: {
    port: number;
    reply: (text: string, context: { signal: AbortSignal }) => Promise<string> | string;
  }): Promise<{ port: number; close(): Promise<void> }>;
}
interface Stage2Client {
  startClient(options: {
    port: number;
    input: NodeJS.ReadableStream;
    output: NodeJS.WritableStream;
    log: NodeJS.WritableStream;
    replyTimeoutMs: number;
  }): Promise<{ done: Promise<string>; close(): void }>;
}

/** A real server whose replies come from `reply`, and a real client with a reply deadline. */
async function start(
  ctx: CheckContext,
  replyTimeoutMs: number,
  reply: (text: string, context: { signal: AbortSignal }) => Promise<string> | string,
) {
  const { startServer } = ctx.load<Stage2Server>('stage2-client-server/src/server');
  const { startClient } = ctx.load<Stage2Client>('stage2-client-server/src/client');
  const server = await startServer({ port: 0, reply });
  ctx.defer(() => server.close());
  const input = new PassThrough();
  const output = new PassThrough();
  const log = new PassThrough();
  const replies = new Lines(output);
  const notes = new Lines(log);
  const client = await startClient({ port: server.port, input, output, log, replyTimeoutMs });
  ctx.defer(() => client.close());
  return { input, replies, notes, done: client.done };
}

export const exercise: Exercise = {
  title: 'Give up on a reply that never comes',
  readme: 'stage2-client-server/README.md',
  checks: [
    {
      name: 'with no reply, the client gives up: an error line, done is "timed-out", it hangs up',
      hint: 'start a timer when a line is sent, clear it when the reply (or an error) arrives',
      timeoutMs: 8_000,
      async run(ctx) {
        let asked: AbortSignal | undefined;
        const { input, notes, done } = await start(ctx, 300, (_text, context) => {
          asked = context.signal;
          return new Promise<string>(() => {}); // an operator who never answers
        });
        input.write('hello?\n');
        expectSame(await done, 'timed-out', 'how the session ended');
        expectMatch(await notes.waitFor(/^! /), /no reply within/, 'the line in the log');
        // The server notices the client left: it stops waiting for its operator too.
        if (asked === undefined) throw new Error('the line never reached the server');
        if (!asked.aborted) await once(asked, 'abort');
      },
    },
    {
      name: 'replies that come in time are not affected',
      hint: 'clear the timer on every reply, and when the session ends, so it never fires late',
      async run(ctx) {
        // A generous deadline: on a busy machine an instant reply can still take a while.
        const { input, replies, done } = await start(ctx, 2_000, (text) => `re: ${text}`);
        input.end('one\ntwo\n');
        expectMatch(await replies.next(), /: re: one$/, 'the first reply');
        expectMatch(await replies.next(), /: re: two$/, 'the second reply');
        expectSame(await done, 'input-ended', 'how the session ended');
      },
    },
  ],
};
