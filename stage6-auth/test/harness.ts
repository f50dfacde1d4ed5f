/**
 * Stage 6 test harness: the live server, raw sockets and logins come from the
 * tooling's test kit (testkit/stage6.ts), shared with the fuzzer and the docs
 * tools; what only these tests need, real clients running in-process on
 * pipes and the fault tests' chat probe, is here.
 */
import { PassThrough } from 'node:stream';
import { LineReader } from '../../shared/test/helpers';
import type { TestServer } from '../../testkit/stage6';
import { runClient, type ClientOptions } from '../src/client';
import type { LoggedIn } from '../src/client-login';
import { sealMessage } from '../src/sealed-messages';

export {
  logIn,
  rawAuth,
  rawConnect,
  sealCredentials,
  startTestServer,
  type RawConn,
  type TestServer,
} from '../../testkit/stage6';

/**
 * Sends a chat message from `from` and resolves with the sender name `to`
 * sees on it: the fault tests' proof that chat goes on while logins suffer.
 */
export function chatGetsThrough(
  t: TestServer,
  from: LoggedIn,
  to: LoggedIn,
  text: string,
): Promise<string> {
  const arrived = new Promise<string>((resolve) =>
    to.frames.listen((f) => {
      if (f.ok && f.frame.type === 'chat') resolve(f.frame.from);
    }),
  );
  from.socket.write(sealMessage(t.key, from.username, text));
  return arrived;
}

/** A real stage 6 client running in this process on piped streams. */
export interface TestClient {
  stdout: LineReader;
  stderr: LineReader;
  /** Types a line. */
  say(text: string): void;
  /** Ends its input and waits for runClient's result. */
  quit(): Promise<number>;
  /** runClient's result: the exit code, or the refusal. */
  done: Promise<number>;
}

/**
 * Starts a real client with `--password-stdin` semantics: the password is
 * the first line of its input.
 */
export function startClient(
  t: TestServer,
  username: string,
  password: string,
  register = false,
  more: Partial<ClientOptions> = {},
): TestClient {
  const input = new PassThrough();
  const output = new PassThrough();
  const errorOutput = new PassThrough();
  const stdout = new LineReader(output);
  const stderr = new LineReader(errorOutput);
  const done = runClient({
    host: '127.0.0.1',
    port: t.port,
    key: t.key,
    username,
    register,
    passwordStdin: true,
    input,
    output,
    errorOutput,
    ...more,
  });
  done.then(
    () => {
      output.end();
      errorOutput.end();
    },
    () => {
      output.end();
      errorOutput.end();
    },
  );
  input.write(password + '\n');
  return {
    stdout,
    stderr,
    done,
    say: (text) => input.write(text + '\n'),
    quit: () => {
      input.end();
      return done;
    },
  };
}
