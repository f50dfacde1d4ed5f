// Test harness for stage 2: a real server on port 0 whose replies the test
// hands out one by one, and whose events the test can wait for.
import { EventEmitter, once } from 'node:events';
import {
  startServer,
  type ServerEvent,
  type ServerOptions,
  type Stage2Server,
} from '../src/server';
import type { ReplyContext } from '../src/turns';

/** One request for a reply, waiting for the test to answer it. */
export interface ReplyCall {
  text: string;
  context: ReplyContext;
  answer(reply: string | null): void;
}

/** Reply requests in arrival order; the test decides when each is answered. */
export class ManualReplies {
  readonly calls: ReplyCall[] = [];
  /** How many requests were open at once, at most: 1 if turns are respected. */
  maxOpen = 0;
  private open = 0;
  private taken = 0;
  private readonly emitter = new EventEmitter();

  readonly fn = (text: string, context: ReplyContext): Promise<string | null> =>
    new Promise((resolve) => {
      this.open++;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      const done = () => this.open--;
      context.signal.addEventListener('abort', done, { once: true });
      this.calls.push({
        text,
        context,
        answer: (reply) => {
          context.signal.removeEventListener('abort', done);
          done();
          resolve(reply);
        },
      });
      this.emitter.emit('call');
    });

  /** The next request not yet taken by a test, waiting for it if needed. */
  async next(): Promise<ReplyCall> {
    while (this.calls.length <= this.taken) await once(this.emitter, 'call');
    return this.calls[this.taken++]!;
  }
}

/** Every event the server reported, and a way to wait for one. */
export class EventLog {
  readonly events: ServerEvent[] = [];
  private readonly emitter = new EventEmitter();

  readonly push = (event: ServerEvent): void => {
    this.events.push(event);
    this.emitter.emit('event');
  };

  /** Resolves with the first event (seen so far or later) that matches. */
  async waitFor(match: (event: ServerEvent) => boolean): Promise<ServerEvent> {
    for (;;) {
      const found = this.events.find(match);
      if (found !== undefined) return found;
      await once(this.emitter, 'event');
    }
  }
}

/** A started server, its replies and its events. */
export interface Harness {
  server: Stage2Server;
  replies: ManualReplies;
  log: EventLog;
}

/** Starts a real stage 2 server on a free port with manual replies. */
export async function startHarness(options: Partial<ServerOptions> = {}): Promise<Harness> {
  const replies = new ManualReplies();
  const log = new EventLog();
  const server = await startServer({ port: 0, reply: replies.fn, onEvent: log.push, ...options });
  return { server, replies, log };
}
