/**
 * The smallest program that shares one room between servers: stage 4's
 * plain-text room, plus Redis pub/sub. Run two (or ten), each on its own
 * port, and `nc` into any of them: everyone is in one room.
 *
 * ```sh
 * CHAT_REDIS_URL=redis://127.0.0.1:6379 npm run stage9:minimal -- --port 5051
 * CHAT_REDIS_URL=redis://127.0.0.1:6379 npm run stage9:minimal -- --port 5052
 * ```
 *
 * Each line a member sends is written to this node's other members, then
 * published once; every node writes what it receives to its own members,
 * skipping what it published itself. The rest of the stage is what this
 * leaves out: exactly-once numbering, sessions and presence, limits, and
 * what to do when Redis goes away.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';

const { values } = parseArgs({ options: { port: { type: 'string', default: '5050' } } });
const url = process.env.CHAT_REDIS_URL ?? 'redis://127.0.0.1:6379';
const channel = `${process.env.CHAT_REDIS_PREFIX ?? 'chat:'}minimal-room`;
const nodeId = randomUUID(); // to recognise our own messages when they come back
const publisher = new Redis(url); // a subscribing connection can do nothing else,
const subscriber = new Redis(url); // so publishing needs a second one
const members = new Set<net.Socket>();

// ioredis reconnects a lost connection by itself, forever; with no 'error'
// listener it prints a stack trace for every try. One line per outage will do.
let outage = false;
for (const redis of [publisher, subscriber]) {
  redis.on('error', (err: Error) => {
    if (!outage) console.error(`redis: ${err.message}; retrying`);
    outage = true;
  });
  redis.on('ready', () => (outage = false));
}

subscriber.on('message', (_channel: string, message: string) => {
  const space = message.indexOf(' ');
  if (message.slice(0, space) === nodeId) return; // our members have it already
  for (const member of members) member.write(`${message.slice(space + 1)}\n`);
});

const server = net.createServer((socket) => {
  const label = `${socket.remoteAddress}:${socket.remotePort}`;
  members.add(socket);
  socket.setEncoding('utf8'); // a character split across reads stays whole
  let partial = '';
  socket.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!; // the unfinished last line waits for more
    for (const line of lines) {
      const text = `${label}: ${line.replace(/\r$/, '')}`;
      for (const member of members) if (member !== socket) member.write(`${text}\n`);
      // While Redis is away, ioredis keeps this in memory until it is back,
      // however long that takes; the real stage queues nothing and tells
      // its members the room is split.
      void publisher.publish(channel, `${nodeId} ${text}`);
    }
  });
  socket.on('error', () => {}); // a reset is a leave; 'close' follows
  socket.on('close', () => members.delete(socket));
});
// Listen once subscribed: a member's first line must not find us deaf.
void subscriber.subscribe(channel).then(() =>
  server.listen(Number(values.port), '127.0.0.1', () => {
    console.log(`listening on 127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  }),
);
