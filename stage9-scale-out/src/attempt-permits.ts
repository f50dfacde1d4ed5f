/**
 * Where a login attempt's permit comes from on a stage 9 node: the shared
 * buckets in Redis when the node is one of many, stage 6's in-process
 * limiter when it runs alone.
 *
 * Stage 7's login takes its permit synchronously from a `LoginRateLimiter`
 * in the process's memory. With three nodes, that memory is three budgets: a
 * guesser who spreads attempts over the nodes gets three times the tries. So
 * a node in a Redis cluster takes password and ticket attempts from
 * `RedisLoginPermits` (one script, one budget for every node), which
 * is asynchronous: the login now `await`s its permit, still before any
 * bcrypt work.
 *
 * Registrations stay on the node's own limiter: the shared script keeps the
 * three login buckets only, and a registration is also bounded by the
 * hashing queue. (A cluster-wide registration budget is one more bucket in
 * the same script: an exercise.)
 *
 * The permit keeps stage 7's shape (`succeeded`, `failed`, `cancelled`, each
 * returning nothing) and its meaning: the buckets count failures, so a
 * success gives back its per-IP and per-user tokens, a cancelled attempt (no
 * password tested) gives back all of them, and only a failure keeps them.
 * The login code settles it exactly as before. A shared permit settles over
 * the network: if Redis is unreachable at that moment, the outcome is kept
 * and sent again once it is back (`RedisLoginPermits.settlePending`); if
 * it never gets there, the strict side holds (tokens stay taken, and the
 * attempt's marker expires with its lease).
 *
 * @module
 */
import type { AttemptKind, LoginPermit, LoginRateLimiter } from '../../shared/src/rate-limit';
import type { LoginPermits } from './redis-login-permits';

/** Hands out permits for login attempts; see the module comment. */
export interface AttemptPermits {
  /**
   * Takes a permit for one attempt, before any password work.
   *
   * @param ip - the client's address group
   * @param username - the validated username tried
   * @param kind - a login (password or ticket) or a registration
   * @throws ChatError `RATE_LIMITED`, or `SERVICE_UNAVAILABLE` when the
   *   shared buckets cannot be reached (no permit, no attempt)
   */
  acquire(ip: string, username: string, kind: AttemptKind): Promise<LoginPermit>;
}

/**
 * Permits from the node's own limiter, and for logins from the shared
 * buckets when there are any.
 *
 * @param local - stage 6's in-process limiter (registrations; everything when alone)
 * @param shared - the cluster's buckets in Redis; `undefined` on an in-process cluster
 */
export function attemptPermits(
  local: LoginRateLimiter,
  shared: LoginPermits | undefined,
): AttemptPermits {
  return {
    async acquire(ip, username, kind) {
      if (shared === undefined || kind === 'register') return local.acquire(ip, username, kind);
      const permit = await shared.acquire(ip, username);
      let settled = false;
      // Only the first outcome counts, as with stage 6's permits.
      const settle = (outcome: () => Promise<void>) => {
        if (settled) return;
        settled = true;
        outcome().catch(() => {}); // Redis away: kept and sent again (see above)
      };
      return {
        succeeded: () => settle(() => permit.succeeded()),
        failed: () => settle(() => permit.failed()),
        // No password was tested: like stage 6's permit, every token goes
        // back. Settling it as a failure instead would make a full hashing
        // queue or a database hiccup count as a wrong guess against everyone
        // behind the same address. (A client that hung up while its job
        // waited is settled as a failure: `settleDropped` in rate-limit.ts.)
        cancelled: () => settle(() => permit.cancelled()),
      };
    },
  };
}
