/**
 * The end of a soak run, the same for every stage: wait until the room holds
 * only the steady chatters again, then have each send one last "fence"
 * message and wait until everyone has everyone else's fence. Messages from
 * one sender arrive in order, so a fence proves that everything its sender
 * sent before it has been delivered: after the drain, the ledger can be
 * checked without guessing how long delivery takes.
 *
 * @module
 */
import { within, type Condition } from './condition';
import { DRAIN_LIMIT_MS } from './verdicts';

/** What the drain needs of a steady chatter, whatever its stage's protocol. */
export interface DrainableSession {
  /** The ledger's id of this session. */
  readonly id: string;
  /** True once the connection has closed. */
  readonly closed: boolean;
  /** How many members the server last said are online. */
  readonly online: number;
  /** Ids of the sessions whose fence this session has received. */
  readonly fences: ReadonlySet<string>;
  /** Notified whenever any of the above changes. */
  readonly changed: Condition;
  /** Sends the next chat message; `true` makes it the fence. */
  sendChat(fence: boolean): void;
}

/** How the drain went; each wait gives up after {@link DRAIN_LIMIT_MS}. */
export interface DrainResult<S> {
  /** The room came back to just the steady chatters. */
  quiet: boolean;
  /** Every chatter still connected received every other one's fence. */
  fenced: boolean;
  /** The chatters still connected when the fences were sent. */
  present: S[];
}

/**
 * Runs the drain over the steady chatters (the first one watches the room size).
 *
 * @param steady - the steady chatters of the run, connected from the start
 */
export async function drain<S extends DrainableSession>(steady: S[]): Promise<DrainResult<S>> {
  const observer = steady[0]!;
  const alive = () => steady.filter((s) => !s.closed);
  const quiet = await within(
    observer.changed.wait(() => observer.closed || observer.online === alive().length),
    DRAIN_LIMIT_MS,
  );
  const present = alive();
  for (const s of present) s.sendChat(true);
  const fenced = await within(
    Promise.all(
      present.map((s) =>
        s.changed.wait(() => s.closed || present.every((o) => o === s || s.fences.has(o.id))),
      ),
    ),
    DRAIN_LIMIT_MS,
  );
  return { quiet, fenced, present };
}
