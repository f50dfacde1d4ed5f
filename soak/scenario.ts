/**
 * The soak, start to finish, for any stage (its adapter supplies the
 * protocol): a real server process, hundreds of chatters, churners, one stuck
 * reader and, where there are logins, intruders; then a drain and the checks.
 *
 * The run's phases:
 *
 * 1. **Set up.** Start the server; connect (and log in) the steady chatters,
 *    a batch at a time.
 * 2. **Load** for the chosen seconds. A memory reading (after forced GCs)
 *    is taken once the warm-up share of the load has passed.
 * 3. **Stop** the load: timers cleared, every churner and intruder finishes
 *    its current step and closes.
 * 4. **Drain**, by events only (drain.ts): a quiet room, then a fence from
 *    every chatter. Each wait has a generous limit that, if reached, fails
 *    the `drain` check.
 * 5. **Check**: the ledger's delivery rule, the tallies, the slow consumer,
 *    memory after GC, and the server's exit and log.
 *
 * @module
 */
import { CheckList, type Check } from './checks';
import { pause, within } from './condition';
import { DeliveryLedger } from './delivery-ledger';
import { drain } from './drain';
import type { SoakOptions } from './options';
import { chatSteadily, churn, stuckReader, type StuckReader } from './roles';
import { ServerLog } from './server-log';
import type { Session, World } from './session';
import type { Cast, StageAdapter, StageRun } from './stage';
import { Tally } from './tally';
import { checkMemory, DRAIN_LIMIT_MS, summarizeDelivery, warmupMs } from './verdicts';

/**
 * Runs the soak against one stage.
 *
 * @param adapter - the stage
 * @param options - durations and client counts
 * @param say - progress lines for the operator
 * @returns the checks, passed or failed
 */
