/**
 * Entry point of the load process (started by load-control.ts with an IPC
 * channel, never by hand): it waits for one request, runs that scenario with
 * the target's load clients, sends the result back and exits.
 *
 * @module
 */
import { runFanout } from './fanout';
import { runIdle } from './idle';
import type { LoadEvent, LoadRequest, LoadResult } from './load-control';
import { runBurst } from './login-burst';
import { runLogins } from './logins';
import { targetNamed } from './targets';

function send(event: LoadEvent): Promise<void> {
  return new Promise((resolve) => {
    if (process.connected) process.send!(event, undefined, {}, () => resolve());
    else resolve();
  });
}

// Released by the parent's `release` message, once it has measured the server.
let release: () => void = () => {};
const released = new Promise<void>((resolve) => (release = resolve));

async function handle(request: LoadRequest): Promise<void> {
  if (request.type === 'release') {
    release();
    return;
  }
  const mark = (phase: 'start' | 'end') => void send({ type: 'mark', phase });
  const { endpoint, files } = request;
  let result: LoadResult;
  if (request.type === 'fanout') {
    result = await runFanout(targetNamed(request.target), endpoint, request.job, files, mark);
  } else if (request.type === 'idle') {
    result = await runIdle(
      targetNamed(request.target),
      endpoint,
      request.count,
      files,
      async () => {
        await send({ type: 'ready' });
        await released;
      },
    );
  } else if (request.type === 'logins') {
    result = await runLogins(endpoint, request.job, files, mark);
  } else {
    result = await runBurst(endpoint, request.job, files, mark);
  }
  await send({ type: 'result', result });
  process.disconnect();
}

if (!process.send) {
  console.error('bench/load-process.ts is started by `npm run bench`, not by hand');
  process.exit(2);
}
process.on('message', (request: LoadRequest) => {
  handle(request).catch(async (err: unknown) => {
    await send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    process.disconnect();
  });
});
// If the benchmark dies, its IPC channel closes: stop too, instead of lingering.
process.once('disconnect', () => process.exit(0));
