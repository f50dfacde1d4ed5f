/**
 * Why framing exists, shown on a real socket: a naive `'data'` handler that
 * treats each read as one message, next to `LineDecoder`.
 *
 * Run it with `npx tsx stage2-client-server/bin/framing-demo.ts`. The client
 * side controls how its bytes are cut into `write()` calls, and waits until
 * the server has read one piece before writing the next, so the three
 * classic failures happen every time instead of once in a while:
 *
 * 1. one line arriving in two reads (the naive handler sees two messages);
 * 2. two lines arriving in one read (it sees one message holding both);
 * 3. a multi-byte UTF-8 character cut between reads (it decodes each half
 *    on its own and gets replacement characters, `\uFFFD`).
 *
 * @module
 */
import { once, EventEmitter } from 'node:events';
import net from 'node:net';
import { LineDecoder } from '../../shared/src/framing';

/** One scenario: how the bytes were written, and what each reader made of them. */
export interface DemoCase {
  /** What the scenario shows. */
  title: string;
  /** The client's `write()` calls, in order. */
  writes: Buffer[];
  /** What a naive handler got: one "message" per `'data'` event. */
  naive: string[];
  /** What `LineDecoder` got: one message per complete line. */
  framed: string[];
}

const SCENARIOS: { title: string; writes: Buffer[] }[] = [
  { title: 'one line, two reads', writes: [Buffer.from('hel'), Buffer.from('lo\n')] },
  { title: 'two lines, one read', writes: [Buffer.from('one\ntwo\n')] },
  {
    title: 'an emoji cut in half',
    writes: [Buffer.from('👋\n').subarray(0, 2), Buffer.from('👋\n').subarray(2)],
  },
];

/**
 * Runs every scenario over a real loopback connection.
 *
 * @returns one {@link DemoCase} per scenario
 */
export async function runFramingDemo(): Promise<DemoCase[]> {
  const reads = new EventEmitter(); // the server announces each read it makes
  let current: DemoCase | null = null;
  const server = net.createServer((socket) => {
    const decoder = new LineDecoder();
    // #region naive
    socket.on('data', (chunk: Buffer) => {
      // WRONG: a 'data' event is whatever bytes had arrived, not a message.
      current?.naive.push(chunk.toString('utf8'));
      // RIGHT: let the decoder keep partial lines until their newline comes.
      for (const frame of decoder.push(chunk)) {
        current?.framed.push(frame.ok ? frame.text : `<${frame.error.code}>`);
      }
      reads.emit('read');
    });
    // #endregion naive
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;

  const results: DemoCase[] = [];
  try {
    for (const scenario of SCENARIOS) {
      // A fresh connection per scenario, so no bytes carry over.
      const socket = net.connect(port, '127.0.0.1');
      await once(socket, 'connect');
      current = { ...scenario, naive: [], framed: [] };
      for (const piece of scenario.writes) {
        const read = once(reads, 'read');
        socket.write(piece);
        await read; // the server has read this piece: the next one is a new read
      }
      results.push(current);
      socket.destroy();
    }
  } finally {
    server.close();
  }
  return results;
}

/**
 * Formats the results for a terminal, with every string JSON-quoted so that
 * newlines and replacement characters are visible.
 *
 * @param cases - what {@link runFramingDemo} returned
 */
export function formatDemo(cases: DemoCase[]): string {
  const show = (texts: string[]) => texts.map((t) => JSON.stringify(t)).join(', ');
  return cases
    .map((c) =>
      [
        `${c.title}: the client wrote ${c.writes.map(label).join(', then ')}`,
        `  naive 'data' handler: ${c.naive.length} message(s): ${show(c.naive)}`,
        `  LineDecoder:          ${c.framed.length} message(s): ${show(c.framed)}`,
      ].join('\n'),
    )
    .join('\n');
}

/** A write as text if it is valid UTF-8 on its own, else as hex bytes. */
function label(bytes: Buffer): string {
  try {
    return JSON.stringify(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return `bytes <${bytes.toString('hex').replace(/(..)(?=.)/g, '$1 ')}>`;
  }
}
