// A node reads Redis's clock, not its own: with this machine's clock set an
// hour behind (fake Date; Redis, on the same machine, keeps the real one),
// the clock still reads Redis's time after one sync, and before any sync it
// is the machine's own.
import { Redis } from 'ioredis';
import { RedisClock } from '../src/redis-clock';
import { describeWithRedis } from './redis-env';

describeWithRedis("a node's reading of Redis's clock", (url) => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(url);
  });
  afterAll(() => redis.disconnect());
  afterEach(() => jest.useRealTimers());

  test('corrects a machine clock an hour off', async () => {
    const [seconds] = await redis.time();
    const redisNow = Number(seconds) * 1000;
    jest.useFakeTimers({
      now: redisNow - 3_600_000,
      advanceTimers: true,
      doNotFake: [
        'nextTick',
        'setImmediate',
        'setTimeout',
        'setInterval',
        'clearTimeout',
        'clearInterval',
        'queueMicrotask',
        'hrtime',
        'performance',
      ],
    });
    const clock = new RedisClock();
    expect(redisNow - clock.now()).toBeGreaterThan(3_500_000); // its own, before any sync
    await clock.sync(redis);
    const [after] = await redis.time();
    // Within the second TIME reports, give or take the round trips.
    expect(Math.abs(clock.now() - Number(after) * 1000)).toBeLessThan(2_000);
  });
});
