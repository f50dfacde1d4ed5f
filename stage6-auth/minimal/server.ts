// Stage 6, the smallest version: no chat before a login, and a login is a
// password checked against a bcrypt hash. The first line a client sends is
// `register NAME PASSWORD` or `login NAME PASSWORD`; only then does it join
// the stage 4 room, under the name it proved. Try it:
// `npm run stage6:minimal`, then `nc 127.0.0.1 5050` in two terminals.
//
// Deliberately missing, each one a step of the chapter: the password
// crosses the wire in clear text; an unknown name is answered at once, a
// wrong password only after a hash; bcrypt runs on the event loop; nothing
// limits guesses or the time to log in; a password over 72 bytes is cut
// short; the users live in memory; one name may log in twice.
import net from 'node:net';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import bcrypt from 'bcryptjs';

const { values } = parseArgs({ options: { port: { type: 'string', default: '5050' } } });
const COST = 10; // 2^10 rounds of bcrypt's key schedule per hash (the real stage: 12)
const users = new Map<string, string>(); // name → bcrypt hash: never the password itself
const room = new Set<net.Socket>();

function broadcast(line: string, except?: net.Socket): void {
  for (const member of room) if (member !== except) member.write(`${line}\n`);
}

function refuse(socket: net.Socket, why: string): void {
  socket.end(`* refused: ${why}\n`); // and close: no second try on this connection
}

async function session(socket: net.Socket): Promise<void> {
  let name: string | undefined; // set once the password checked out
  socket.on('close', () => {
    if (room.delete(socket)) broadcast(`* ${name} left (${room.size} online)`);
  });
  socket.write('* register NAME PASSWORD, or login NAME PASSWORD\n');
  // Read with `for await`: lines that come while bcrypt works wait, in order.
  for await (const line of readline.createInterface({ input: socket })) {
    if (name !== undefined) {
      broadcast(`${name}: ${line}`, socket); // labelled with the name it proved
      continue;
    }
    const [command, user = '', ...words] = line.split(' ');
    const password = words.join(' '); // a password may hold spaces
    if (command === 'register') {
      if (user === '' || users.has(user)) return refuse(socket, 'name taken');
      // hash() draws a random salt, and keeps it and the cost inside the hash.
      users.set(user, await bcrypt.hash(password, COST));
    } else {
      const hash = command === 'login' ? users.get(user) : undefined;
      // compare() hashes the guess with the stored salt and cost: same hash, same password.
      if (hash === undefined || !(await bcrypt.compare(password, hash))) {
        return refuse(socket, 'wrong name or password');
      }
    }
    name = user;
    room.add(socket);
    socket.write(`* welcome, ${name} (${room.size} online)\n`);
    broadcast(`* ${name} joined (${room.size} online)`, socket);
  }
}

// A reset is just a way to leave: readline passes the socket's error on, here.
const server = net.createServer((socket) => void session(socket).catch(() => socket.destroy()));

server.listen(Number(values.port), '127.0.0.1', () => {
  console.log(`listening on 127.0.0.1:${(server.address() as net.AddressInfo).port}`);
});
