/**
 * Entry point of the load process (started by load-control.ts with an IPC
 * channel, never by hand): it waits for one request, runs that scenario with
 * the target's load clients, sends the result back and exits. While a
 * scenario runs, the parent's commands (`release`, `measure`) go to it in order.
 *
 * @module
 */
import { runFanout } from './fanout';
import { runIdle } from './idle';
import type { LoadCommand, ScenarioControl } from './load-channel';
import type { LoadEvent, LoadRequest, LoadResult } from './load-control';
import { runBurst } from './login-burst';
import { runLogins } from './logins';
import { runActive, runIdleCrowd } from './scale';
import { targetNamed } from './targets';

function send(event: LoadEvent): Promise<void> {
  return new Promise((resolve) => {
    if (process.connected) process.send!(event, undefined, {}, () => resolve());
    else resolve();
  });
}

// The parent's commands, in order, for the scenario that is running.
const commands: LoadCommand[] = [];
let commandWaiter: ((command: LoadCommand) => void) | null = null;
const control: ScenarioControl = {
  send,
  next: () => {
    const queued = commands.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => (commandWaiter = resolve));
  },
};

function command(c: LoadCommand): void {
  const waiter = commandWaiter;
  commandWaiter = null;
  if (waiter) waiter(c);
  else commands.push(c);
}

async function handle(request: LoadRequest): Promise<void> {
  if (request.type === 'release' || request.type === 'measure') {
    command(request);
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
        while ((await control.next()).type !== 'release');
      },
    );
  } else if (request.type === 'scale-idle') {
    result = await runIdleCrowd(targetNamed(request.target), endpoint, request.job, files, control);
  } else if (request.type === 'scale-active') {
    result = await runActive(targetNamed(request.target), endpoint, request.job, files, control);
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
