/**
 * The benchmark's message text, `m SENDER SEQ SENT_AT_US xxxx…` padded to a
 * fixed size, and the ledger of measured chat. SENT_AT_US is
 * `performance.now()` in whole microseconds, so the receiver computes the
 * end-to-end latency from the payload alone.
 *
 * Parsing runs once per delivery, over a million times a second, in the one
 * load process that plays every client; every allocation there lowers the
 * ceiling the servers are measured against. So the parser reads digits with
 * `charCodeAt` into a caller-owned object instead of slicing and converting
 * substrings.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Reservoir } from './stats';

/** The fields a payload carries. */
export interface Payload {
  /** Index of the sending client. */
  sender: number;
  /** The sender's sequence number, from 1. */
  seq: number;
  /** `performance.now()` at sending, in microseconds. */
  sentAtUs: number;
}

/** The current time in whole microseconds, on the monotonic clock payloads use. */
export function nowUs(): number {
  return Math.round(performance.now() * 1000);
}

/** Builds one payload, padded with `x` to `bytes`. */
export function encodePayload(sender: number, seq: number, bytes: number): string {
  return `m ${sender} ${seq} ${nowUs()} `.padEnd(bytes, 'x');
}

/** Parses a payload into `out` (reused: a delivery allocates nothing); false if it is not one. */
export function parsePayload(text: string, out: Payload): boolean {
  if (text.charCodeAt(0) !== 0x6d /* m */ || text.charCodeAt(1) !== 0x20 /* space */) return false;
  let field = 0;
  let value = 0;
  let digits = 0;
  for (let i = 2; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      value = value * 10 + (c - 0x30);
      digits++;
      continue;
    }
    if (c !== 0x20 || digits === 0) return false;
    if (field === 0) out.sender = value;
    else if (field === 1) out.seq = value;
    else {
      out.sentAtUs = value;
      return true;
    }
    field++;
    value = 0;
    digits = 0;
  }
  return false;
}

/** Waits until `done()` holds, at most 5 s: for the last measured deliveries to arrive. */
export async function drain(done: () => boolean): Promise<void> {
  for (let waited = 0; !done() && waited < 5_000; waited += 20) await sleep(20);
}

/**
 * The latencies of chat messages sent in measured periods, and the
 * deliveries they are owed: a message belongs to the period it was sent in
 * (`periodOf` its send time; null: not measured).
 */
export class ChatLedger {
  private expected = 0;
  private received = 0;
  private readonly parsed: Payload = { sender: 0, seq: 0, sentAtUs: 0 };

  /**
   * @param receivers - the clients that receive each message
   * @param periodOf - the reservoir of the period a send time falls in, or null
   */
  constructor(
    private readonly receivers: number,
    private readonly periodOf: (sentAtUs: number) => Reservoir | null,
  ) {}

  /** Records a payload as sent (call right after encoding it). */
  sent(payload: string): void {
    parsePayload(payload, this.parsed);
    if (this.periodOf(this.parsed.sentAtUs) !== null) this.expected += this.receivers;
  }

  /** Records a received payload's latency, if it belongs to a measured period. */
  receive(payload: string, receivedAtUs: number): void {
    if (!parsePayload(payload, this.parsed)) return;
    const period = this.periodOf(this.parsed.sentAtUs);
    if (period === null) return;
    period.add((receivedAtUs - this.parsed.sentAtUs) / 1000);
    this.received++;
  }

  /** Waits for the deliveries still owed (see {@link drain}), and returns how many never came. */
  async lost(): Promise<number> {
    await drain(() => this.received >= this.expected);
    return this.expected - this.received;
  }
}
