/**
 * Finding the test Redis, and what to do when there is none (the rule of
 * shared/test/mysql-env.ts): tests run for real against `CHAT_REDIS_URL`
 * (default `redis://127.0.0.1:6379`). On a laptop with no Redis the suite is
 * reported SKIPPED, with the reason in its title; under `CI=true` a missing
 * Redis is a failure, never a skip. Jest collects tests synchronously, so
 * reachability is probed by a short child process.
 *
 * Every suite gets its own key prefix (and so its own channels) and removes
 * its keys afterwards: tests never see each other's state, or a real
 * cluster's on the same server.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { isCI } from '../../shared/test/mysql-env';

/** The Redis URL for tests: `CHAT_REDIS_URL`, else the machine's default Redis. */
export function redisTestUrl(): string {
  return process.env.CHAT_REDIS_URL || 'redis://127.0.0.1:6379';
}

/** A key prefix no other run uses: `chat-test:PID:RANDOM:`. */
export function testPrefix(): string {
  return `chat-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix` (the kit shared with the tools). */
export { deleteKeys } from '../../testkit/redis';

/** Why Redis at `url` cannot be used, or undefined if it answers PING. */
function unreachableReason(url: string): string | undefined {
  const { hostname, port } = new URL(url);
  const probe = `const s = require('node:net').connect(${Number(port) || 6379}, ${JSON.stringify(hostname)});
    s.on('connect', () => s.write('PING\\r\\n'));
    s.on('data', (d) => process.exit(String(d).startsWith('+PONG') ? 0 : 2));
    s.on('error', (e) => { process.stderr.write(String(e.code)); process.exit(1); });`;
  const result = spawnSync(process.execPath, ['-e', probe], { timeout: 5000, encoding: 'utf8' });
  if (result.status === 0) return undefined;
  const why =
    result.status === 2 ? 'it did not answer PING with PONG' : result.stderr || 'no answer';
  return `Redis at ${hostname}:${port || 6379} is unusable (${why})`;
}

/** Why `redis-server` cannot be started here, or undefined if it can. */
function missingServerReason(): string | undefined {
  const result = spawnSync('redis-server', ['--version'], { timeout: 5000, encoding: 'utf8' });
  return result.status === 0 ? undefined : 'no redis-server program on PATH';
}

/** What a suite that needs Redis requires. */
export interface RedisNeeds {
  /** The suite starts its own `redis-server` (fault tests): the program must exist. */
  ownServer?: boolean;
}

/**
 * `describe(title, body)` when Redis is usable. Otherwise: under CI, one
 * failing test saying why; elsewhere, the suite as `describe.skip`, so Jest's
 * summary counts its tests as skipped, and one notice gives the reason.
 *
 * @param title - the suite's title
 * @param body - defines the suite's tests; receives the Redis URL
 * @param needs - whether the suite starts its own redis-server
 */
export function describeWithRedis(
  title: string,
  body: (url: string) => void,
  needs: RedisNeeds = {},
): void {
  const url = redisTestUrl();
  const reason = needs.ownServer ? missingServerReason() : unreachableReason(url);
  if (reason === undefined) {
    describe(title, () => body(url));
  } else if (isCI()) {
    describe(title, () => {
      test('Redis is available (required when CI=true)', () => {
        throw new Error(`${reason}; under CI the Redis tests must run`);
      });
    });
  } else {
    process.stderr.write(`NOTICE: "${title}" skipped: ${reason} (under CI=true this fails)\n`);
    describe.skip(`${title} [skipped: ${reason}]`, () => body(url));
  }
}
