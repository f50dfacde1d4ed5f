// The stage 6 client at a terminal, driven through a stand-in TTY (a stream
// with setRawMode, and terminal mode on): what a person typing sees.
import { PassThrough } from 'node:stream';
import { runClient } from '../src/client';
import { connectAndLogIn } from '../src/client-login';
import type { RawModeInput } from '../../shared/src/terminal-prompt';
import { startTestServer, type TestServer } from './harness';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

/** A stand-in terminal: keys go in, everything shown comes out as text. */
function terminal() {
  const input = new PassThrough() as PassThrough & RawModeInput & { isTTY: boolean };
  input.isTTY = true;
  input.setRawMode = () => input;
  const output = new PassThrough();
  const errorOutput = new PassThrough();
  let shown = '';
  let errors = '';
  output.on('data', (c: Buffer) => (shown += c.toString()));
  errorOutput.on('data', (c: Buffer) => (errors += c.toString()));
  return {
    input,
    output,
    errorOutput,
    shown: () => shown,
    errors: () => errors,
    /** Resolves once the error output (prompts, notices) contains `text`. */
    waitForError: (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!errors.includes(text)) return;
          errorOutput.off('data', check);
          resolve();
        };
        errorOutput.on('data', check);
        check();
      }),
  };
}

/** The cursor's column after `text` is drawn on a terminal (0 = a fresh line). */
function cursorColumn(text: string): number {
  let column = 0;
  // An escape sequence (CSI), a line ending, or one printable code point.
  /* eslint-disable no-control-regex -- reading escape sequences is the point */
  for (const [token] of text.matchAll(/\x1b\[[0-9;]*[A-Za-z]|\r|\n|[^]/gu)) {
    const csi = /^\x1b\[([0-9;]*)([A-Za-z])$/.exec(token);
    if (csi) {
      if (csi[2] === 'G') column = Number(csi[1] || '1') - 1; // cursor to column n
      continue; // clear-line and colour sequences do not move the cursor
    }
    column = token === '\r' || token === '\n' ? 0 : column + 1;
  }
  /* eslint-enable no-control-regex */
  return column;
}

function start(term: ReturnType<typeof terminal>, username: string, register = false) {
  return runClient({
    host: '127.0.0.1',
    port: t.port,
    key: t.key,
    username,
    register,
    input: term.input,
    output: term.output,
    errorOutput: term.errorOutput,
    terminal: true,
  });
}

test('a username the server would refuse is refused before the password is asked for', async () => {
  const term = terminal();
  await expect(start(term, 'not a name!')).rejects.toMatchObject({ code: 'BAD_USERNAME' });
  expect(term.errors()).not.toContain('password');
});

/**
 * Runs `run`, which ends the client at its prompt, and checks that the
 * server read no credentials (`auth_started` counts them). The client heard
 * hello on a connection that closed before the prompt, so once it has
 * settled, nothing of it is left in flight.
 */
async function sendsNoCredentials(run: () => Promise<unknown>): Promise<void> {
  const attempts = (r: Record<string, unknown>) => r.event === 'auth_started';
  const before = t.countLogs(attempts);
  await run();
  expect(t.countLogs(attempts)).toBe(before);
}

test('--register asks twice; two different passwords send nothing', async () => {
  const term = terminal();
  const client = start(term, 'typo', true);
  await term.waitForError('password for typo: ');
  term.input.write('first password\r');
  await term.waitForError('again: ');
  await sendsNoCredentials(async () => {
    term.input.write('first passw0rd\r');
    await expect(client).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: 'the two passwords differ; nothing was sent',
    });
  });
});

