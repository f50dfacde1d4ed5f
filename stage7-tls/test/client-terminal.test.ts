// The client on a terminal: first contact shows the fingerprint and asks;
// "y" pins it and then the hidden password prompt follows; anything else
// refuses with UNKNOWN_SERVER before a byte of the login is sent.
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { RawModeInput } from '../../shared/src/terminal-prompt';
import { runClient } from '../src/client';
import { PASSWORD, pinTo, rawTls, startTestServer, tempDir, type TestServer } from './harness';

let t: TestServer;
let dir: string;
beforeEach(async () => {
  t = await startTestServer();
  dir = tempDir();
});
afterEach(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function fakeTerminal(): RawModeInput & PassThrough {
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
  return input;
}

/** Resolves once `stream` has written `text` (from the start). */
function written(stream: PassThrough): (text: string) => Promise<void> {
  let all = '';
  const waiters: [string, () => void][] = [];
  stream.on('data', (c: Buffer) => {
    all += c.toString();
    for (const w of waiters.filter(([text]) => all.includes(text))) {
      waiters.splice(waiters.indexOf(w), 1);
      w[1]();
    }
  });
  return (text) =>
    all.includes(text) ? Promise.resolve() : new Promise((r) => waiters.push([text, r]));
}

function start(input: RawModeInput & PassThrough, errorOutput: PassThrough): Promise<number> {
  return runClient({
    host: '127.0.0.1',
    port: t.port,
    trust: pinTo(dir),
    username: 'alice',
    register: true,
    input,
    output: new PassThrough(),
    errorOutput,
    terminal: false,
  });
}

/** Starts the client on a stand-in terminal; `seen` waits for what it shows. */
function startAtTerminal() {
  const input = fakeTerminal();
  const errorOutput = new PassThrough();
  const seen = written(errorOutput);
  return { input, seen, done: start(input, errorOutput) };
}

/** Trusts the server at first contact and registers alice, typing as a person would. */
async function trustAndRegister({ input, seen }: ReturnType<typeof startAtTerminal>) {
  await seen('[y/N] ');
  input.write('y\r');
  await seen('password for alice: ');
  input.write(`${PASSWORD}\r`);
  await seen('again: ');
  input.write(`${PASSWORD}\r`);
  await seen('logged in as alice');
}

test('first contact asks with the fingerprint; "y" pins it, then the password is asked twice', async () => {
  const client = startAtTerminal();
  await trustAndRegister(client);
  await client.seen(t.certificate.fingerprint); // shown with the question
  expect(fs.readFileSync(path.join(dir, 'known_servers'), 'utf8')).toContain(
    t.certificate.fingerprint,
  );
  client.input.end(); // Ctrl-D: leave
  await expect(client.done).resolves.toBe(0);
});

test('first contact answered "n": UNKNOWN_SERVER, nothing pinned, no login sent', async () => {
  const { input, seen, done } = startAtTerminal();
  await seen('[y/N] ');
  input.write('n\r');
  await expect(done).rejects.toMatchObject({ code: 'UNKNOWN_SERVER' });
  expect(fs.existsSync(path.join(dir, 'known_servers'))).toBe(false);
  expect(t.logLines.filter((l) => /"event":"register_/.test(l))).toEqual([]);
});

test('a mistyped command is not sent to the room: the client says so, and chat goes on', async () => {
  const bob = await rawTls(t.port);
  bob.send({ type: 'register', user: 'bob', password: PASSWORD });
  await bob.next(); // welcome
  const client = startAtTerminal();
  await trustAndRegister(client);
  client.input.write('/nosuch hello\n');
  await client.seen('! not sent: /nosuch is not a command (/who, /quit)');
  client.input.write('hello for real\n');
  let frame = await bob.next();
  while (frame !== undefined && frame.type !== 'chat') frame = await bob.next();
  expect(frame).toMatchObject({ type: 'chat', from: 'alice', text: 'hello for real' });
  client.input.end();
  await expect(client.done).resolves.toBe(0);
  bob.socket.destroy();
});
