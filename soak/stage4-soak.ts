/**
 * The stage 4 soak: the stage 6 scenario without logins, against a real
 * `stage4-multiclient` server process. Steady chatters, churners and a stuck
 * reader; the same drain (quiet room, then fences) and the same checks,
 * except the ones about logins and encryption, which stage 4 does not have.
 * It gets a smaller share of the default time budget: it is the simpler
 * server, and stage 6 runs the same relay code and more.
 *
 * @module
 */
import { CheckList, type Check } from './checks';
import { pause, within } from './condition';
import { DeliveryLedger } from './delivery-ledger';
import { drain } from './drain';
import type { SoakOptions } from './options';
import { ServerChild } from './server-child';
import { ServerLog } from './server-log';
import {
  chatSteadily,
  churn,
  stuckReader,
  type Stage4Cast,
  type StuckReader4,
} from './stage4-roles';
import { Stage4Session, type Stage4World } from './stage4-session';
import { Tally } from './tally';
import { checkMemory, DRAIN_LIMIT_MS, summarizeDelivery, warmupMs } from './verdicts';

/**
 * Runs the stage 4 soak.
 *
 * @param options - durations and client counts
 * @param say - progress lines for the operator
 * @returns the checks, passed or failed
 */
export async function soakStage4(
  options: SoakOptions,
  say: (line: string) => void,
): Promise<Check[]> {
  const checks = new CheckList('stage4');
  const log = new ServerLog('plain');
  let printedClosed = false;
  const server = await ServerChild.start('stage4-multiclient/bin/server.ts', [], (stream, line) => {
    log.accept(stream, line);
    if (stream === 'stdout' && line === 'closed') printedClosed = true;
  });
  const world: Stage4World = {
    ledger: new DeliveryLedger(),
    tally: new Tally(),
    labels: new Map(),
    padding: 'p'.repeat(64),
  };
  const steady: Stage4Session[] = [];
  let stopping = false;
  const cast: Stage4Cast = {
    host: server.host,
    port: server.port,
    world,
    stopping: () => stopping,
  };
  let stuck: StuckReader4 | undefined;
  try {
    // 1. Set up.
    for (let i = 0; i < options.clients; i += 50) {
      const batch = Array.from({ length: Math.min(50, options.clients - i) }, (_, j) =>
        Stage4Session.connect(world, cast, `steady-${i + j}#1`),
      );
      steady.push(...(await Promise.all(batch)));
    }
    say(`stage4: ${steady.length} chatters connected`);

    // 2. Load.
    const loadStart = performance.now();
    stuck = await stuckReader(cast);
    const periodMs = 1000 / options.rate;
    const stopTimers = steady.map((s, i) => chatSteadily(s, periodMs, i % 10 === 5));
    const loops = Array.from({ length: options.churners }, (_, i) => churn(cast, `churner-${i}`));
    const loadMs = options.stage4Seconds * 1000;
    say(
      `stage4: load for ${options.stage4Seconds} s (${options.churners} churners, 1 stuck reader)`,
    );
    const progress = setInterval(() => {
      say(
        `stage4: ${world.ledger.sentCount} sent, ${world.tally.get('churner sessions')} churner sessions, ` +
          `stuck reader ${stuck!.closedByServer ? 'dropped' : 'connected'}`,
      );
    }, 15_000);
    await pause(warmupMs(loadMs)); // load shaping: the warm-up share of the run
    const warm = await server.memory();
    const connectionsAtWarm = world.tally.get('churner sessions');
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
    const stuckLogged = await within(log.slowConsumerReported(stuck.label), 10_000);
    say(`stage4: load stopped; draining`);

    // 4. Drain: a quiet room (only the chatters), then one fence from each (drain.ts).
    const { quiet, fenced, present } = await drain(steady);
    const verdict = world.ledger.verify(present.filter((s) => !s.closed).map((s) => s.id));
    const end = await server.memory();

    // 5. Stop the server.
    const aliveBeforeStop = server.alive;
    const exit = await server.stop();
    const allClosed = await within(Promise.all(steady.map((s) => s.whenClosed())), 10_000);
    const byes = steady.filter((s) => s.sawBye).length;

    // 6. Verdicts.
    const { tally } = world;
    summarizeDelivery(checks, verdict);
    const integrity = tally.problemsLike('unexpected line', 'sender label', 'undecodable');
    checks.add(
      'integrity',
      integrity === '',
      integrity || "every line well-formed, every message under its sender's label",
    );
    const refusals = tally.problemsLike('unexpected error line', 'error reply missing');
    const badSent = [...tally.counts]
      .filter(([k]) => k.startsWith('bad lines sent'))
      .reduce((n, [, v]) => n + v, 0);
    checks.add(
      'bad input answered',
      refusals === '',
      refusals || `${badSent} bad lines, each answered with the expected code, in order`,
    );
    const joins = tally.problemsLike('churner could not join');
    checks.add(
      'churn',
      joins === '' && loopsEnded,
      (joins || `${tally.get('churner sessions')} churner sessions`) +
        (loopsEnded ? '' : '; churn loops did not finish'),
    );
    checks.add(
      'chatters stayed',
      present.length === steady.length,
      `${present.length}/${steady.length} steady chatters connected until the end`,
    );
    checks.add(
      'drain',
      quiet && fenced && present.length > 1,
      quiet && fenced
        ? `room back to the ${present.length} chatters; all ${present.length * (present.length - 1)} fences arrived`
        : `${quiet ? '' : 'room never quiet; '}${fenced ? '' : 'fences missing'} (limit ${DRAIN_LIMIT_MS / 1000} s)`,
    );
    const others = log.slowConsumers.filter((who) => who !== stuck!.label);
    checks.add(
      'stuck reader dropped',
      stuckDropped && stuckLogged && others.length === 0,
      `${stuckDropped ? 'disconnected by the server' : 'NOT disconnected'} after ${stuck.linesSent} bad lines; ` +
        `log: ${stuckLogged ? `${stuck.label} disconnected: SLOW_CONSUMER` : '(missing)'}` +
        (others.length > 0 ? `; ALSO dropped: ${others.slice(0, 5).join(', ')}` : ''),
    );
    checkMemory(checks, warm, end, world.tally.get('churner sessions') - connectionsAtWarm);
    checks.add(
      'server lived, exited 0',
      aliveBeforeStop && exit.code === 0 && printedClosed && allClosed,
      `${aliveBeforeStop ? 'alive until SIGTERM' : 'DIED during the run'}; exit ${exit.code ?? exit.signal}` +
        `${printedClosed ? ', printed "closed"' : ''}; ${byes}/${present.length} chatters got the shutdown notice`,
    );
    checks.add(
      'server log clean',
      log.failureCount === 0,
      log.failureCount === 0
        ? `${log.lines.stdout} log lines, nothing on stderr, no "server error"`
        : `${log.failureCount} bad lines, e.g. ${log.failures[0]}`,
    );
    for (const example of [...tally.examples, ...verdict.examples]) say(`stage4: ${example}`);
  } catch (err) {
    checks.add('run', false, `the soak itself failed: ${(err as Error).message}`);
  } finally {
    stopping = true;
    stuck?.stop();
    for (const s of steady) s.socket.destroy();
    server.kill();
  }
  return checks.checks;
}
