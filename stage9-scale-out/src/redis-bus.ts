/**
 * The Redis bus: room fan-out with `PUBLISH`/`SUBSCRIBE`, and directed
 * frames routed to the one node that holds the recipient.
 *
 * A room frame costs the sending node one `PUBLISH`, whatever the number of
 * nodes, and costs Redis one write per subscribed node (not per member): each
 * node then fans out to its own members. That is the shape of Socket.IO's
 * Redis adapter and Centrifugo's Redis engine.
 *
 * A directed frame (a key box for one member, an error) should not be sent to
 * every node. A short Lua script reads the recipient's session (`NODE
 * SESSION`) and publishes on that node's own channel, in one step, so a user
 * who moves between the lookup and the publish cannot be missed in between.
 *
 * Everything one node publishes, room and directed, goes out on its one
 * command connection, in call order; Redis keeps that order to every
 * subscriber. That is what lets a stage 8 key box reach its recipient before
 * the first message sealed with it, and what the relay's numbering relies on.
 *
 * Every envelope and presence event is signed with the cluster's bus key
 * (`bus-keys.ts`). A message that is malformed or does not check (another version's node, a
 * node with another key, a bug, anyone else with access to Redis) is
 * dropped and counted. Its log line goes through a log
 * sampler: one per interval, with the running count, and at the interval's
 * end one line saying how many more were dropped. Garbage that keeps coming
 * stays visible, however fast it comes, and never floods the log.
 *
 * @module
 */
import { LogSampler } from '../../shared/src/log-sampler';
import { createLogger } from '../../shared/src/logger';
import type { Bus, BusListener, DirectResult } from './bus';
import {
  decodeEnvelope,
  DEFAULT_MAX_BUS_FRAME_BYTES,
  encodeEnvelope,
  type BusEnvelope,
} from './bus-envelope';
import type { BusKeys } from './bus-keys';
import type { ClusterKeys } from './cluster-keys';
import type { RedisClock } from './redis-clock';
import { LuaScript } from './lua-script';
import { PresenceEventReader } from './presence-event';
import type { RedisLink } from './redis-link';

// KEYS[1] the recipient's session; ARGV[1] the node channel prefix,
// ARGV[2] the envelope. Returns how many nodes received it (0 or 1).
const ROUTE = new LuaScript(
  'route',
  `local owner = redis.call('GET', KEYS[1])
if not owner then return -1 end
local node = string.match(owner, '^(%S+) ')
return redis.call('PUBLISH', ARGV[1] .. node, ARGV[2])
`,
);

// The sampler's key for malformed messages, and its interval: one line
// about them per interval, then the sum of the rest when it ends.
const REFUSED = 'bus_refused';
const REFUSED_LOG_INTERVAL_MS = 10_000;

/** Options for {@link RedisBus}. */
export interface RedisBusOptions {
  /** The cluster's envelope keys: what this node signs with, and checks with. */
  busKeys: BusKeys;
  /**
   * The cluster's clock (Redis's), which envelopes are stamped and checked
   * by; the node keeps it in step.
   */
  clock: RedisClock;
  /** Longest frame accepted from the bus. Default {@link DEFAULT_MAX_BUS_FRAME_BYTES}. */
  maxFrameBytes?: number;
  /**
   * Where to report malformed messages: one line per 10 s with the running
   * count, and at the end of each 10 s how many more were dropped.
   */
  log?: (line: string) => void;
}

/** One node's end of the bus, over Redis pub/sub. */
export class RedisBus implements Bus {
  /** Frames that did not leave this node (it was split, or Redis refused them). */
  notCrossed = 0;
  /** Malformed messages received and dropped. */
  refused = 0;
  private roomSeq = 0;
  private directSeq = 0;
  private corked = false;
  private readonly maxFrameBytes: number;
  private readonly busKeys: BusKeys;
  // Envelopes are stamped and checked by Redis's clock, not this machine's.
  private readonly clock: RedisClock;
  // When this node last joined the bus, by that clock: nothing sent well
  // before it can be news here (see MAX_PUBLISH_DELAY_MS).
  private joinedAt = -Infinity;
  private readonly log: (line: string) => void;
  private readonly sampler: LogSampler;
  // `refused` when the last line about one was written.
  private refusedLogged = 0;

