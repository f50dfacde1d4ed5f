/**
 * A TCP proxy a test controls, to make a server (e.g. the database) "go away"
 * and "come back" without touching the real server.
 *
 * Point the client at `proxy.port` instead of the real port, then:
 * - `stop()`: every open connection is reset, and new ones are accepted and
 *   reset at once (the server crashed or restarted: ECONNRESET,
 *   PROTOCOL_CONNECTION_LOST);
 * - `pause()`: connections stay open but no byte moves in either direction,
 *   and new connections are held unanswered (a network partition or a frozen
 *   server: only timeouts notice);
 * - `resume()`: forwarding works again; held connections are connected on;
 * - `setDelay(ms)`: every chunk, in both directions, is forwarded `ms` after
 *   it reached the proxy, in order (a slow or distant server). The new delay
 *   applies to chunks already waiting too, so `setDelay(0)` releases them.
 *
 * `nextClientData()` resolves when a client's next bytes reach the proxy (a
 * query leaving the app), so a test can act while that query is in flight.
 *
 * The listening port never changes, so clients reconnect to the same address.
 */
import { once } from 'node:events';
import net from 'node:net';

/** What the proxy does with traffic. */
export type ProxyMode = 'forward' | 'paused' | 'stopped';

/** A running proxy; see the module comment. */
export interface TcpProxy {
  /** The port the proxy listens on (127.0.0.1). */
  readonly port: number;
  /** The current mode. */
  readonly mode: ProxyMode;
  /** Client connections currently open through the proxy. */
  readonly openConnections: number;
  /** Resets every connection and refuses new ones (accept + reset). */
  stop(): void;
  /** Holds every connection: nothing is forwarded until `resume()`. */
  pause(): void;
  /** Forwards again. */
  resume(): void;
  /** Delays every chunk by `ms` from its arrival (0: none, the default); see the module comment. */
  setDelay(ms: number): void;
  /** Resolves when the next chunk from any client reaches the proxy, before any delay. */
  nextClientData(): Promise<void>;
  /** Closes the listener and destroys every connection. */
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
  lanes: Lane[];
}

/**
 * One direction of one connection: chunks wait here until they are due.
 * A queue with one timer for its head keeps the order however the delay
 * changes (a timer per chunk could fire out of order after `setDelay`).
 */
interface Lane {
  from: net.Socket;
  to: net.Socket;
  queue: { chunk: Buffer; arrived: number }[];
  timer: NodeJS.Timeout | undefined;
  ended: boolean;
}

/**
 * Starts a proxy on a free port of 127.0.0.1 that forwards to `target`.
 *
 * @param target - where to forward, e.g. `{ host: '127.0.0.1', port: 3306 }`
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'forward';
  let delayMs = 0;
  const pairs = new Set<Pair>();
  let clientDataWaiters: (() => void)[] = [];

  const drop = (pair: Pair): void => {
    pairs.delete(pair);
    for (const lane of pair.lanes) clearTimeout(lane.timer);
    pair.client.destroy();
    pair.upstream?.destroy();
  };

  // Sends every chunk that is due, oldest first, then sets a timer for the
  // next one. Nothing moves unless the proxy is forwarding.
  const pump = (lane: Lane): void => {
    clearTimeout(lane.timer);
    lane.timer = undefined;
    if (mode !== 'forward') return;
    const now = Date.now();
    while (lane.queue.length > 0) {
      const due = lane.queue[0]!.arrived + delayMs;
      if (due > now) {
        lane.timer = setTimeout(() => pump(lane), due - now);
        return;
      }
      if (!lane.to.write(lane.queue.shift()!.chunk)) lane.from.pause();
    }
    if (lane.ended) lane.to.end();
  };

  // Copies a → b by hand (not pipe) so pausing and delaying are ours to
  // decide: pipe() would resume the source on the next 'drain'.
  const forward = (pair: Pair, a: net.Socket, b: net.Socket): void => {
    const lane: Lane = { from: a, to: b, queue: [], timer: undefined, ended: false };
    pair.lanes.push(lane);
    a.on('data', (chunk: Buffer) => {
      if (a === pair.client) {
        const waiters = clientDataWaiters;
        clientDataWaiters = [];
        for (const resolve of waiters) resolve();
      }
      lane.queue.push({ chunk, arrived: Date.now() });
      if (lane.queue.length === 1) pump(lane);
    });
    b.on('drain', () => {
      if (mode === 'forward') a.resume();
    });
    a.on('end', () => {
      lane.ended = true;
      if (lane.queue.length === 0 && mode === 'forward') b.end();
    });
    a.on('close', () => drop(pair));
  };

  const connectUpstream = (pair: Pair): void => {
    const upstream = net.connect(target);
    pair.upstream = upstream;
    upstream.on('error', () => drop(pair));
    forward(pair, pair.client, upstream);
    forward(pair, upstream, pair.client);
    // The client socket starts paused (pauseOnConnect), so nothing it sent
    // is lost while the upstream connection opens.
    if (mode === 'forward') pair.client.resume();
    else upstream.pause();
  };

  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    client.on('error', () => {});
    if (mode === 'stopped') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined, lanes: [] };
    pairs.add(pair);
    client.on('close', () => drop(pair));
    if (mode === 'forward') connectUpstream(pair);
    // paused: hold the client, unanswered, until resume().
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    get mode() {
      return mode;
    },
    get openConnections() {
      return pairs.size;
    },
    stop() {
      mode = 'stopped';
      for (const pair of [...pairs]) {
        for (const lane of pair.lanes) clearTimeout(lane.timer);
        pair.client.resetAndDestroy();
        pair.upstream?.destroy();
        pairs.delete(pair);
      }
    },
    pause() {
      mode = 'paused';
      for (const pair of pairs) {
        pair.client.pause();
        pair.upstream?.pause();
      }
    },
    resume() {
      mode = 'forward';
      for (const pair of [...pairs]) {
        if (pair.upstream === undefined) connectUpstream(pair);
        pair.client.resume();
        pair.upstream?.resume();
        for (const lane of pair.lanes) pump(lane);
      }
    },
    setDelay(ms) {
      delayMs = ms;
      for (const pair of pairs) for (const lane of pair.lanes) pump(lane);
    },
    nextClientData() {
      return new Promise((resolve) => clientDataWaiters.push(resolve));
    },
    async close() {
      mode = 'stopped';
      for (const pair of [...pairs]) drop(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
