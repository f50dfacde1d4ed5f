/**
 * The link to Redis: two connections, and the one state the rest of the node
 * cares about, *joined* or *split*.
 *
 * A node needs two connections because a Redis connection that subscribes
 * (in the classic protocol) can do nothing else: `cmd` publishes and runs the
 * scripts, `sub` receives. Either can drop; the node is *joined* only when
 * both are up, its channels are subscribed again, and every rejoin hook (the
 * presence table re-registering this node's users) has run.
 *
 * What a split means, and what this module does about it:
 * - **Keep serving.** Nothing here stops local delivery: a split node is a
 *   smaller room, not a dead one. Commands fail at once instead of queueing
 *   (`enableOfflineQueue: false`: no unbounded queue of stale publishes).
 * - **Say it once.** The Redis client reports an error for every failed
 *   reconnect attempt (every few hundred ms); the link logs one line when the
 *   split starts and one when it ends, and tells its state listeners.
 * - **Rejoin by itself.** The client reconnects with a capped backoff; the
 *   link then resubscribes (itself, so it knows when it is done), runs the
 *   rejoin hooks, and only then reports *joined*. If a connection drops again
 *   meanwhile, the attempt is discarded and the next heartbeat retries.
 * - **Notice a silent loss.** A connection can die without a reset (a cable
 *   pulled, a NAT that forgot us). Every heartbeat sends a command on both
 *   connections; one that times out is torn down and reconnected.
 *
 * @module
 */
import { Redis, type RedisOptions } from 'ioredis';
import { ChatError } from '../../shared/src/errors';
import type { LinkState } from './bus';
import { InboundQueue, type InboundQueueLimits } from './inbound-queue';

