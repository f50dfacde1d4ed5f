/**
 * Admission to the hashing queue: take a login when it can be answered in
 * time, refuse it quickly (with a time to come back) when it cannot.
 *
 * Introduced by stage 6. Every login and registration is one bcrypt job of
 * about a quarter second at cost 12, and a machine runs only as many at once
 * as it has hashing workers. Stage 6 first bounded the queue with a fixed
 * count (32): the 34th simultaneous login was refused although it would have
 * been answered in eight seconds, well inside its thirty-second deadline,
 * while at a higher cost 32 jobs could already take longer than any deadline.
 * So the limit is a *time*: a job is admitted when the work ahead of it (what
 * the queue holds, at the average measured run time, spread over the
 * workers) ends before the client's deadline. Otherwise the answer is
 * `SERVICE_UNAVAILABLE` with a `retryAfterMs`, at once, at no cost, and the
 * client tries again a little later.
 *
 * Three more rules keep one client from taking the queue from the others:
 *
 * - **A cap per address** (`maxPerClient`): jobs admitted and not finished,
 *   per address group, across logins and registrations.
 * - **Logins first, and a share kept for them**: registrations wait in a
 *   lower lane of the queue (`fair-queue.ts`) and may hold at most half of
 *   `maxQueue`, so a registration flood cannot take the room logins need.
 * - **Round robin between addresses** inside a lane, which the estimate below
 *   takes into account: a newcomer waits for one turn of each address ahead
 *   of it, not for everything a busy address queued.
 *
 * **Retry times are booked, not guessed.** Fifty logins refused at the same
 * moment and all told "come back in 2 s" would all come back together and be
 * refused together again. So each refusal books the next free moment, one
 * job's worth (the run time spread over the workers) after the previous
 * booking: the first refused client is told about one job, the tenth about
 * ten. The refused crowd comes back at the rate the workers can serve it, as
 * if it had waited in a queue without holding a connection.
 *
 * The reservation is a ticket taken synchronously, *before* the database
 * look-up that precedes the hash: admission counts tickets, not queued jobs,
 * so many logins arriving together cannot all pass the check while their
 * look-ups are still running.
 *
 * @module
 */
import { inWords, RetryAfterError } from './retry-after';

/** Which lane a job waits in: logins are served before registrations. */
export type HashKind = 'login' | 'register';

/** The furthest ahead a retry time is booked (a client caps its own wait at about this). */
export const MAX_BOOKING_MS = 30_000;

/** The lane of each kind in the worker pool's queue. */
export const HASH_LANES: Readonly<Record<HashKind, number>> = { login: 0, register: 1 };

/** Limits of a {@link HashAdmission}. */
export interface HashAdmissionLimits {
  /** Jobs that may wait at most, whatever their deadline. Registrations get half. */
  maxQueue: number;
  /** Jobs admitted and not finished per address group. */
  maxPerClient: number;
}

/** One job's request to be admitted. */
export interface HashRequest {
  /** Login or registration. */
  kind: HashKind;
  /** The client's address group. */
  client: string;
  /** Milliseconds until the client's deadline: the job must be done by then. */
  budgetMs: number;
}

/** An admitted job's place: call {@link HashTicket.release} once it is done or abandoned. */
export interface HashTicket {
  /** Login or registration. */
  readonly kind: HashKind;
  /** The client's address group. */
  readonly client: string;
  /** Gives the place back. Safe to call more than once. */
  release(): void;
}

/**
 * Counts admitted jobs and decides, in one synchronous step, whether one more fits.
 *
 * @example
 * ```ts
 * const admission = new HashAdmission({ maxQueue: 256, maxPerClient: 8 }, 1, () => 250);
 * const ticket = admission.admit({ kind: 'login', client: '203.0.113.7', budgetMs: 29_000 });
 * // ... look the user up, run the comparison ...
 * ticket.release();
 * ```
 */
export class HashAdmission {
  // Admitted, unfinished jobs of each kind: in all, and per address group.
  private readonly counts: Record<HashKind, { total: number; clients: Map<string, number> }> = {
    login: { total: 0, clients: new Map() },
    register: { total: 0, clients: new Map() },
  };

