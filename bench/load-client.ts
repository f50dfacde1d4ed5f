/**
 * What a load client is, seen from the scenarios that drive it: where it
 * connects, what it reports, what it can do. Kept apart from targets.ts (which
 * lists the servers and picks each one's client) so that the clients and the
 * target list do not import each other.
 *
 * @module
 */
import type { RunFiles } from './run-files';

/** Where a load client connects (always loopback in this benchmark). */
export interface LoadEndpoint {
  /** The server's address, e.g. `127.0.0.1`. */
  host: string;
  /** The server's port, as printed in its `listening on HOST:PORT` line. */
  port: number;
  /**
   * A cluster's nodes (stage 9), when there are several: a target that
   * knows about clusters spreads its clients over these ports, client `i`
   * on `ports[i % ports.length]`. Absent: everyone uses `port`.
   */
  ports?: number[];
}

/** What a load client reports back to the scenario driving it. */
export interface LoadClientEvents {
  /**
   * Called with each received chat message's payload, exactly as another
   * client sent it, and `nowUs()` (see payload.ts) from when the payload
   * became readable: after any decryption, so latency covers the client's work.
   */
  onPayload(payload: string, receivedAtUs: number): void;
}

/** One connected load client, ready to chat. */
export interface LoadClient {
  /** Sends one chat message whose text is `payload` (ASCII, no line breaks). */
  send(payload: string): void;
  /** Closes the connection; never throws. */
  close(): void;
  /** True once the connection ended, for whatever reason. */
  readonly closed: boolean;
}

/** What a load client is given besides the server's address. */
export interface ClientContext {
  /** The run's temporary files: the room key lives there. */
  files: RunFiles;
  /** The client's index in its crowd, unique within one load process (e.g. for a username). */
  index: number;
}
