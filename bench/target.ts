/**
 * What a server under test is to the benchmark: how to start it, what it is
 * judged against, and how its load clients connect. Its own file so that a
 * target defined elsewhere (bench/stage7-target.ts) and the list in
 * bench/targets.ts both import it without importing each other.
 *
 * @module
 */

import type { RunFiles } from './run-files';
import type { ClientContext, LoadClient, LoadClientEvents, LoadEndpoint } from './load-client';

/** Goals relative to the baseline, from the project's performance requirements. */
export interface Goals {
  /**
   * Delivered messages per second must be at least this fraction of the
   * baseline's (if set). Stage 8 has none: its clients' signatures, not its
   * server, set its rate.
   */
  minThroughputRatio?: number;
  /** Memory per idle connection must be at most this multiple of the baseline's (if set). */
  maxMemoryRatio?: number;
  /**
   * Server CPU time per delivered message must be at most this multiple of
   * the baseline's (if set). The figure that judges a server when the load
   * generator, not the server, sets the message rate (see bench/README.md).
   */
  maxCpuPerMessageRatio?: number;
}

/** A server under test. */
export interface Target {
  /** Short name used by `--only` and in the table. */
  readonly name: string;
  /** One line describing what is being run. */
  readonly description: string;
  /** Entry file, relative to the repository root; run as `node --require tsx/cjs FILE --port 0`. */
  readonly entryFile: string;
  /**
   * Extra server arguments after `--port 0`, if any. Called once per server
   * start, so a target can give every server fresh files (stage 6: its own database).
   *
   * @param files - the run's temporary files
   */
  serverArgs?(files: RunFiles): string[];
  /**
   * The target this one is judged against: the raw broadcaster driven by
   * load clients that do the same work per message as this target's. Default
   * `raw` (plain-text clients); `raw-sealed` for the stages whose clients
   * encrypt. See bench/README.md, "Goals and verdicts".
   */
  readonly baseline?: string;
  /** What this server should achieve relative to its baseline; checked and printed. */
  readonly goals?: Goals;
  /**
   * False for a target whose idle memory would only repeat another's (same
   * server program): the idle scenario skips it.
   */
  readonly idle?: boolean;
  /**
   * True for the targets of the scale scenario (10,000 idle connections plus
   * 100 chatting clients): the raw baseline and stage 6.
   */
  readonly scale?: boolean;
  /**
   * Connects one load client that will only sit in the room (the scale
   * scenario's idle thousands). It must keep reading what the server sends,
   * as cheaply as it can. Default: {@link Target.openClient}, ignoring payloads.
   *
   * @param endpoint - where the server listens
   * @param context - the run's files and the client's index (unique across load processes)
   */
  openIdleClient?(endpoint: LoadEndpoint, context: ClientContext): Promise<LoadClient>;
  /**
   * Connects one load client. Resolves once the server has admitted it (for
   * example after a welcome line or a login), so the scenario may start.
   *
   * @param endpoint - where the server listens
   * @param events - where received chat payloads go
   * @param context - the run's files and the client's index
   */
  openClient(
    endpoint: LoadEndpoint,
    events: LoadClientEvents,
    context: ClientContext,
  ): Promise<LoadClient>;
}
