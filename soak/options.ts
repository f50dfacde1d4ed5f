/**
 * The soak's command line: how long, how many clients, which stages.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { argumentError } from '../shared/src/cli';
import { ChatError } from '../shared/src/errors';

/** Everything the command line can set. */
export interface SoakOptions {
  /** Stages to soak, in order. */
  stages: ('stage4' | 'stage6')[];
  /** Seconds of load on stage 6. */
  stage6Seconds: number;
  /** Seconds of load on stage 4. */
  stage4Seconds: number;
  /** Steady chatters (logged in for the whole run). */
  clients: number;
  /** Messages per second per steady chatter. */
  rate: number;
  /** Churners (log in, chat, leave, again) on stage 6; stage 4 gets the same number. */
  churners: number;
  /** Intruders (connections that never log in) on stage 6. */
  intruders: number;
  /** bcrypt cost for the soak's users (low: hundreds of them register). */
  bcryptCost: number;
}

/** The default run: under 3 minutes in all on a 2-core machine. */
export const DEFAULTS = {
  stage6Seconds: 75,
  stage4Seconds: 30,
  longSeconds: 600,
  clients: 200,
  rate: 0.5,
  churners: 20,
  intruders: 4,
  bcryptCost: 4,
} as const;

/** The usage text for `--help`. */
export const USAGE = `usage: npm run test:soak -- [--long | --seconds N] [--stage 4|6] [--clients N]
       [--rate R] [--churners N] [--intruders N] [--bcrypt-cost N]

  (default)        stage 4 for ${DEFAULTS.stage4Seconds} s, then stage 6 for ${DEFAULTS.stage6Seconds} s of load (< 3 min in all)
  --long           ${DEFAULTS.longSeconds / 60} minutes of load per stage
  --seconds N      N seconds of load per stage (overrides --long)
  --stage 4|6      soak one stage only
  --clients N      steady chatters, logged in for the whole run (default ${DEFAULTS.clients})
  --rate R         messages per second per steady chatter (default ${DEFAULTS.rate})
  --churners N     clients that keep leaving and coming back (default ${DEFAULTS.churners})
  --intruders N    stage 6 clients that never log in (default ${DEFAULTS.intruders})
  --bcrypt-cost N  bcrypt cost of the soak's users (default ${DEFAULTS.bcryptCost})`;

/**
 * Parses the soak's arguments.
 *
 * @param argv - the arguments after the script name
 * @returns the options, or `'help'`
 * @throws ChatError `BAD_ARGUMENT` for an unknown flag or a bad number
 */
export function parseSoakOptions(argv: readonly string[]): SoakOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        long: { type: 'boolean' },
        seconds: { type: 'string' },
        stage: { type: 'string' },
        clients: { type: 'string' },
        rate: { type: 'string' },
        churners: { type: 'string' },
        intruders: { type: 'string' },
        'bcrypt-cost': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw argumentError(err);
  }
  if (values.help) return 'help';
  const number = (flag: string, fallback: number, min: number): number => {
    const text = values[flag];
    if (typeof text !== 'string') return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min) {
      throw new ChatError(
        'BAD_ARGUMENT',
        `invalid --${flag} "${text}" (expected a number ≥ ${min})`,
      );
    }
    return value;
  };
  const seconds = number('seconds', values.long ? DEFAULTS.longSeconds : 0, 5);
  const stage = values.stage;
  if (stage !== undefined && stage !== '4' && stage !== '6') {
    throw new ChatError('BAD_ARGUMENT', `invalid --stage "${String(stage)}" (expected 4 or 6)`);
  }
  return {
    stages: stage === '4' ? ['stage4'] : stage === '6' ? ['stage6'] : ['stage4', 'stage6'],
    stage6Seconds: seconds || DEFAULTS.stage6Seconds,
    stage4Seconds: seconds || DEFAULTS.stage4Seconds,
    clients: Math.floor(number('clients', DEFAULTS.clients, 3)),
    rate: number('rate', DEFAULTS.rate, 0.01),
    churners: Math.floor(number('churners', DEFAULTS.churners, 0)),
    intruders: Math.floor(number('intruders', DEFAULTS.intruders, 0)),
    bcryptCost: Math.floor(number('bcrypt-cost', DEFAULTS.bcryptCost, 4)),
  };
}
