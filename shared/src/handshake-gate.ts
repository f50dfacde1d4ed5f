/**
 * At most a few TLS handshakes started per turn of the event loop.
 *
 * A TLS handshake is computation on the main thread (a key exchange and a
 * signature in OpenSSL, about a millisecond), and Node starts one for every
 * connection whose first bytes arrived in this turn. When hundreds of
 * clients connect at once, their first bytes arrive together, and one turn
 * does hundreds of handshakes while every chat message waits behind them.
 *
 * The gate spreads them out: the first {@link DEFAULT_HANDSHAKES_PER_TURN}
 * connections of a turn start their handshake at once; the others wait in
 * arrival order and start a few per turn, in the `setImmediate` phase, after
 * the turn's reads (chat included) were handled. The handshakes take as much
 * CPU as before and finish about as soon; only the longest pause shrinks.
 *
 * Introduced by stage 7; its door (`tls-door.ts`) puts the gate in front of
 * every TLS server from then on.
 *
 * ```text
 * one turn, ungated:  [500 handshakes ····································][chat]
 * gated:              [8 handshakes][chat][8 handshakes][chat][8 handshakes]…
 * ```
 *
 * @module
 */
import type net from 'node:net';
import type tls from 'node:tls';

/** Handshakes started per turn of the event loop, by default. */
export const DEFAULT_HANDSHAKES_PER_TURN = 8;

/** Runs at most `perTurn` tasks per turn of the event loop, the rest in later turns, in order. */
export class TurnGate {
  private readonly queue: (() => void)[] = [];
  private startedThisTurn = 0;
  private scheduled = false;

  /** @param perTurn - tasks per turn (at least 1) */
  constructor(private readonly perTurn = DEFAULT_HANDSHAKES_PER_TURN) {}

  /** Tasks waiting for a later turn. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Runs `task` now if this turn has room, otherwise in a later turn.
   *
   * @param task - the work (here: handing a connection to TLS)
   */
  run(task: () => void): void {
    this.schedule(); // the count starts again next turn
    if (this.queue.length === 0 && this.startedThisTurn < this.perTurn) {
      this.startedThisTurn++;
      task();
    } else {
      this.queue.push(task);
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.nextTurn);
  }

  private readonly nextTurn = (): void => {
    this.scheduled = false;
    const now = this.queue.splice(0, this.perTurn);
    this.startedThisTurn = now.length;
    if (now.length > 0) this.schedule();
    for (const task of now) task();
  };
}

/**
 * Puts a gate between a TLS server's connections and their handshakes. Call
 * it before anything else listens for `'connection'` (the plain-text check
 * hands its connections to the listeners it finds, which is then the gate).
 *
 * @param server - a TLS server, before it listens
 * @param gate - the gate to use
 * @returns the gate
 */
export function gateHandshakes(server: tls.Server, gate = new TurnGate()): TurnGate {
  const toTls = server.listeners('connection') as ((socket: net.Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: net.Socket) =>
    gate.run(() => {
      if (socket.destroyed) return; // closed while it waited
      for (const listener of toTls) listener.call(server, socket);
    }),
  );
  return gate;
}