test.each([
  ['Ctrl-C at the password prompt', false, ['\u0003']],
  ['Ctrl-D at the password prompt', false, ['\u0004']],
  ['Ctrl-C at the second prompt of --register', true, ['pw\r', '\u0003']],
])('%s cancels: CANCELLED (runMain exits 0), nothing sent', async (_name, register, keys) => {
  const term = terminal();
  const client = start(term, 'dave', register);
  await sendsNoCredentials(async () => {
    for (const [i, key] of keys.entries()) {
      await term.waitForError(i === 0 ? 'password for dave: ' : 'again: ');
      term.input.write(key);
    }
    await expect(client).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

test('with no server running, the client says so before asking for a password', async () => {
  const stopped = await startTestServer();
  const port = stopped.port;
  await stopped.close();
  const term = terminal();
  const client = runClient({
    host: '127.0.0.1',
    port,
    key: t.key,
    username: 'dave',
    input: term.input,
    output: term.output,
    errorOutput: term.errorOutput,
    terminal: true,
  });
  await expect(client).rejects.toMatchObject({
    code: 'CONNECT_FAILED',
    message: expect.stringContaining('is the server running?'),
  });
  expect(term.errors()).not.toContain('password');
});

// A person at the password prompt holds no connection open: the first
// connection only hears hello and closes. When the prompt came after a
// connection that stayed open, each person typing held one of the places
// the server keeps per address for connections not yet logged in (32 by
// default: a class behind one NAT fills them), for up to the 30 s login
// deadline (a review's reproduction, with 2 places: the third client was
// refused TOO_MANY_CONNECTIONS for as long as the other two typed).
test('people typing their passwords hold no place: with one place per address, a third gets in', async () => {
  const tight = await startTestServer({ maxPreLoginPerAddress: 1 });
  try {
    const typing = ['hana', 'ivan'].map((name) => {
      const term = terminal();
      const client = runClient({
        host: '127.0.0.1',
        port: tight.port,
        key: tight.key,
        username: name,
        register: true,
        input: term.input,
        output: term.output,
        errorOutput: term.errorOutput,
        terminal: true,
      });
      client.catch(() => {}); // cancelled at the end
      return { term, client, name };
    });
    for (const { term, name } of typing) await term.waitForError(`password for ${name}: `);
    const third = await connectAndLogIn({
      host: '127.0.0.1',
      port: tight.port,
      key: tight.key,
      username: 'june',
      password: 'june-password',
      register: true,
      retries: 0,
    });
    expect(third.username).toBe('june');
    third.socket.destroy();
    for (const { term } of typing) term.input.write('\u0003');
    for (const { client } of typing)
      await expect(client).rejects.toMatchObject({ code: 'CANCELLED' });
  } finally {
    await tight.close();
  }
});

/** Starts `name --register` and types the same password twice, as a person would. */
async function registerAtTerminal(name: string) {
  const term = terminal();
  const client = start(term, name, true);
  await term.waitForError(`password for ${name}: `);
  term.input.write(`${name}-password\r`);
  await term.waitForError('again: ');
  term.input.write(`${name}-password\r`);
  await term.waitForError(`* logged in as ${name}`);
  return { term, client };
}

test('--register with the same password twice registers and logs in', async () => {
  const { term, client } = await registerAtTerminal('carol');
  term.input.write('/quit\r');
  await expect(client).resolves.toBe(0);
});

test('every AUTH_FAILED says "new here? add --register", for an unknown name as for a wrong password', async () => {
  const messages: string[] = [];
  for (const [user, password] of [
    ['carol', 'not her password'],
    ['nobody', 'any password'],
  ]) {
    const term = terminal();
    const client = start(term, user!);
    await term.waitForError(`password for ${user}: `);
    term.input.write(`${password}\r`);
    const err = await client.then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(err).toMatchObject({ code: 'AUTH_FAILED' });
    messages.push(err!.message);
  }
  expect(messages).toEqual([
    'wrong username or password; new here? add --register',
    'wrong username or password; new here? add --register',
  ]);
});

test('registering a name that exists says how to log in instead (accounts carry over between stages)', async () => {
  const first = await registerAtTerminal('gina');
  first.term.input.write('/quit\r');
  await expect(first.client).resolves.toBe(0);
  const term = terminal();
  const again = start(term, 'gina', true);
  await term.waitForError('password for gina: ');
  term.input.write('gina-password\r');
  await term.waitForError('again: ');
  term.input.write('gina-password\r');
  await expect(again).rejects.toMatchObject({
    code: 'NAME_TAKEN',
    message:
      'the username "gina" is already registered; if it is yours (stages 6 to 9 share their accounts), log in without --register',
  });
});

test.each([
  ['Ctrl-C', '\u0003'],
  ['Ctrl-D', '\u0004'],
  ['/quit', '/quit\r'],
  ['Ctrl-C with a half-typed line', 'half a thought\u0003'],
])('%s leaves the terminal on a fresh line', async (_name, keys) => {
  const term = terminal();
  const client = start(term, 'carol');
  await term.waitForError('password for carol: ');
  term.input.write('carol-password\r');
  await term.waitForError('* logged in as carol');
  const gone = t.nextDisconnect('carol');
  term.input.write(keys);
  await expect(client).resolves.toBe(0);
  await gone;
  expect(term.shown()).toContain('> '); // the prompt was drawn...
  expect(cursorColumn(term.shown())).toBe(0); // ...and the cursor left its line
});

test('a mistyped command is not sent to the room: the client names the commands', async () => {
  const { term, client } = await registerAtTerminal('erin');
  term.input.write('/nosuch hello\r');
  await term.waitForError('! not sent: /nosuch is not a command (/who, /quit)');
  term.input.write('/quit\r');
  await expect(client).resolves.toBe(0);
});