  /**
   * Subscribes the node's channels on `link` (before the link starts).
   *
   * @param link - the connections to Redis
   * @param keys - the cluster's names
   * @param nodeId - this node's id
   * @param listener - receives envelopes and presence events
   * @param options - the envelope keys, the clock, the frame limit and the log
   */
  constructor(
    private readonly link: RedisLink,
    private readonly keys: ClusterKeys,
    readonly nodeId: string,
    listener: BusListener,
    options: RedisBusOptions,
  ) {
    this.busKeys = options.busKeys;
    this.clock = options.clock;
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_BUS_FRAME_BYTES;
    this.log = options.log ?? (() => {});
    // The sampler writes its end-of-interval summary through a logger; this
    // one turns it into a line for `log` (only this bus's key is sampled).
    const summary = createLogger({
      level: 'warn',
      destination: {
        write: () =>
          this.log(
            `refused ${this.refused - this.refusedLogged} more malformed bus messages, ` +
              `not logged one by one (${this.refused} so far)`,
          ),
      },
    });
    this.sampler = new LogSampler(summary, { intervalMs: REFUSED_LOG_INTERVAL_MS });
    const onEnvelope = (message: Buffer) => {
      const envelope = this.decode(() =>
        decodeEnvelope(message, this.busKeys, {
          now: this.clock.now(),
          maxFrameBytes: this.maxFrameBytes,
          joinedAt: this.joinedAt,
        }),
      );
      if (envelope !== undefined) listener.envelope(envelope);
    };
    link.listen(keys.roomChannel, onEnvelope);
    link.listen(keys.nodeChannel(nodeId), onEnvelope);
    // Just before the channels are subscribed (the clock was synced a moment
    // before): whatever arrives from then on is checked against it. Noted
    // after subscribing, messages drained in between would be checked
    // against the last join's time, or none.
    link.addHooks({
      subscribing: async () => {
        this.joinedAt = this.clock.now();
      },
    });
    const events = new PresenceEventReader(this.busKeys);
    link.listen(keys.presenceChannel, (message) => {
      const event = this.decode(() => events.read(message, this.clock.now(), this.joinedAt));
      if (event !== undefined) listener.presence(event);
    });
  }

  /** Publishes a room frame (see {@link Bus.publishRoom}): one `PUBLISH`, not awaited. */
  publishRoom(from: string, frame: Buffer): boolean {
    // Numbered even if it does not leave: receivers then see the gap and
    // count what they missed.
    const bytes = encodeEnvelope(
      { kind: 'room', origin: this.nodeId, seq: ++this.roomSeq, from, frame },
      this.busKeys,
      this.clock.now(),
    );
    // While split nothing crosses, not even half-way (the command connection
    // may be back before the subscriber is): the users were told the room is
    // split, and the receivers count the gap when it heals.
    if (this.link.state !== 'joined') {
      this.notCrossed++;
      return false;
    }
    this.batchWrites();
    this.link.cmd.publish(this.keys.roomChannel, bytes).catch(() => this.notCrossed++);
    return true;
  }

  /**
   * Gathers this turn's commands into one socket write. ioredis writes each
   * command to its socket as it is issued: one `PUBLISH`, one system call.
   * The first publish of a turn corks the command connection's socket and the
   * turn's end uncorks it, so a read of 30 chat lines leaves as one write
   * (the same idea as the room's cork per member, shared/src/room.ts).
   * Everything written meanwhile, scripts included, stays in call order:
   * cork only delays the bytes, it never reorders them.
   */
  private batchWrites(): void {
    if (this.corked) return;
    const { stream } = this.link.cmd;
    this.corked = true;
    stream.cork();
    setImmediate(() => {
      this.corked = false;
      stream.uncork();
    });
  }

  /** Sends a frame to one user's node (see {@link Bus.sendDirect}), by the `route` script. */
  async sendDirect(from: string, to: string, frame: Buffer): Promise<DirectResult> {
    if (this.link.state !== 'joined') {
      this.notCrossed++;
      return 'split';
    }
    const envelope: BusEnvelope = {
      kind: 'direct',
      origin: this.nodeId,
      seq: ++this.directSeq,
      from,
      to,
      frame,
    };
    try {
      const reached = await ROUTE.runInOrder(
        this.link.cmd,
        [this.keys.session(to)],
        [this.keys.nodeChannel(''), encodeEnvelope(envelope, this.busKeys, this.clock.now())],
      );
      // -1: no session; 0: its node is not listening (cut off from Redis).
      return reached === 1 ? 'sent' : 'offline';
    } catch {
      this.notCrossed++;
      return 'split';
    }
  }

  /**
   * Writes the log sampler's last summary and stops its timer: called when
   * the node leaves, so refusals counted in the last interval are not lost.
   */
  close(): void {
    this.sampler.close();
  }

  private decode<T>(decode: () => T): T | undefined {
    try {
      return decode();
    } catch (err) {
      this.refused++;
      if (this.sampler.allow(REFUSED, 1)) {
        this.refusedLogged = this.refused;
        const every = REFUSED_LOG_INTERVAL_MS / 1000;
        this.log(
          `refused a malformed bus message (${this.refused} so far; one line per ${every} s): ${String(err)}`,
        );
      }
      return undefined;
    }
  }
}
