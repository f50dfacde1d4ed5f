/**
 * Passwords: the policy a new password must meet, and bcrypt hashing in
 * worker threads.
 *
 * Introduced by stage 6. Three lessons:
 *
 * 1. **Store a slow, salted hash, never the password.** bcrypt mixes a random
 *    salt into an expensive key schedule (2^cost rounds), so a stolen users
 *    table does not reveal passwords, two equal passwords get different
 *    hashes, and each guess costs an attacker the same quarter second it costs
 *    us. The cost is a knob: {@link DEFAULT_BCRYPT_COST} (12) today; raise it
 *    as hardware gets faster.
 * 2. **bcrypt reads only the first 72 bytes.** A longer password would be
 *    silently truncated, so "72 bytes of a passphrase + anything" would all
 *    log in. We reject such passwords with `BAD_PASSWORD` instead (bytes of
 *    UTF-8, not characters: `é` is 2 bytes, an emoji 4).
 * 3. **Hashing is CPU work: keep it off the event loop.** One hash at cost 12
 *    takes about a quarter of a second of pure computation. On the main
 *    thread that is a quarter second in which no chat message moves, so the
 *    {@link PasswordHasher} runs every hash and comparison in a
 *    {@link WorkerPool} (stage 3's lesson). Which jobs may wait for a worker
 *    is decided by `hash-admission.ts`: a job that would not be done before
 *    its client's deadline, or one more from an address that already has
 *    many waiting, gets a quick `SERVICE_UNAVAILABLE` with a time to retry
 *    rather than a growing wait; logins are served before registrations.
 *
 * And one subtlety: **unknown user and wrong password must look the same**,
 * including in time. If an unknown username answered at once while a real one
 * took 250 ms, timing alone would reveal who has an account. So for an unknown
 * user the hasher still runs a full comparison, against a dummy hash of the
 * same cost made once at start-up, and then says no. The same holds after the
cost is raised: a hash stored at a lower cost is compared, then padded with
the rounds it lacks (`paddingCosts` in `bcrypt-worker.ts`), so an old
account answers no sooner than a missing one.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { BcryptResult, BcryptTask } from './bcrypt-worker';
import { ChatError } from './errors';
import { HASH_LANES, HashAdmission, type HashRequest, type HashTicket } from './hash-admission';
import { WorkerPool } from './worker-pool';

/** The bcrypt cost used unless configured otherwise (OWASP asks for at least 10). */
export const DEFAULT_BCRYPT_COST = 12;
/** Lowest and highest cost accepted; 4 is bcrypt's floor and is only for tests. */
export const BCRYPT_COST_RANGE: {
  /** bcrypt's floor: 16 rounds, only for tests. */
  readonly min: number;
  /** 2^20 rounds, about five minutes per login in bcryptjs: far past any sane setting. */
  readonly max: number;
} = { min: 4, max: 20 };
/** Shortest new password, in characters (Unicode code points). */
export const MIN_PASSWORD_LENGTH = 8;
/** Longest password, in UTF-8 bytes: all bcrypt reads. Longer is rejected, not truncated. */
export const MAX_PASSWORD_BYTES = 72;

function badPassword(message: string): ChatError {
  return new ChatError('BAD_PASSWORD', message);
}

/**
 * Checks a password offered at login: a string bcrypt can read in full.
 * (The length minimum is only for new passwords, so raising it later does not
 * lock out existing users.)
 *
 * @param value - whatever the client sent (untrusted: may be any JSON value)
 * @returns the password, typed as a string
 * @throws ChatError `BAD_PASSWORD` if it is not a non-empty string of at most
 *   72 UTF-8 bytes without NUL characters
 */
export function validateLoginPassword(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw badPassword('password must be a non-empty string');
  }
  // C implementations of bcrypt stop at the first NUL byte; refuse it rather
  // than make hashes that mean something else elsewhere.
  if (value.includes('\0')) throw badPassword('password must not contain NUL characters');
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_PASSWORD_BYTES) {
    throw badPassword(
      `password is ${bytes} bytes of UTF-8; bcrypt reads only ${MAX_PASSWORD_BYTES}, so longer passwords are refused rather than truncated`,
    );
  }
  return value;
}

/**
 * Checks a password chosen at registration: {@link validateLoginPassword} plus
 * the minimum length.
 *
 * @param value - whatever the client sent
 * @returns the password
 * @throws ChatError `BAD_PASSWORD` with the rule it breaks
 *
 * @example
 * ```ts
 * validateNewPassword('correct horse');  //=> 'correct horse'
 * validateNewPassword('short');          // throws BAD_PASSWORD (fewer than 8 characters)
 * validateNewPassword('é'.repeat(37));   // throws BAD_PASSWORD (74 bytes)
 * ```
 */
