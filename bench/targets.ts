/**
 * The servers under test, each described by a small "target": how to start it,
 * and how a load client connects to it, sends a message and recognises a
 * received one.
 *
 * The benchmark itself knows nothing about protocols. It starts a target's
 * server, asks the target for load clients, and passes opaque payloads through
 * them. A later stage joins the benchmark by adding one entry here: stage 5's
 * load client would seal each payload with AES-GCM and open each received one;
 * stage 6's would log in first and resolve `openClient` only once logged in.
 *
 * @module
 */
import { ChatError } from '../shared/src/errors';
import { openLineClient } from './plaintext-client';

/** Where a load client connects (always loopback in this benchmark). */
export interface LoadEndpoint {
  /** The server's address, e.g. `127.0.0.1`. */
  host: string;
  /** The server's port, as printed in its `listening on HOST:PORT` line. */
  port: number;
}

/** What a load client reports back to the scenario driving it. */
export interface LoadClientEvents {
  /**
   * Called with each received chat message's payload, exactly as another
   * client sent it, and `nowUs()` (see payload.ts) from when the payload
   * became readable: after any decryption, so latency covers the client's work.
   */
  onPayload(payload: string, receivedAtUs: number): void;
}

/** One connected load client, ready to chat. */
export interface LoadClient {
  /** Sends one chat message whose text is `payload` (ASCII, no line breaks). */
  send(payload: string): void;
  /** Closes the connection; never throws. */
  close(): void;
  /** True once the connection ended, for whatever reason. */
  readonly closed: boolean;
}

/** Goals relative to the baseline, from the project's performance requirements. */
export interface Goals {
  /** Delivered messages per second must be at least this fraction of the baseline's. */
  minThroughputRatio: number;
  /** Memory per idle connection must be at most this multiple of the baseline's. */
  maxMemoryRatio: number;
}

/** A server under test. */
export interface Target {
  /** Short name used by `--only` and in the table. */
  readonly name: string;
  /** One line describing what is being run. */
  readonly description: string;
  /** Entry file, relative to the repository root; run as `node --import tsx FILE --port 0`. */
  readonly entryFile: string;
  /** Extra server arguments after `--port 0`, if any. */
  readonly serverArgs?: readonly string[];
  /** What this server should achieve relative to the baseline; checked and printed. */
  readonly goals?: Goals;
  /**
   * Connects one load client. Resolves once the server has admitted it (for
   * example after a welcome line or a login), so the scenario may start.
   *
   * @param endpoint - where the server listens
   * @param events - where received chat payloads go
   */
  openClient(endpoint: LoadEndpoint, events: LoadClientEvents): Promise<LoadClient>;
}

/** The raw baseline: lines come back exactly as sent, with nothing else on the wire. */
const raw: Target = {
  name: 'raw',
  description: 'minimal node:net line broadcaster (bench/raw-broadcaster.ts)',
  entryFile: 'bench/raw-broadcaster.ts',
  openClient: (endpoint, events) =>
    openLineClient(endpoint, events, { payloadOf: (line) => line, welcome: null }),
};

/**
 * Stage 4: chat lines arrive as `IP:PORT: TEXT`; lines starting with `* `
 * (welcome, join, leave) or `! ` (errors) are notices, not messages.
 */
const stage4: Target = {
  name: 'stage4',
  description: 'stage 4 multi-client chat server (stage4-multiclient/bin/server.ts)',
  entryFile: 'stage4-multiclient/bin/server.ts',
  goals: { minThroughputRatio: 0.9, maxMemoryRatio: 2 },
  openClient: (endpoint, events) =>
    openLineClient(endpoint, events, {
      payloadOf: (line) => {
        if (line.startsWith('* ') || line.startsWith('! ')) return null;
        const sep = line.indexOf(': ');
        return sep === -1 ? null : line.slice(sep + 2);
      },
      welcome: /^\* welcome/,
    }),
};

/**
 * Every target, in the order the table lists them. The first one is the
 * baseline the others are compared against.
 */
export const TARGETS: readonly Target[] = [raw, stage4];

/** The target every ratio is computed against. */
export const BASELINE = raw;

/**
 * Looks a target up by name.
 *
 * @param name - a {@link Target.name}
 * @throws ChatError `BAD_ARGUMENT` if no target has that name
 */
export function targetNamed(name: string): Target {
  const target = TARGETS.find((t) => t.name === name);
  if (!target) {
    const known = TARGETS.map((t) => t.name).join(', ');
    throw new ChatError('BAD_ARGUMENT', `unknown target "${name}" (known: ${known})`);
  }
  return target;
}
