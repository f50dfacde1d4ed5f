/**
 * Lua scripts in Redis: how several steps become one atomic step.
 *
 * Redis runs one command at a time, and a script is one command: while it
 * runs, no other client's command does. So "read the session, and if it is
 * free, take it and announce it" cannot be interleaved with another node doing
 * the same, which a `GET` followed by a `SET` from Node could be (both nodes
 * read "free", both write). The price: a script blocks Redis while it runs,
 * so every script here does a small, bounded amount of work.
 *
 * Scripts are sent once and then called by their SHA-1 digest (`EVALSHA`),
 * which saves sending the source on every call. Redis forgets its script
 * cache on restart (or `SCRIPT FLUSH`); the answer is then `NOSCRIPT`, and the
 * source is sent again with `EVAL`, which caches it anew.
 *
 * Each script reads the time with Redis's `TIME`, not the node's clock: all
 * nodes then agree on when a heartbeat runs out, however their clocks drift.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** What a script may be given: keys and arguments are strings or bytes. */
export type ScriptArgument = string | number | Buffer;

/** A Lua script, called by digest with a fallback to its source. */
export class LuaScript {
  /** The SHA-1 digest Redis knows the script by. */
  readonly sha: string;

  /**
   * @param name - a name for error messages
   * @param source - the Lua source
   */
  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /**
   * Runs the script atomically, by digest. Not for a script whose place
   * among the connection's commands matters: after a `NOSCRIPT` the `EVAL`
   * goes out behind commands issued meanwhile (use {@link runInOrder}).
   *
   * @param redis - the connection to run it on
   * @param keys - the keys it touches (`KEYS[1]`…)
   * @param args - its other arguments (`ARGV[1]`…)
   * @returns the script's reply, untyped: the caller checks its shape
   */
  async run(redis: Redis, keys: string[], args: ScriptArgument[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }

  /**
   * Runs the script with `EVAL`, sending its source every time: one command,
   * so it keeps its place among the commands issued on the connection before
   * and after it. For short scripts whose order matters (a directed frame
   * must not overtake the room frame published after it).
   *
   * @param redis - the connection to run it on
   * @param keys - the keys it touches
   * @param args - its other arguments
   */
  runInOrder(redis: Redis, keys: string[], args: ScriptArgument[]): Promise<unknown> {
    return redis.eval(this.source, keys.length, ...keys, ...args);
  }
}

/**
 * Lua that sets `now` to Redis's clock in milliseconds; scripts start with it.
 * (`TIME` answers seconds and microseconds, as strings.)
 */
export const LUA_NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
