/**
 * What the soak needs to know about a stage: the small adapter each stage
 * supplies (stage4.ts, stage6.ts), and the cast every role is given.
 *
 * The scenario (scenario.ts) and the roles (roles.ts) are written once; an
 * adapter says how to start that stage's server, connect (and log in), put a
 * chat message on the wire and read the server's lines, which input is bad
 * and what it must earn, how to make a reader stuck, and, for a stage with
 * logins, how to intrude without one.
 *
 * @module
 */
import type { BadFrame } from './bad-frames';
import type { SoakOptions } from './options';
import type { ServerChild } from './server-child';
import type { LogFormat } from './server-log';
import type { Session, World } from './session';

/** What every role needs: where the server is, the shared world, the stage, the stop flag. */
export interface Cast {
  /** The server's address. */
  host: string;
  /** The server's port. */
  port: number;
  /** Ledger, tally, labels, tampered boxes. */
  world: World;
  /** The stage being soaked. */
  adapter: StageAdapter;
  /** Its server, started. */
  stage: StageRun;
  /** A steady chatter that never misbehaves: it watches the room's size and who left. */
  observer: () => Session;
  /** Names of the steady chatters (targets for wrong passwords and forgeries). */
  steadyNames: readonly string[];
  /** True once the load phase is over: loops finish their current step and return. */
  stopping: () => boolean;
}

/** A stage's server, started, and how to talk to it. */
export interface StageRun {
  /** The server process. */
  server: ServerChild;
  /** Removes the run's temporary files, if any. */
  cleanup(): void;
  /**
   * Connects one session and resolves once the server admitted it (welcome or login).
   *
   * @param cast - the server and the world
   * @param name - the user (stage 6) or the name in the session id
   * @param sessionNo - this name's connection number; the id is `name#sessionNo`
   * @param register - create the account first (stages with logins)
   */
  connect(cast: Cast, name: string, sessionNo: number, register: boolean): Promise<Session>;
  /**
   * A vandal's extra mischief, if the stage has any (stage 6: boxes no one may
   * open). Given a random number in [0.1, 1), it acts and returns true, or
   * leaves the tick to an ordinary chat message.
   */
  tamper?(cast: Cast, session: Session, r: number): boolean;
  /** Intrudes without ever logging in, until the load stops (stages with logins). */
  intrude?(cast: Cast, index: number): Promise<void>;
}

/** A stage as the soak sees it. */
export interface StageAdapter {
  /** `stage4` or `stage6`: the first column of the report. */
  readonly name: 'stage4' | 'stage6';
  /** How the server writes its log. */
  readonly logFormat: LogFormat;
  /** Steady chatters connected at once during set-up. */
  readonly setupBatch: number;
  /** The server's frame limit: a churner leaving by an oversized frame exceeds it. */
  readonly maxFrameBytes: number;
  /**
   * True when a user may hold one session at a time (stage 6): a churner then
   * comes back only once the observer saw it leave.
   */
  readonly oneSessionPerUser: boolean;
  /** What the server says to everyone on shutdown, for the report. */
  readonly byeName: string;
  /** How set-up admits a chatter, for the progress line. */
  readonly setupVerb: string;
  /** The stuck reader's batch (written every 20 ms), and what one item of it is. */
  readonly stuckFlood: { batch: Buffer; count: number; unit: string };
  /** Load seconds for this stage. */
  seconds(options: SoakOptions): number;
  /** Bad input a vandal sends now and then while chatting. */
  vandalInput(): BadFrame[];
  /** Bad input a churner may send just before it leaves. */
  leavingInput(): BadFrame[];
  /**
   * Starts the server.
   *
   * @param options - the soak's options (e.g. the bcrypt cost)
   * @param world - what the sessions will share
   * @param onLine - receives every line the server writes
   */
  start(
    options: SoakOptions,
    world: World,
    onLine: (stream: 'stdout' | 'stderr', line: string) => void,
  ): Promise<StageRun>;
}
