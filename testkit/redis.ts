/**
 * Redis chores that stage 9's tests, the benchmark's cluster scenario and
 * the recorded stage 9 session all need: connect or say why not, and remove
 * the keys a run created.
 *
 * Why here: tooling must not reach into a stage's test folder, and shared/
 * is product code. Every run works under a key prefix of its own, so
 * cleaning up means deleting that prefix, never flushing a database that a
 * real cluster may share.
 *
 * @module
 */
import { Redis } from 'ioredis';

/**
 * Connects to the Redis at `url` and checks that it answers PING; returns
 * the open connection, or the reason it cannot be used. One attempt, no
 * retries and no offline queue: a missing Redis is reported in seconds
 * instead of commands waiting forever.
 */
export async function connectRedis(url: string): Promise<Redis | string> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // The socket's own error (ECONNREFUSED…) says more than connect()'s "closed".
  let cause: unknown;
  redis.on('error', (err: unknown) => (cause ??= err));
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    const why = cause ?? err;
    return why instanceof Error ? why.message : String(why);
  }
}

/**
 * Deletes every key under `prefix` through an open connection. SCAN walks
 * the keyspace in slices, where KEYS would block Redis for everyone while it
 * lists them all; UNLINK frees the memory off Redis's main thread.
 */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Connects to `url`, deletes every key under `prefix`, and disconnects. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = await connectRedis(url);
  if (typeof redis === 'string') throw new Error(`Redis at ${url}: ${redis}`);
  try {
    await deleteKeysUnder(redis, prefix);
  } finally {
    redis.disconnect();
  }
}
