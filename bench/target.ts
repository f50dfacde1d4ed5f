/**
 * What a server under test is to the benchmark (a {@link Target}) and what a
 * load client is to the scenarios, which pass opaque ASCII payloads through
 * its `send` and `onPayload`. Only types, so that stage8-target.ts and
 * targets.ts import them without importing each other.
 *
 * @module
 */
import type { RunFiles } from './run-files';

/** Where a load client connects (always loopback in this benchmark). */
export interface LoadEndpoint {
  /** The server's address, e.g. `127.0.0.1`. */
  host: string;
  /** The port from the server's `listening on HOST:PORT` line. */
  port: number;
  /** A cluster's nodes (stage 9): client `i` uses `ports[i % ports.length]`. */
  ports?: number[];
}

/** What a load client reports back to the scenario driving it. */
export interface LoadClientEvents {
  /** Called with each received chat payload, exactly as sent, and `nowUs()` once readable (decrypted). */
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

/** What a load client is given besides the server's address. */
export interface ClientContext {
  /** The run's temporary files (the room key, the servers' certificates). */
  files: RunFiles;
  /** The client's index, unique within its scenario (e.g. for a username). */
  index: number;
}

/** Goals relative to the target's baseline, from the project's performance requirements. */
export interface Goals {
  /** Delivered msg/s at least this fraction of the baseline's. */
  minThroughputRatio?: number;
  /** Memory per idle connection at most this multiple of the baseline's. */
  maxMemoryRatio?: number;
  /** Server CPU per delivered message at most this multiple of the baseline's. */
  maxCpuPerMessageRatio?: number;
}

/** A server under test. */
export interface Target {
  /** Short name used by `--only` and in the tables. */
  readonly name: string;
  /** One line describing what is being run. */
  readonly description: string;
  /** Entry file from the repository root, run with `--host 127.0.0.1 --port 0`. */
  readonly entryFile: string;
  /** Extra server arguments, called once per start (a fresh database each time). */
  serverArgs?(files: RunFiles): string[];
  /** The target this one is judged against (default `raw`): same client work per message. */
  readonly baseline?: string;
  /** What this server should achieve relative to its baseline. */
  readonly goals?: Goals;
  /** False: the idle scenario skips it (its memory would repeat another target's). */
  readonly idle?: boolean;
  /** False: the paced fan-out skips it (its clients cannot keep the pace). */
  readonly paced?: boolean;
  /** True for the scale scenario's targets (raw and stage 6). */
  readonly scale?: boolean;
  /** Connects one load client; resolves once the server has admitted it (a welcome, a login). */
  openClient(
    endpoint: LoadEndpoint,
    events: LoadClientEvents,
    context: ClientContext,
  ): Promise<LoadClient>;
  /** Connects a scale crowd's client, reading as cheaply as it can (default: `openClient`). */
  openIdleClient?(endpoint: LoadEndpoint, context: ClientContext): Promise<LoadClient>;
}
