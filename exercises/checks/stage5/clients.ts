// Real stage 5 clients for the stage 5 checks: runClient in this process, on
// piped streams, exactly as the stage's own tests drive it.
import { PassThrough } from 'node:stream';
import type { CheckContext } from '../../kit/check';
import { Lines } from '../../kit/lines';

/** The stage 5 client's entry point (its API does not change in these exercises). */
interface Client {
  runClient(options: {
    host: string;
    port: number;
    key: Uint8Array;
    input: NodeJS.ReadableStream;
    output: NodeJS.WritableStream;
    errorOutput: NodeJS.WritableStream;
  }): Promise<number>;
}

/** A running client: what it printed, and a way to type. */
export interface TestClient {
  /** Chat messages, `SENDER: TEXT`. */
  stdout: Lines;
  /** Notices and warnings. */
  stderr: Lines;
  /** The label from its welcome notice, `IP:PORT`. */
  label: string;
  /** Types one line. */
  say(text: string): void;
}

/**
 * Starts a real client against `127.0.0.1:port` and waits for its welcome.
 * Its input is ended after the check.
 */
export async function startClient(
  ctx: CheckContext,
  port: number,
  key: Uint8Array,
): Promise<TestClient> {
  const { runClient } = ctx.load<Client>('stage5-aes/src/client');
  const input = new PassThrough();
  const output = new PassThrough();
  const errorOutput = new PassThrough();
  const done = runClient({ host: '127.0.0.1', port, key, input, output, errorOutput });
  ctx.defer(() => {
    input.end();
    return done;
  });
  const stdout = new Lines(output);
  const stderr = new Lines(errorOutput);
  const welcome = await stderr.waitFor(/^\* welcome, you are /);
  const label = /you are (\S+) /.exec(welcome)?.[1] ?? '?';
  return { stdout, stderr, label, say: (text) => input.write(`${text}\n`) };
}