/** Heartbeat period when none is given: 2 s. */
export const DEFAULT_HEARTBEAT_MS = 2_000;
/** How long a command may take before its connection is presumed dead: 5 s. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;

/** Options for {@link RedisLink}. */
export interface RedisLinkOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` for TLS. */
  url: string;
  /** This node's id; it names the connections in Redis's `CLIENT LIST`. */
  nodeId: string;
  /** One line per state change; never a password or message text. */
  log?: (line: string) => void;
  /** Period of the heartbeat (hooks, liveness checks, rejoin retries). */
  heartbeatMs?: number;
  /** Per-command timeout; past it the connection is torn down and reconnected. */
  commandTimeoutMs?: number;
  /** Caps of the inbound queue (see {@link InboundQueue}). */
  inbound?: InboundQueueLimits;
}

/** Work other modules attach to the link's life cycle. */
export interface LinkHooks {
  /**
   * Runs when the link (re)joins, before its channels are subscribed: what
   * must be in place before the first message can arrive.
   */
  subscribing?(): Promise<void>;
  /** Runs before the link reports *joined*: at start, and after every split. */
  rejoin?(): Promise<void>;
  /** Runs on every heartbeat while joined. */
  beat?(): Promise<void>;
}

/** A listener for state changes; `detail` says why, in words for a log. */
export type LinkStateListener = (state: LinkState, detail: string) => void;

// Thrown by a rejoin that a lost connection overtook: not worth a log line.
const STALE = new Error('the link changed while rejoining');

/** Two connections to Redis, one state, and the heartbeat. */
export class RedisLink {
  /** The command connection: publishes and scripts. */
  readonly cmd: Redis;
  /** The subscriber connection. */
  readonly sub: Redis;
  /** Where Redis is, without credentials (for logs and errors). */
  readonly where: string;
  private current: LinkState = 'split';
  private readonly channels = new Map<string, (message: Buffer) => void>();
  private readonly hooks: LinkHooks[] = [];
  private readonly listeners: LinkStateListener[] = [];
  private readonly inbound: InboundQueue;
  private readonly log: (line: string) => void;
  private readonly heartbeatMs: number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private rejoining = false;
  private beating = false;
  // Bumped on every lost connection: a rejoin that saw it change is stale.
  private epoch = 0;
  private splitAt = 0;
  private lastBeatError = '';

  /** @param options - where Redis is, and the timings */
  constructor(options: RedisLinkOptions) {
    this.where = safeLocation(options.url);
    this.log = options.log ?? (() => {});
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    const connection = (role: string): Redis => {
      const settings: RedisOptions = {
        lazyConnect: true,
        connectionName: `${options.nodeId}:${role}`,
        // A split node serves its own members; a command that cannot be sent
        // fails now instead of waiting in a queue that grows for the whole split.
        enableOfflineQueue: false,
        // A command in flight when the link dropped is sent again only after
        // a quick reconnect (the relay drops a repeat); after a long split
        // it is refused, not delivered late.
        maxRetriesPerRequest: 1,
        autoResubscribe: false, // resubscribed by rejoin(), which knows when it is done
        retryStrategy: (times) => Math.min(50 * 2 ** times, 2_000),
        commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      };
      const redis = new Redis(options.url, settings);
      // Every failed reconnect attempt emits 'error'; the state change is
      // what gets logged, once (see split()).
      redis.on('error', () => {});
      redis.on('close', () => {
        this.epoch++;
        this.split(`lost the connection to Redis at ${this.where}`);
      });
      redis.on('ready', () => this.tryRejoin());
      return redis;
    };
    this.cmd = connection('cmd');
    this.sub = connection('sub');
    this.inbound = new InboundQueue(
      (channel, message) => this.channels.get(channel.toString('latin1'))?.(message),
      (dropped) => {
        this.split(`fell behind: dropped ${dropped} queued messages; reconnecting`);
        // Like stage 4's slow reader, but we are the slow one: start again
        // from an empty queue, and let the members hear what they missed.
        this.sub.disconnect(true);
      },
      options.inbound,
    );
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) =>
      this.inbound.push(channel, message),
    );
    this.sub.on('ready', () => this.inbound.resume());
  }

  /** *joined* or *split*. */
  get state(): LinkState {
    return this.current;
  }

  /** Messages the inbound queue dropped because the node fell behind. */
  get droppedInbound(): number {
    return this.inbound.dropped;
  }

  /**
   * Subscribes `handler` to a channel (call before {@link start}; it stays
   * subscribed across reconnects). The handler must not throw.
   */
  listen(channel: string, handler: (message: Buffer) => void): void {
    this.channels.set(channel, handler);
  }

  /** Attaches work to the rejoin and heartbeat steps. */
  addHooks(hooks: LinkHooks): void {
    this.hooks.push(hooks);
  }

  /** Calls `listener` on every change between *joined* and *split*. */
  onState(listener: LinkStateListener): void {
    this.listeners.push(listener);
  }

  /**
   * Connects both connections, subscribes, runs the rejoin hooks and starts
   * the heartbeat.
   *
   * @throws ChatError `SERVICE_UNAVAILABLE` if Redis cannot be reached now:
   *   a node that never joined has nothing to rejoin, so it does not start
   */
  async start(): Promise<void> {
    this.rejoining = true; // the 'ready' events must not start a second rejoin
    try {
      await Promise.all([this.cmd.connect(), this.sub.connect()]);
      await this.rejoin(this.epoch);
      this.rejoining = false;
    } catch (err) {
      this.closed = true;
      this.cmd.disconnect();
      this.sub.disconnect();
      const reason = err instanceof Error ? err.message : String(err);
      throw new ChatError('SERVICE_UNAVAILABLE', `cannot join Redis at ${this.where}: ${reason}`);
    }
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref(); // the node's own sockets keep it alive, not this timer
  }

  /** Stops the heartbeat and closes both connections. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.inbound.clear();
    await Promise.all(
      [this.cmd, this.sub].map((redis) => redis.quit().catch(() => redis.disconnect())),
    );
  }

  private split(detail: string): void {
    if (this.closed || this.current === 'split') return;
    this.current = 'split';
    this.splitAt = Date.now();
    this.log(`split: ${detail}; serving this node's members only until it rejoins`);
    for (const listener of this.listeners) listener('split', detail);
  }

  private tryRejoin(): void {
    if (this.closed || this.rejoining || this.current === 'joined') return;
    if (this.cmd.status !== 'ready' || this.sub.status !== 'ready') return;
    this.rejoining = true;
    this.rejoin(this.epoch)
      .then(() => {
        const seconds = ((Date.now() - this.splitAt) / 1000).toFixed(1);
        this.log(`rejoined the cluster through Redis at ${this.where} after ${seconds} s`);
        for (const listener of this.listeners) listener('joined', `after ${seconds} s`);
      })
      .catch((err: unknown) => {
        // Usually a connection that dropped again; either way the next
        // 'ready' or heartbeat retries. Anything else is worth one line.
        const message = err instanceof Error ? err.message : String(err);
        if (err === STALE || message === this.lastBeatError || this.cmd.status !== 'ready') return;
        this.lastBeatError = message;
        this.log(`rejoin failed: ${message}`);
      })
      .finally(() => (this.rejoining = false));
  }

  private async rejoin(epoch: number): Promise<void> {
    for (const hooks of this.hooks) await hooks.subscribing?.();
    await this.sub.subscribe(...this.channels.keys());
    for (const hooks of this.hooks) await hooks.rejoin?.();
    if (this.closed || epoch !== this.epoch) throw STALE;
    this.current = 'joined';
  }

  private async beat(): Promise<void> {
    if (this.closed || this.beating) return;
    if (this.current === 'split') {
      this.tryRejoin();
      return;
    }
    this.beating = true;
    try {
      try {
        await this.sub.ping();
      } catch (err) {
        this.beatFailed(this.sub, err);
        return;
      }
      // A step that Redis refused (a dead node's keys that cannot be
      // reaped) does not stop the others (the logins to settle): Redis is
      // there and answering. A step that got no answer (a timeout, a closed
      // connection) does: the rest would only wait for the same silence.
      let failure: { err: unknown } | undefined;
      for (const hooks of this.hooks) {
        try {
          await hooks.beat?.();
        } catch (err) {
          failure ??= { err };
          if (!isRefusal(err) && !isRefusal((err as Error | undefined)?.cause)) break;
        }
      }
      if (failure === undefined) this.lastBeatError = '';
      else this.beatFailed(this.cmd, failure.err);
    } finally {
      this.beating = false;
    }
  }

  // Logged when the failure is new: a failure that repeats every beat is one line.
  private beatFailed(redis: Redis, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    // A timeout on a connection that looks open: presume it dead and start
    // again (its 'close' marks the split).
    if (/timed out/i.test(message) && redis.status === 'ready') redis.disconnect(true);
    // Redis answered, but refused the heartbeat: out of memory, a read-only
    // replica after a failover gone wrong, a failed save, an ACL that no
    // longer allows it. This node's sessions cannot be kept alive, so they
    // expire and other nodes see its users leave: that is a split, and
    // members are told so. Rejoining refreshes the sessions the same way,
    // so it succeeds only once Redis takes them again. (A hook whose
    // refusal must not split, such as reaping other nodes, wraps it in a
    // plain Error, with the refusal as its cause: see redis-presence.ts.)
    else if (isRefusal(err)) {
      this.split(`Redis refuses the heartbeat (${message})`);
    }
    if (this.closed || this.current === 'split' || message === this.lastBeatError) return;
    this.lastBeatError = message;
    this.log(`heartbeat failed: ${message}`);
  }
}

// Redis's own error reply (ioredis names it ReplyError): it answered, and said no.
function isRefusal(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError';
}

/** `redis://user:secret@host:6380/2` → `redis://host:6380`: logs never show credentials. */
function safeLocation(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.hostname}:${parsed.port || '6379'}`;
  } catch {
    throw new ChatError('BAD_ARGUMENT', 'CHAT_REDIS_URL is not a valid URL');
  }
}
