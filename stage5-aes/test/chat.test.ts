import { generateKey, sealText } from '../../shared/src/crypto';
import { chatAssociatedData } from '../src/messages';
import { startServer, type ChatServer } from '../src/server';
import { rawPeer, startClient } from './harness';

let server: ChatServer;
const serverLog: string[] = [];
beforeEach(async () => {
  serverLog.length = 0;
  server = await startServer({ port: 0, log: (line) => serverLog.push(line) });
});
afterEach(() => server.close());

describe('two real clients and a raw socket in the room', () => {
  test('an observer in the room sees no plaintext in any relayed frame', async () => {
    const key = generateKey();
    const observer = await rawPeer(server.port);
    const alice = await startClient(server.port, key);
    const bob = await startClient(server.port, key);

    const secrets = [
      'the password is swordfish',
      'the password is swordfish', // the same text twice must not look the same
      'meet me at the old mill at 9',
      'ünïcødé 🌍 secrets',
    ];
    for (const [i, text] of secrets.entries()) {
      const [from, to] = i % 2 === 0 ? [alice, bob] : [bob, alice];
      from.say(text);
      await to.stdout.waitFor(`${from.label}: ${text}`);
    }

    // The observer received every message, as a relayed chat frame...
    const chats: string[] = [];
    for (let i = 0; i < secrets.length; i++) {
      chats.push(await observer.lines.waitFor((l) => l.includes('"type":"chat"')));
    }
    const boxes = chats.map((l) => (JSON.parse(l) as { box: string }).box);
    expect(new Set(boxes).size).toBe(boxes.length);
    // ...and none of its bytes, nor the server's log, holds any plaintext,
    // in UTF-8, base64 or hex, nor any distinctive word of it.
    const wire = observer.bytes();
    const log = Buffer.from(serverLog.join('\n'));
    for (const text of secrets) {
      const forms = [text, 'swordfish', 'mill', Buffer.from(text).toString('base64')];
      forms.push(Buffer.from(text).toString('hex'));
      for (const form of forms) {
        expect(wire.includes(form)).toBe(false);
        expect(log.includes(form)).toBe(false);
      }
    }
    observer.socket.end();
    await alice.quit();
    await bob.quit();
  });

  test('malformed and tampered frames from a raw socket do not disturb the real clients', async () => {
    const key = generateKey();
    const alice = await startClient(server.port, key);
    const bob = await startClient(server.port, key);
    const mallory = await rawPeer(server.port);

    // Garbage the server refuses (only mallory hears about it)...
    for (const junk of [
      'not json',
      '{"type":"chat"}',
      '{"type":"nope"}',
      '{"type":"chat","box":"@@"}',
    ]) {
      mallory.send(junk + '\n');
      await mallory.frame((f) => f.type === 'error' && f.code === 'BAD_FRAME');
    }
    // ...and well-formed boxes that are not authentic, which only the clients can tell.
    const good = Buffer.from(sealText(key, 'transfer 10 coins', chatAssociatedData()), 'base64');
    // Counter mode is malleable: flipping ciphertext bits flips the same plaintext
    // bits, so without the tag this box would now read "transfer 90 coins".
    const digit = 12 + 'transfer '.length; // nonce, then the plaintext's "1"
    good[digit] = good[digit]! ^ ('1'.charCodeAt(0) ^ '9'.charCodeAt(0));
    const forged = [
      good.toString('base64'),
      sealText(generateKey(), 'sealed with a guessed key', chatAssociatedData()),
      Buffer.alloc(48, 0x41).toString('base64'),
    ];
    for (const box of forged) mallory.send(JSON.stringify({ type: 'chat', box }) + '\n');

    const warning = `! message from ${mallory.label} failed authentication (tampered or wrong key) — not shown`;
    for (const client of [alice, bob]) {
      for (let i = 0; i < forged.length; i++) await client.stderr.waitFor((l) => l === warning);
    }
    // Both clients are still in the room and still talking.
    alice.say('still here?');
    await bob.stdout.waitFor(`${alice.label}: still here?`);
    bob.say('yes');
    await alice.stdout.waitFor(`${bob.label}: yes`);
    // One warning per forged box, and nothing mallory sent was ever printed as a message.
    for (const client of [alice, bob]) {
      expect(client.stderr.lines.filter((l) => l === warning)).toHaveLength(forged.length);
      expect(client.stdout.lines.filter((l) => l.startsWith(mallory.label))).toEqual([]);
    }
    expect(server.online).toBe(3);
    mallory.socket.end();
    await alice.quit();
    await bob.quit();
  });

  test('a member with another key sees warnings, never the text', async () => {
    const alice = await startClient(server.port, generateKey());
    const eve = await startClient(server.port, generateKey());
    alice.say('not for eve');
    await eve.stderr.waitFor(`! message from ${alice.label} failed authentication`);
    expect(eve.stdout.lines).toEqual([]);
    await alice.quit();
    await eve.quit();
  });

  test('a line over the size limit is refused locally, the client keeps going', async () => {
    const key = generateKey();
    const alice = await startClient(server.port, key);
    const bob = await startClient(server.port, key);
    alice.say('x'.repeat(5000));
    await alice.stderr.waitFor(/! not sent: message is 5000 bytes/);
    alice.say('short');
    await bob.stdout.waitFor(`${alice.label}: short`);
    expect(bob.stdout.lines).toEqual([`${alice.label}: short`]);
    await alice.quit();
    await bob.quit();
  });

  test('when the server shuts down, clients say so and return 0 without any input ending', async () => {
    const key = generateKey();
    const alice = await startClient(server.port, key);
    await server.close();
    await alice.stderr.waitFor('* server shutting down');
    await expect(alice.done).resolves.toBe(0);
  });
});
