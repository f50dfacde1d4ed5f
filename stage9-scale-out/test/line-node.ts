/**
 * A node program for the tests that need nodes as separate processes (a node
 * killed with SIGKILL, a node stopped with SIGSTOP): a plain-text room, like
 * stage 4's, wired to the cluster with `joinCluster`, the way a stage 9
 * server is. It is a test fixture, not a stage program.
 *
 * Protocol (nc-friendly): the first line a client sends is its username;
 * then each line is a chat message. The node sends `* welcome NAME`,
 * `NAME: TEXT` for messages, `* NAME joined|left`, `* online N: a, b` for
 * `/who`, `! CODE: message` for errors, `* the room is split…` and `* rejoined`.
 *
 * Stdout: `listening on HOST:PORT`, then `node ID`, then `state split|joined`
 * on every change. Environment: CHAT_REDIS_URL, CHAT_REDIS_PREFIX,
 * CHAT_HEARTBEAT_MS, CHAT_TTL_MS, CHAT_TEST_TICKET_KEY (32 bytes, base64).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { isChatError } from '../../shared/src/errors';
import { LineDecoder } from '../../shared/src/framing';
import { Room } from '../../shared/src/room';
import { validateUsername } from '../../shared/src/user-record';
import { TicketKeys } from '../../shared/src/login-ticket';
import { BusKeys } from '../src/bus-keys';
import { joinCluster } from '../src/cluster-node';

interface Member {
  readonly socket: net.Socket;
  name: string;
  sessionId: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
  const env = process.env;
  const room = new Room<Member>();
  const line = (text: string) => Buffer.from(`${text}\n`);
  const byName = new Map<string, Member>();

  const cluster = await joinCluster({
    redisUrl: env.CHAT_REDIS_URL,
    // The test gives every node process the same ticket key, as a cluster's
    // nodes share one ticket key file.
    busKeys: BusKeys.fromTicketKeys(
      new TicketKeys([Buffer.from(env.CHAT_TEST_TICKET_KEY ?? '', 'base64')]),
    ),
    keyPrefix: env.CHAT_REDIS_PREFIX,
    name: `line-${process.pid}`,
    heartbeatMs: env.CHAT_HEARTBEAT_MS ? Number(env.CHAT_HEARTBEAT_MS) : undefined,
    ttlMs: env.CHAT_TTL_MS ? Number(env.CHAT_TTL_MS) : undefined,
    members: {
      broadcast: (frame) => room.broadcast(frame),
      sendTo: (user, frame) => {
        const member = byName.get(user);
        return member !== undefined && room.send(member, frame);
      },
    },
    onPresence: (event) =>
      room.broadcast(line(`* ${event.user} ${event.kind === 'join' ? 'joined' : 'left'}`)),
    onState: (state) => {
      console.log(`state ${state}`);
      room.broadcast(
        line(
          state === 'split'
            ? '* the room is split: only members on this node hear you'
            : '* rejoined',
        ),
      );
    },
    onSessionLost: (user, _sessionId, error) => {
      const member = byName.get(user);
      if (member === undefined) return;
      room.send(member, line(`! ${error.code}: ${error.message}`));
      member.socket.end();
    },
    log: (text) => console.error(text),
  });

  const server = net.createServer((socket) => {
    const member: Member = { socket, name: '', sessionId: randomBytes(6).toString('hex') };
    const decoder = new LineDecoder();
    socket.on('error', () => {});
    socket.on('close', () => {
      if (!room.leave(member)) return;
      byName.delete(member.name);
      room.broadcast(line(`* ${member.name} left`));
      void cluster.presence.release(member.name, member.sessionId);
    });
    socket.on('data', async (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        if (!frame.ok) continue;
        if (member.name === '') {
          socket.pause(); // nothing more until the login is decided
          try {
            const name = validateUsername(frame.text);
            await cluster.presence.claim(name, member.sessionId);
            member.name = name;
            byName.set(name, member);
            room.join(member);
            room.send(member, line(`* welcome ${name}`));
            room.broadcast(line(`* ${name} joined`), member);
          } catch (err) {
            const code = isChatError(err) ? err.code : 'SERVICE_UNAVAILABLE';
            socket.end(line(`! ${code}: ${err instanceof Error ? err.message : String(err)}`));
            return;
          }
          socket.resume();
        } else if (frame.text === '/who') {
          const who = await cluster.presence.who().catch(() => undefined);
          room.send(
            member,
            line(who ? `* online ${who.count}: ${who.online.join(', ')}` : '! SERVICE_UNAVAILABLE'),
          );
        } else {
          const out = line(`${member.name}: ${frame.text}`);
          room.broadcast(out, member);
          cluster.bus.publishRoom(member.name, out);
        }
      }
    });
  });
  server.listen(Number(values.port), '127.0.0.1', () => {
    const { port } = server.address() as net.AddressInfo;
    console.log(`listening on 127.0.0.1:${port}`);
    console.log(`node ${cluster.nodeId}`);
  });
  process.on('SIGTERM', () => {
    server.close();
    for (const member of room.members()) member.socket.destroy();
    void cluster.close().then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
