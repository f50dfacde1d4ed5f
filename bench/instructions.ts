/**
 * Instructions per delivered message: each server's own work, counted by
 * valgrind's callgrind instead of timed, so that the same code under the
 * same load gives the same figure from one run to the next.
 *
 * The benchmark's CPU goals are judged in seconds of CPU (bench/README.md),
 * which is what a server costs, but seconds move with everything else the
 * machine does, and a server's seconds include kernel work done for its
 * receivers. Callgrind counts the instructions the server's process
 * executes in user space: its JavaScript, V8 and Node, its libraries. Not
 * the kernel, not the clients. Two runs agree to a fraction of a percent,
 * so a change of 1% in a server's own work is visible in one run, where
 * the CPU figures need several runs to show 10%. Not under any load,
 * though: V8 compiles and collects garbage partly on helper threads, and
 * when the machine is crowded that work lands at other moments (the
 * README gives figures). Count on a quiet machine.
 *
 * The load is lock-step: one client sends a message, and the next leaves
 * only once every other client has it, so every server handles the same
 * reads (one frame each) and nothing depends on speed. Callgrind runs the
 * server many times slower, so the figures come from a few thousand
 * messages after a warm-up that lets V8 compile the relay path.
 *
 * Run: `npm run bench:instructions` (needs `valgrind`; Debian: `apt-get
 * install valgrind`). `--functions N` also lists the N functions that
 * executed most instructions per delivery, JavaScript ones by name.
 *
 * @module
 */
import '../shared/src/node-version'; // first: an old Node.js gets one clear line
import { spawnSync } from 'node:child_process';
import { parseOptions, runMain } from '../shared/src/cli';
import { ChatError } from '../shared/src/errors';
import { countInstructions, formatCounts, type InstructionCount } from './instruction-count';
import { createRunFiles, removeRunFiles } from './run-files';
import { targetNamed } from './targets';

const USAGE = `Usage: npm run bench:instructions -- [options]

  --only LIST        targets, comma-separated (default raw,stage4,raw-sealed,stage5,stage6)
  --warmup N         lock-step messages before counting (default 3000)
  --messages N       lock-step messages counted in each window (default 2000)
  --windows N        windows counted one after another; the table shows the median (default 3)
  --clients N        clients in the room, one of them sending (default 50)
  --functions N      list the N costliest functions of each target (default 0)
`;

runMain(async () => {
  const values = parseOptions(process.argv.slice(2), {
    only: { type: 'string' },
    warmup: { type: 'string' },
    messages: { type: 'string' },
    windows: { type: 'string' },
    clients: { type: 'string' },
    functions: { type: 'string' },
  });
  if (values.help) return void process.stdout.write(USAGE);
  const number = (flag: string, text: string, min: number, max: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) {
      const why = `--${flag} takes a whole number from ${min} to ${max}, not "${text}"`;
      throw new ChatError('BAD_ARGUMENT', `${why}; --help lists the options`);
    }
    return n;
  };
  const options = {
    warmup: number('warmup', values.warmup ?? '3000', 0, 100_000),
    messages: number('messages', values.messages ?? '2000', 1, 100_000),
    windows: number('windows', values.windows ?? '3', 1, 9),
    clients: number('clients', values.clients ?? '50', 2, 500),
  };
  const functions = number('functions', values.functions ?? '0', 0, 100);
  if (spawnSync('valgrind', ['--version']).error !== undefined) {
    throw new ChatError(
      'SERVICE_UNAVAILABLE',
      'valgrind is not installed (Debian: apt-get install valgrind)',
    );
  }
  const only = values.only ?? 'raw,stage4,raw-sealed,stage5,stage6';
  const targets = only.split(',').map((name) => targetNamed(name.trim()));
  const files = createRunFiles();
  const counts: InstructionCount[] = [];
  try {
    for (const target of targets) {
      process.stderr.write(`counting ${target.name} under callgrind…\n`);
      counts.push(await countInstructions(target, files, options));
    }
  } finally {
    removeRunFiles(files);
  }
  console.log(formatCounts(counts, functions));
});
