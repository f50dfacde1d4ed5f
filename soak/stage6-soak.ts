/**
 * The stage 6 soak, start to finish: a real `stage6-auth` server process
 * (temporary key, temporary SQLite user file, bcrypt cost 4), hundreds of
 * logged-in chatters, churners, intruders and one stuck reader, then a drain
 * and the checks.
 *
 * The run's phases:
 *
 * 1. **Set up.** Start the server; register and log in the steady chatters
 *    (16 at a time, well within the server's hashing queue).
 * 2. **Load** for the chosen seconds. A memory reading (after forced GCs)
 *    is taken once the warm-up share of the load has passed.
 * 3. **Stop** the load: timers cleared, every churner and intruder finishes
 *    its current step and closes.
 * 4. **Drain**, by events only: wait until the observer's latest `left`
 *    notice says only the steady chatters are in the room (so everything the
 *    others sent has been relayed), then every steady chatter sends a
 *    *fence* message and we wait until every chatter has every other's fence
 *    (so everything sent before it has arrived, by per-connection order).
 *    Each wait has a generous limit that, if reached, fails the `drain` check.
 * 5. **Check**: the ledger's delivery rule, the tallies, the slow consumer,
 *    memory after GC, and the server's exit and log.
 *
 * The SQLite store is used (not MySQL): the soak is about the chat server,
 * and a file in a temporary folder needs no setup in CI.
 *
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKey } from '../shared/src/crypto';
import { loadKeyFile, saveKeyFile } from '../shared/src/key-file';
import { CheckList, type Check } from './checks';
import { pause, within } from './condition';
import { DeliveryLedger } from './delivery-ledger';
import { drain } from './drain';
import { checkMemory, DRAIN_LIMIT_MS, summarizeDelivery, warmupMs } from './verdicts';
import type { SoakOptions } from './options';
import { ServerChild } from './server-child';
import { ServerLog } from './server-log';
import {
  chatSteadily,
  churn,
  intrude,
  logIn,
  stuckReader,
  type Stage6Cast,
  type StuckReader,
} from './stage6-roles';
import type { Stage6Session, Stage6World } from './stage6-session';
import { Tally } from './tally';

/**
 * Runs the stage 6 soak.
 *
 * @param options - durations and client counts
 * @param say - progress lines for the operator
 * @returns the checks, passed or failed
 */