  /**
   * @param limits - the queue and per-client caps
   * @param workers - jobs that run at once
   * @param runMs - the current estimate of one job's run time, in milliseconds
   */
  constructor(
    readonly limits: HashAdmissionLimits,
    private readonly workers: number,
    private readonly runMs: () => number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  // The last retry time booked, per client refused for its own cap, and for
  // everyone refused because the queue as a whole was too long.
  private readonly bookedFor = new Map<string, number>();
  private bookedForAll = 0;

  /** Jobs admitted and not yet released, in all. */
  get outstanding(): number {
    return this.counts.login.total + this.counts.register.total;
  }

  /**
   * Milliseconds until a new job of this kind from this client would be
   * done, if it were admitted now.
   *
   * @param kind - its lane
   * @param client - its address group
   */
  expectedMs(kind: HashKind, client: string): number {
    return Math.ceil(this.jobsAhead(kind, client) / this.workers) * this.runMs();
  }

  /**
   * Admits one job, or refuses it. Synchronous: the count and the decision
   * cannot be split by an `await`.
   *
   * @param request - kind, client and deadline
   * @returns the ticket
   * @throws RetryAfterError `SERVICE_UNAVAILABLE` with a `retryAfterMs`
   */
  admit(request: HashRequest): HashTicket {
    const { kind, client } = request;
    const mine = this.countFor(client);
    const busy = (why: string, retryAfterMs: number) =>
      new RetryAfterError(
        'SERVICE_UNAVAILABLE',
        `${why}; try again ${inWords(retryAfterMs)}`,
        retryAfterMs,
      );
    const run = this.runMs();
    if (mine >= this.limits.maxPerClient) {
      // Back when one of this client's jobs has had its turn, after those
      // refused before it.
      throw busy(
        'too many passwords from your address are being checked',
        this.book(client, this.firstTurnMs(client)),
      );
    }
    const cap = kind === 'register' ? Math.floor(this.limits.maxQueue / 2) : this.limits.maxQueue;
    const waiting = kind === 'register' ? this.counts.register.total : this.outstanding;
    if (waiting >= cap + this.workers) {
      const drained = ((waiting - cap) / this.workers) * run;
      throw busy('the server is busy checking passwords', this.book(undefined, drained));
    }
    const expected = this.expectedMs(kind, client);
    if (expected > request.budgetMs) {
      const late = expected - request.budgetMs + run;
      throw busy('the server is busy checking passwords', this.book(undefined, late));
    }
    const lane = this.counts[kind];
    lane.clients.set(client, (lane.clients.get(client) ?? 0) + 1);
    lane.total++;
    let released = false;
    return {
      kind,
      client,
      release: () => {
        if (released) return;
        released = true;
        const left = (lane.clients.get(client) ?? 1) - 1;
        if (left === 0) lane.clients.delete(client);
        else lane.clients.set(client, left);
        lane.total--;
      },
    };
  }

  // Jobs that run before (or with) a new job of `kind` from `client`, itself
  // included: in its lane, one turn of every other client for each of its own
  // jobs (round robin); every login ahead of a registration; and at most one
  // running registration per worker ahead of a login.
  private jobsAhead(kind: HashKind, client: string): number {
    const { clients } = this.counts[kind];
    const turns = (clients.get(client) ?? 0) + 1;
    let ahead = turns;
    for (const [other, count] of clients) if (other !== client) ahead += Math.min(count, turns);
    if (kind === 'login') ahead += Math.min(this.workers, this.counts.register.total);
    else ahead += this.counts.login.total;
    return ahead;
  }

  // Roughly when a client's first job has had its turn: one turn of every
  // other client with jobs, and its own.
  private firstTurnMs(client: string): number {
    let ahead = 1;
    for (const { clients } of Object.values(this.counts)) {
      for (const [other, count] of clients) if (other !== client) ahead += Math.min(count, 1);
    }
    return Math.ceil(ahead / this.workers) * this.runMs();
  }

  // Books the next retry time at least `earliestMs` from now and one job's
  // worth after the last booking (for this client, or for everyone), and
  // returns how long from now that is.
  private book(client: string | undefined, earliestMs: number): number {
    const now = this.now();
    const step = this.runMs() / this.workers;
    const previous = client === undefined ? this.bookedForAll : (this.bookedFor.get(client) ?? 0);
    // Never further ahead than a client waits at most: one that comes back
    // early (its wait was capped) must not push everyone's booking further.
    // The wait is computed as a wait, not as `at - now`: in floating point
    // (now + 3000) - now can come out as 3000.0000000000005, which the
    // answer rounds up to 3001 ms.
    const wait = Math.min(Math.max(earliestMs, previous + step - now), MAX_BOOKING_MS);
    const at = now + wait;
    if (client === undefined) {
      this.bookedForAll = at;
    } else {
      this.bookedFor.set(client, at);
      // Forget bookings that are over, so the map follows current crowds.
      if (this.bookedFor.size > 10_000) {
        for (const [key, time] of this.bookedFor) if (time < now) this.bookedFor.delete(key);
      }
    }
    return wait;
  }

  private countFor(client: string): number {
    return (
      (this.counts.login.clients.get(client) ?? 0) + (this.counts.register.clients.get(client) ?? 0)
    );
  }
}