export async function runSoak(
  adapter: StageAdapter,
  options: SoakOptions,
  say: (line: string) => void,
): Promise<Check[]> {
  const name = adapter.name;
  const checks = new CheckList(name);
  const log = new ServerLog(adapter.logFormat);
  let printedClosed = false;
  const world: World = {
    ledger: new DeliveryLedger(),
    tally: new Tally(),
    labels: new Map(),
    tampered: new Set(),
    padding: 'p'.repeat(64),
  };
  const stage: StageRun = await adapter.start(options, world, (stream, line) => {
    log.accept(stream, line);
    if (stream === 'stdout' && line === 'closed') printedClosed = true;
  });
  const { server } = stage;
  const steady: Session[] = [];
  let stopping = false;
  const steadyNames = Array.from({ length: options.clients }, (_, i) => `steady-${i}`);
  const cast: Cast = {
    host: server.host,
    port: server.port,
    world,
    adapter,
    stage,
    observer: () => steady[0]!,
    steadyNames,
    stopping: () => stopping,
  };
  const intruders = stage.intrude ? options.intruders : 0;
  let stuck: StuckReader | undefined;
  try {
    // 1. Set up.
    const started = performance.now();
    for (let i = 0; i < steadyNames.length; i += adapter.setupBatch) {
      const batch = steadyNames
        .slice(i, i + adapter.setupBatch)
        .map((n) => stage.connect(cast, n, 1, true));
      steady.push(...(await Promise.all(batch)));
    }
    say(`${name}: ${steady.length} chatters ${adapter.setupVerb} (${secondsSince(started)} s)`);

    // 2. Load.
    const loadStart = performance.now();
    stuck = await stuckReader(cast);
    const periodMs = 1000 / options.rate;
    const stopTimers = steady.map((s, i) => chatSteadily(cast, s, periodMs, i % 10 === 5));
    const loops = [
      ...Array.from({ length: options.churners }, (_, i) => churn(cast, `churner-${i}`)),
      ...Array.from({ length: intruders }, (_, i) => stage.intrude!(cast, i)),
    ];
    const seconds = adapter.seconds(options);
    const loadMs = seconds * 1000;
    const intruding = stage.intrude ? `${intruders} intruders, ` : '';
    say(
      `${name}: load for ${seconds} s (${options.churners} churners, ${intruding}1 stuck reader)`,
    );
    const progress = setInterval(() => {
      const t = world.tally;
      say(
        `${name}: ${world.ledger.sentCount} sent, ${t.get('churner sessions')} churner sessions, ` +
          (stage.intrude ? `${countPrefix(t, 'intruders: ')} intruders, ` : '') +
          `stuck reader ${stuck!.closedByServer ? 'dropped' : 'connected'}`,
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
    const stuckLogged = await within(log.slowConsumerReported(stuck.label), 10_000);
    say(`${name}: load stopped after ${secondsSince(loadStart)} s; draining`);

    // 4. Drain: a quiet room (only the chatters), then one fence from each (drain.ts).
    const { quiet, fenced, present } = await drain(steady);
    const verdict = world.ledger.verify(present.filter((s) => !s.closed).map((s) => s.id));
    const end = await server.memory();

    // 5. Stop the server: every chatter must hear it go, the process must exit 0.
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
      'unexpected from',
    );
    const tamperedSent = tally.get('tampered boxes sent') + tally.get('forged-sender boxes sent');
    checks.add(
      'integrity',
      integrity === '',
      integrity ||
        (stage.tamper
          ? `every box opened under its sender's name; ${tally.get('tampered boxes rejected by receivers')} deliveries of ` +
            `${tamperedSent} tampered/forged boxes rejected by receivers`
          : "every line well-formed, every message under its sender's label"),
    );
    const refusals = tally.problemsLike(
      'unexpected error reply',
      'error reply missing',
      'wrong refusal',
    );
    const badSent = countPrefix(tally, 'bad input sent: ');
    checks.add(
      'bad input answered',
      refusals === '',
      refusals ||
        (stage.intrude
          ? `${badSent} bad frames after login and ${countPrefix(tally, 'refusals: ')} refused intruders, ` +
            `each with the expected code (${listPrefix(tally, 'refusals: ')})`
          : `${badSent} bad lines, each answered with the expected code, in order`),
    );
    if (stage.intrude) {
      const notLoggedIn = tally.problemsLike('room traffic');
      checks.add(
        'nothing to the unauthenticated',
        notLoggedIn === '',
        notLoggedIn ||
          `${countPrefix(tally, 'intruders: ')} connections that never logged in got 0 room frames`,
      );
    }
    const joins = tally.problemsLike('churner could not join', 'intruder could not', 'no hello');
    checks.add(
      'churn',
      joins === '' && loopsEnded,
      (joins ||
        `${tally.get('churner sessions')} churner sessions (${listPrefix(tally, 'churners leaving: ')})`) +
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
      `${stuckDropped ? 'disconnected by the server' : 'NOT disconnected'} after ${stuck.sent} ` +
        `${adapter.stuckFlood.unit}; log: slow consumer ${stuckLogged ? stuck.label : '(missing)'}` +
        (others.length > 0 ? `; ALSO dropped: ${others.slice(0, 5).join(', ')}` : ''),
    );
    checkMemory(checks, warm, end, connectionsSoFar(tally) - connectionsAtWarm);
    checks.add(
      'server lived, exited 0',
      aliveBeforeStop && exit.code === 0 && printedClosed && allClosed,
      `${aliveBeforeStop ? 'alive until SIGTERM' : 'DIED during the run'}; exit ${exit.code ?? exit.signal}` +
        `${printedClosed ? ', printed "closed"' : ''}; ${byes}/${present.length} chatters got ${adapter.byeName}`,
    );
    checks.add(
      'server log clean',
      log.failureCount === 0,
      log.failureCount === 0
        ? log.cleanSummary()
        : `${log.failureCount} bad lines, e.g. ${log.failures[0]}`,
    );
    for (const example of [...tally.examples, ...verdict.examples]) say(`${name}: ${example}`);
  } catch (err) {
    checks.add('run', false, `the soak itself failed: ${(err as Error).message}`);
  } finally {
    stopping = true;
    stuck?.stop();
    for (const s of steady) s.socket.destroy();
    server.kill();
    stage.cleanup();
  }
  return checks.checks;
}

function secondsSince(start: number): string {
  return ((performance.now() - start) / 1000).toFixed(1);
}

/** Connections opened and closed during the load: churner sessions and intruders. */
function connectionsSoFar(tally: Tally): number {
  return tally.get('churner sessions') + countPrefix(tally, 'intruders: ');
}

function countPrefix(tally: Tally, prefix: string): number {
  let n = 0;
  for (const [name, value] of tally.counts) if (name.startsWith(prefix)) n += value;
  return n;
}

/** `a 3, b 5` for the counters under one prefix. */
function listPrefix(tally: Tally, prefix: string): string {
  return [...tally.counts]
    .filter(([name]) => name.startsWith(prefix))
    .map(([name, n]) => `${name.slice(prefix.length)} ${n}`)
    .join(', ');
}