export async function soakStage6(
  options: SoakOptions,
  say: (line: string) => void,
): Promise<Check[]> {
  const checks = new CheckList('stage6');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'soak-stage6-'));
  const keyFile = path.join(dir, 'chat.key');
  saveKeyFile(keyFile, generateKey());
  const log = new ServerLog('pino');
  let printedClosed = false;
  const server = await ServerChild.start(
    'stage6-auth/bin/server.ts',
    [
      ...['--key-file', keyFile, '--db-file', path.join(dir, 'users.sqlite')],
      ...['--bcrypt-cost', String(options.bcryptCost), '--hash-queue', '1000'],
      // A test harness, not a deployment: hundreds of chatters register and
      // log in from 127.0.0.1 (16 at a time), so the per-address limits on
      // registrations, waiting connections and hashing jobs are lifted. The
      // error budget, the connection cap and the failed-login limits stay as
      // shipped: the vandals, churners and intruders run into them.
      ...['--registrations-per-ip', '100000', '--registrations-per-minute', '100000'],
      ...['--max-prelogin-per-ip', '1000', '--hash-jobs-per-ip', '1000'],
    ],
    (stream, line) => {
      log.accept(stream, line);
      if (stream === 'stdout' && line === 'closed') printedClosed = true;
    },
    { CHAT_DB_URL: '' }, // SQLite even where the environment selects MySQL
  );
  const world: Stage6World = {
    key: loadKeyFile(keyFile),
    ledger: new DeliveryLedger(),
    tally: new Tally(),
    tampered: new Set(),
    padding: 'p'.repeat(64),
  };
  const steady: Stage6Session[] = [];
  let stopping = false;
  const steadyNames = Array.from({ length: options.clients }, (_, i) => `steady-${i}`);
  const cast: Stage6Cast = {
    host: server.host,
    port: server.port,
    world,
    observer: () => steady[0]!,
    steadyNames,
    stopping: () => stopping,
  };
  let stuck: StuckReader | undefined;
  try {
    // 1. Set up.
    const started = performance.now();
    for (let i = 0; i < steadyNames.length; i += 16) {
      const batch = steadyNames.slice(i, i + 16).map((name) => logIn(cast, name, 1, true));
      steady.push(...(await Promise.all(batch)));
    }
    say(`stage6: ${steady.length} chatters registered and logged in (${secondsSince(started)} s)`);

    // 2. Load.
    const loadStart = performance.now();
    stuck = await stuckReader(cast, 'stuck-reader');
    const periodMs = 1000 / options.rate;
    const stopTimers = steady.map((s, i) => chatSteadily(cast, s, periodMs, i % 10 === 5));
    const loops = [
      ...Array.from({ length: options.churners }, (_, i) => churn(cast, `churner-${i}`)),
      ...Array.from({ length: options.intruders }, (_, i) => intrude(cast, i)),
    ];
    const loadMs = options.stage6Seconds * 1000;
    say(
      `stage6: load for ${options.stage6Seconds} s (${options.churners} churners, ${options.intruders} intruders, 1 stuck reader)`,
    );
    const progress = setInterval(() => {
      const t = world.tally;
      say(
        `stage6: ${world.ledger.sentCount} sent, ${t.get('churner sessions')} churner sessions, ` +
          `${countPrefix(t, 'intruders: ')} intruders, stuck reader ${stuck!.closedByServer ? 'dropped' : 'connected'}`,
      );
    }, 15_000);
    await pause(warmupMs(loadMs)); // load shaping: the warm-up share of the run
    const warm = await server.memory();
    const connectionsAtWarm = connectionsSoFar(world.tally);
    await pause(loadMs - (performance.now() - loadStart));

    // 3. Stop.
    clearInterval(progress);
    stopping = true;
    for (const stop of stopTimers) stop();
    const loopsEnded = await within(Promise.all(loops), DRAIN_LIMIT_MS);
    // On a busy machine the server may need longer than the load phase to
    // fill the stuck reader's queue; it keeps flooding, within the drain limit.
    const stuckDropped = (await within(stuck.closed, DRAIN_LIMIT_MS)) && stuck.closedByServer;
    if (!stuckDropped) stuck.stop();
    const stuckLogged = await within(log.slowConsumerReported(stuck.username), 10_000);
    say(`stage6: load stopped after ${secondsSince(loadStart)} s; draining`);

    // 4. Drain: a quiet room (only the chatters), then one fence from each (drain.ts).
    const { quiet, fenced, present } = await drain(steady);
    const verdict = world.ledger.verify(present.filter((s) => !s.closed).map((s) => s.id));
    const end = await server.memory();

    // 5. Stop the server: every chatter must get "bye", the process must exit 0.
    const aliveBeforeStop = server.alive;
    const exit = await server.stop();
    const allClosed = await within(Promise.all(steady.map((s) => s.whenClosed())), 10_000);
    const byes = steady.filter((s) => s.sawBye).length;

    // 6. Verdicts.
    const { tally } = world;
    summarizeDelivery(checks, verdict);
    const integrity = tally.problemsLike(
      'box failed',
      'not a soak',
      'sender label',
      'undecodable',
      'unexpected frame',
    );
    checks.add(
      'integrity',
      integrity === '',
      integrity ||
        `every box opened under its sender's name; ${tally.get('tampered boxes rejected by receivers')} deliveries of ` +
          `${tally.get('tampered boxes sent') + tally.get('forged-sender boxes sent')} tampered/forged boxes rejected by receivers`,
    );
    const refusals = tally.problemsLike(
      'unexpected error frame',
      'error reply missing',
      'wrong refusal',
    );
    const badSent = [...tally.counts]
      .filter(([k]) => k.startsWith('bad frames sent'))
      .reduce((n, [, v]) => n + v, 0);
    checks.add(
      'bad input answered',
      refusals === '',
      refusals ||
        `${badSent} bad frames after login and ${countPrefix(tally, 'refusals: ')} refused intruders, ` +
          `each with the expected code (${codesOf(tally)})`,
    );
    const notLoggedIn = tally.problemsLike('room traffic');
    checks.add(
      'nothing to the unauthenticated',
      notLoggedIn === '',
      notLoggedIn ||
        `${countPrefix(tally, 'intruders: ')} connections that never logged in got 0 room frames`,
    );
    const logins = tally.problemsLike('churner login refused', 'intruder could not', 'no hello');
    checks.add(
      'churn',
      logins === '' && loopsEnded,
      (logins || `${tally.get('churner sessions')} churner sessions (${leaving(tally)})`) +
        (loopsEnded ? '' : '; churn loops did not finish'),
    );
    const lostSteady = steady.length - present.length;
    checks.add(
      'chatters stayed',
      lostSteady === 0,
      `${present.length}/${steady.length} steady chatters connected until the end`,
    );
    checks.add(
      'drain',
      quiet && fenced && present.length > 1,
      quiet && fenced
        ? `room back to the ${present.length} chatters; all ${present.length * (present.length - 1)} fences arrived`
        : `${quiet ? '' : 'room never quiet; '}${fenced ? '' : 'fences missing'} (limit ${DRAIN_LIMIT_MS / 1000} s)`,
    );
    const others = log.slowConsumers.filter((who) => who !== stuck!.username);
    checks.add(
      'stuck reader dropped',
      stuckDropped && stuckLogged && others.length === 0,
      `${stuckDropped ? 'disconnected by the server' : 'NOT disconnected'} after ${stuck.whoSent} who requests; ` +
        `log: slow_consumer ${stuckLogged ? stuck.username : '(missing)'}` +
        (others.length > 0 ? `; ALSO dropped: ${others.slice(0, 5).join(', ')}` : ''),
    );
    checkMemory(checks, warm, end, connectionsSoFar(tally) - connectionsAtWarm);
    const exitedCleanly = aliveBeforeStop && exit.code === 0 && printedClosed;
    checks.add(
      'server lived, exited 0',
      exitedCleanly && allClosed,
      `${aliveBeforeStop ? 'alive until SIGTERM' : 'DIED during the run'}; exit ${exit.code ?? exit.signal}` +
        `${printedClosed ? ', printed "closed"' : ''}; ${byes}/${present.length} chatters got "bye"`,
    );
    checks.add(
      'server log clean',
      log.failureCount === 0,
      log.failureCount === 0
        ? `${log.lines.stderr} JSON log lines, none at level error/fatal, no stack traces`
        : `${log.failureCount} bad lines, e.g. ${log.failures[0]}`,
    );
    for (const example of [...tally.examples, ...verdict.examples]) say(`stage6: ${example}`);
  } catch (err) {
    checks.add('run', false, `the soak itself failed: ${(err as Error).message}`);
  } finally {
    stopping = true;
    stuck?.stop();
    for (const s of steady) s.socket.destroy();
    server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  return checks.checks;
}

function secondsSince(start: number): string {
  return ((performance.now() - start) / 1000).toFixed(1);
}

function connectionsSoFar(tally: Tally): number {
  return tally.get('churner sessions') + countPrefix(tally, 'intruders: ');
}

function countPrefix(tally: Tally, prefix: string): number {
  let n = 0;
  for (const [name, value] of tally.counts) if (name.startsWith(prefix)) n += value;
  return n;
}

function codesOf(tally: Tally): string {
  return [...tally.counts]
    .filter(([name]) => name.startsWith('refusals: '))
    .map(([name, n]) => `${name.slice('refusals: '.length)} ${n}`)
    .join(', ');
}

function leaving(tally: Tally): string {
  return [...tally.counts]
    .filter(([name]) => name.startsWith('churners leaving: '))
    .map(([name, n]) => `${name.slice('churners leaving: '.length)} ${n}`)
    .join(', ');
}
