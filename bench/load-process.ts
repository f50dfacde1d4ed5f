/**
 * Entry point of the load process (started by load-control.ts with an IPC
 * channel, never by hand): it waits for one request, runs that scenario with
 * the target's load clients, sends the result back and exits. While a
 * scenario runs, the parent's commands (`release`, `measure`) reach it in order.
 *
 * @module
 */
import { runFanout, runIdle } from './fanout';
import type { LoadCommand, LoadEvent, LoadRequest, ScenarioControl } from './load-control';
import { runBurst, runLogins } from './logins';
import { runActive, runIdleCrowd } from './scale';

/** Each scenario's load-process side. */
const SCENARIOS: Record<
  LoadRequest['type'],
  (request: LoadRequest, control: ScenarioControl) => Promise<unknown>
> = {
  fanout: runFanout,
  idle: runIdle,
  logins: runLogins,
  burst: runBurst,
  'scale-idle': runIdleCrowd,
  'scale-active': runActive,
};

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
  mark: (phase) => void send({ type: 'mark', phase }),
  hold: async () => {
    await send({ type: 'ready' });
    while ((await control.next()).type !== 'release');
  },
};

async function handle(message: LoadRequest | LoadCommand): Promise<void> {
  if (message.type === 'release' || message.type === 'measure') {
    const waiter = commandWaiter;
    commandWaiter = null;
    if (waiter) waiter(message);
    else commands.push(message);
    return;
  }
  await send({ type: 'result', result: await SCENARIOS[message.type](message, control) });
  process.disconnect();
}

if (!process.send) {
  console.error('bench/load-process.ts is started by `npm run bench`, not by hand');
  process.exit(2);
}
process.on('message', (message: LoadRequest | LoadCommand) => {
  handle(message).catch(async (err: unknown) => {
    await send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    process.disconnect();
  });
});
// If the benchmark dies, its IPC channel closes: stop too, instead of lingering.
process.once('disconnect', () => process.exit(0));
