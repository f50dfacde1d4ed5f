/**
 * What a server under test is to the benchmark (a {@link Target}: how to
 * start it, what it is judged against, how its load clients connect) and
 * what a load client is to the scenarios that drive it. Only types, so that
 * targets defined in other files (stage8-target.ts) and the list in
 * targets.ts import them without importing each other.
 *
 * The scenarios know nothing about protocols: they pass opaque ASCII
 * payloads through a client's `send` and `onPayload`; the target's client
 * decides what goes on the wire.
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
  /**
   * Called with each received chat payload, exactly as sent, and `nowUs()`
   * once it was readable: after any decryption, so latency covers the client's work.
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
  /**
   * Server CPU per delivered message at most this multiple of the baseline's:
   * the figure that judges a server when the load generator sets the rate.
   */
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
  /**
   * The target this one is judged against: the raw broadcaster (or stage 7)
   * driven by load clients that do the same work per message. Default `raw`.
   */
  readonly baseline?: string;
  /** What this server should achieve relative to its baseline. */
  readonly goals?: Goals;
  /** False: the idle scenario skips it (its memory would repeat another target's). */
  readonly idle?: boolean;
  /** True for the scale scenario's targets (raw and stage 6). */
  readonly scale?: boolean;
  /**
   * Connects one load client; resolves once the server has admitted it (a
   * welcome, a login), so the scenario may start.
   */
  openClient(
    endpoint: LoadEndpoint,
    events: LoadClientEvents,
    context: ClientContext,
  ): Promise<LoadClient>;
  /**
   * Connects a client that only sits in the room (the scale scenario's
   * crowd), reading as cheaply as it can. Default: `openClient`, payloads ignored.
   */
  openIdleClient?(endpoint: LoadEndpoint, context: ClientContext): Promise<LoadClient>;
}