export function validateNewPassword(value: unknown): string {
  const password = validateLoginPassword(value);
  const length = [...password].length; // code points, so an emoji counts once
  if (length < MIN_PASSWORD_LENGTH) {
    throw badPassword(`password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  return password;
}

/**
 * Parses a bcrypt cost from a flag or environment variable: digits only (no
 * sign, point or exponent), then the same range check as {@link checkBcryptCost}.
 *
 * @param text - e.g. `"12"`
 * @throws ChatError `BAD_ARGUMENT` if it is not a whole number in {@link BCRYPT_COST_RANGE}
 */
export function parseBcryptCost(text: string): number {
  if (!/^\d+$/.test(text)) throw badCost(`"${text}"`);
  return checkBcryptCost(Number(text));
}

/**
 * Checks a bcrypt cost given as a number (the `cost` option).
 *
 * @param cost - e.g. `12`
 * @returns the cost, unchanged
 * @throws ChatError `BAD_ARGUMENT` if it is not a whole number in {@link BCRYPT_COST_RANGE}
 */
export function checkBcryptCost(cost: number): number {
  const { min, max } = BCRYPT_COST_RANGE;
  if (!Number.isInteger(cost) || cost < min || cost > max) throw badCost(String(cost));
  return cost;
}

function badCost(shown: string): ChatError {
  const { min, max } = BCRYPT_COST_RANGE;
  return new ChatError('BAD_ARGUMENT', `invalid bcrypt cost ${shown} (expected ${min}-${max})`);
}

/** The default hard cap on hashing jobs waiting for a worker. */
export const DEFAULT_HASH_QUEUE = 256;
/** The default cap on one address's hashing jobs admitted and not finished. */
export const DEFAULT_HASH_JOBS_PER_CLIENT = 8;

/** A request for a place in the hashing queue, from {@link PasswordHasher.reserve}. */
export interface ReserveRequest extends HashRequest {
  /** Aborted when nobody wants the answer any more: a job still waiting is dropped. */
  signal?: AbortSignal;
}

/**
 * A reserved place in the hashing queue: run one job on it, or release it.
 * The place is given back when the job ends (or with {@link release}).
 */
export interface ReservedHash {
  /** Hashes a new password (see {@link PasswordHasher.hash}), then releases the place. */
  hash(password: string): Promise<string>;
  /** Checks a password (see {@link PasswordHasher.verify}), then releases the place. */
  verify(password: string, hash: string | undefined): Promise<boolean>;
  /** Gives the place back without running anything. Safe to call more than once. */
  release(): void;
}

/** Options for {@link PasswordHasher.start}. */
export interface PasswordHasherOptions {
  /** bcrypt cost for new hashes and the dummy hash. Default {@link DEFAULT_BCRYPT_COST}. */
  cost?: number;
  /** Worker threads. Default: one per CPU core minus one for the event loop (at least 1). */
  workers?: number;
  /**
   * Jobs that may wait for a worker, at most, whatever their deadline (see
   * `hash-admission.ts`; registrations get half). Default {@link DEFAULT_HASH_QUEUE}.
   */
  maxQueue?: number;
  /**
   * Jobs admitted through {@link PasswordHasher.reserve} and not finished, per
   * client address group. Default {@link DEFAULT_HASH_JOBS_PER_CLIENT}.
   */
  maxPerClient?: number;
  /**
   * The worker script: default `bcrypt-worker.ts`. Fault tests pass a script
   * that answers the same tasks but can die on request, to check what a
   * login sees when a worker dies mid-hash.
   */
  workerScript?: string;
}

/**
 * Hashes and verifies passwords in a pool of worker threads.
 *
 * @example
 * ```ts
 * const hasher = await PasswordHasher.start({ cost: 12 });
 * const hash = await hasher.hash('correct horse');
 * await hasher.verify('correct horse', hash);      //=> true
 * await hasher.verify('correct horse', undefined); //=> false, after as long as a real check
 * await hasher.close();
 * ```
 */
export class PasswordHasher {
  private readonly admission: HashAdmission;

  private constructor(
    /** The bcrypt cost of new hashes. */
    readonly cost: number,
    private readonly pool: WorkerPool<BcryptTask, BcryptResult>,
    private readonly dummyHash: string,
    dummyMs: number,
    maxPerClient: number,
  ) {
    this.admission = new HashAdmission(
      { maxQueue: pool.maxQueue, maxPerClient },
      pool.size,
      () => pool.averageRunMs ?? dummyMs,
    );
  }

  /**
   * Starts the workers and computes the dummy hash (one hash at full cost,
   * so start-up takes about as long as one login).
   *
   * @param options - cost, worker count and queue bound
   * @throws ChatError `BAD_ARGUMENT` for a cost outside {@link BCRYPT_COST_RANGE}
   */
  static async start(options: PasswordHasherOptions = {}): Promise<PasswordHasher> {
    const cost = checkBcryptCost(options.cost ?? DEFAULT_BCRYPT_COST);
    const maxPerClient = options.maxPerClient ?? DEFAULT_HASH_JOBS_PER_CLIENT;
    if (!Number.isSafeInteger(maxPerClient) || maxPerClient < 1) {
      throw new ChatError('BAD_ARGUMENT', 'hashing jobs per client must be a whole number ≥ 1');
    }
    const pool = new WorkerPool<BcryptTask, BcryptResult>({
      script: options.workerScript ?? path.join(__dirname, 'bcrypt-worker.ts'),
      size: options.workers ?? Math.max(1, os.availableParallelism() - 1),
      maxQueue: options.maxQueue ?? DEFAULT_HASH_QUEUE,
    });
    try {
      // Timed once the workers have loaded their script, so the first guess
      // at a job's run time is a hash, not a hash plus compiling bcryptjs.
      await pool.ready();
      const started = performance.now();
      // A random password nobody knows: the dummy can never match anything.
      const dummy = await pool.run({
        op: 'hash',
        password: randomBytes(18).toString('base64'),
        cost,
      });
      const dummyMs = performance.now() - started;
      return new PasswordHasher(cost, pool, expectString(dummy), dummyMs, maxPerClient);
    } catch (err) {
      await pool.close();
      throw err;
    }
  }

  /** Number of worker threads. */
  get workers(): number {
    return this.pool.size;
  }

  /**
   * Hashes a new password at {@link cost}, with a fresh random salt.
   *
   * @param password - an already validated password
   * @returns the bcrypt hash (`$2b$12$...`, 60 characters; cost and salt included)
   * @throws ChatError `SERVICE_UNAVAILABLE` when the queue is full or a worker died
   */
  async hash(password: string): Promise<string> {
    return expectString(await this.pool.run({ op: 'hash', password, cost: this.cost }));
  }

  /**
   * Checks a password against a stored hash, or against the dummy hash when
   * there is no such user, so both cases take the same time and both say no.
   *
   * @param password - the password offered
   * @param hash - the stored hash, or `undefined` for an unknown user
   * @returns true only if `hash` is defined and matches
   * @throws ChatError `SERVICE_UNAVAILABLE` when the queue is full or a worker died
   */
  async verify(password: string, hash: string | undefined): Promise<boolean> {
    const result = await this.pool.run(this.compareTask(password, hash));
    return hash !== undefined && result === true;
  }

  /** Milliseconds one job takes in a worker, as measured lately (the admission's estimate). */
  get averageJobMs(): number {
    return this.pool.averageRunMs ?? 0;
  }

  /**
   * Reserves a place in the queue for one job, or refuses at once. Call it
   * before any other work of the attempt (the database look-up), so
   * concurrent attempts cannot all pass a check made too early.
   *
   * @param request - login or registration, the client's address group, its
   *   deadline, and a signal that withdraws the job if nobody wants it
   * @returns the place, to run the job on
   * @throws RetryAfterError `SERVICE_UNAVAILABLE` with a `retryAfterMs` when
   *   the job would not be done in time, the client has too many jobs
   *   admitted, or the queue is full
   */
  reserve(request: ReserveRequest): ReservedHash {
    const ticket: HashTicket = this.admission.admit(request);
    const run = { lane: HASH_LANES[request.kind], key: request.client, signal: request.signal };
    const release = () => ticket.release();
    return {
      hash: (password) =>
        this.pool
          .run({ op: 'hash', password, cost: this.cost }, run)
          .then(expectString)
          .finally(release),
      verify: async (password, hash) => {
        try {
          // Always compare (against the dummy for an unknown user), then decide:
          // an unknown name must cost the same time as a wrong password.
          const matched = (await this.pool.run(this.compareTask(password, hash), run)) === true;
          return hash !== undefined && matched;
        } finally {
          release();
        }
      },
      release,
    };
  }

  // A comparison that takes the time of one at today's cost, whatever the
  // cost of the hash it checks: against the dummy for an unknown user, and
  // padded for a hash made before the cost was raised (`paddingCosts`).
  private compareTask(password: string, hash: string | undefined): BcryptTask {
    return { op: 'compare', password, hash: hash ?? this.dummyHash, padToCost: this.cost };
  }

  /** Stops the workers; pending requests fail with `SHUTTING_DOWN`. */
  close(): Promise<void> {
    return this.pool.close();
  }
}

function expectString(result: BcryptResult): string {
  if (typeof result !== 'string') throw new Error('bcrypt worker returned no hash');
  return result;
}
