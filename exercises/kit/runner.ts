/**
 * Finds the exercises and runs one: each check in turn, with a deadline and
 * its clean-up, printed the way learnyounode's `verify` prints (✓ or ✗ per
 * check, a hint under each failure, PASS or FAIL at the end).
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { createContext, type Check, type Exercise } from './check';

/** The folder that holds `stageN/NAME.check.ts`. */
export const CHECKS_DIR = path.resolve(__dirname, '..', 'checks');

const CHECK_SUFFIX = '.check.ts';
const DEFAULT_TIMEOUT_MS = 30_000;
const CLEANUP_TIMEOUT_MS = 5_000;

/** An exercise and its id, `stageN/NAME` (its path under `checks/`). */
export interface ListedExercise {
  /** What the learner types: `npm run exercise -- ID`. */
  id: string;
  /** The exercise itself. */
  exercise: Exercise;
}

/** Every exercise, in stage order then by name. */
export function listExercises(): ListedExercise[] {
  const listed: ListedExercise[] = [];
  for (const stage of fs.readdirSync(CHECKS_DIR).sort()) {
    const folder = path.join(CHECKS_DIR, stage);
    if (!fs.statSync(folder).isDirectory()) continue;
    for (const file of fs.readdirSync(folder).sort()) {
      if (!file.endsWith(CHECK_SUFFIX)) continue;
      const id = `${stage}/${file.slice(0, -CHECK_SUFFIX.length)}`;
      listed.push({ id, exercise: loadExercise(path.join(folder, file)) });
    }
  }
  return listed;
}

function loadExercise(file: string): Exercise {
  // Check files are plain modules of this tree (they load course code lazily,
  // through their context), so requiring them for the list is cheap.
  const required = module.require(file) as { exercise?: Exercise };
  if (required.exercise === undefined) throw new Error(`${file} does not export "exercise"`);
  return required.exercise;
}

/** How a run went: the exit code to use. */
export interface RunResult {
  /** Checks that passed. */
  passed: number;
  /** Checks that failed. */
  failed: number;
}

/** Where the runner prints; colours only on a terminal. */
export interface Printer {
  /** Prints one line. */
  line(text: string): void;
  /** Whether to use ANSI colours. */
  colour: boolean;
}

/**
 * Runs every check of one exercise against the tree at `root`, in order, and
 * prints the results.
 *
 * @param listed - the exercise
 * @param root - the tree under test
 * @param out - where to print
 */
export async function runExercise(
  listed: ListedExercise,
  root: string,
  out: Printer,
): Promise<RunResult> {
  const paint = (code: number, text: string) => (out.colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  const { id, exercise } = listed;
  out.line(`${paint(1, id)}: ${exercise.title}`);
  out.line(
    exercise.starter === undefined
      ? `(the task: ${exercise.readme}, section "Exercises")`
      : `(the task: at the top of ${exercise.starter}, the file you write it in)`,
  );
  out.line('');
  const result: RunResult = { passed: 0, failed: 0 };
  catchStrayErrors();
  for (const check of exercise.checks) {
    const error = await runCheck(check, root);
    if (error === null) {
      result.passed++;
      out.line(`  ${paint(32, '✓')} ${check.name}`);
      continue;
    }
    result.failed++;
    out.line(`  ${paint(31, '✗')} ${check.name}`);
    out.line(`      ${paint(33, 'hint:')} ${check.hint}`);
    out.line(`      ${paint(2, `got:  ${oneLine(error)}`)}`);
  }
  out.line('');
  if (result.failed === 0) {
    out.line(`${paint(42, ' PASS ')} all ${result.passed} checks passed. Well done!`);
  } else {
    out.line(
      `${paint(41, ' FAIL ')} ${result.failed} of ${exercise.checks.length} checks failed. ` +
        `Fix your code and run \`npm run exercise -- ${id}\` again.`,
    );
  }
  return result;
}

// The check in progress fails at once if the code under test throws where
// nobody catches it (an 'error' event without a listener, a rejected promise
// nobody awaited): the learner sees that as a ✗, not as a crashed runner.
// Installed by the first run, not on import: listing exercises (as the
// solutions test does, inside jest) must not swallow anyone's errors.
let failCurrent: ((err: unknown) => void) | null = null;
let catching = false;
function catchStrayErrors(): void {
  if (catching) return;
  catching = true;
  process.on('uncaughtException', (err) => failCurrent?.(err));
  process.on('unhandledRejection', (err) => failCurrent?.(err));
}

/** Runs one check; returns `null` if it passed, or what went wrong. */
async function runCheck(check: Check, root: string): Promise<unknown> {
  const cleanups: (() => unknown)[] = [];
  const timeoutMs = check.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    failCurrent = (err) => reject(new Error(`uncaught in the code under test: ${oneLine(err)}`));
    // A deadline is the one place a timer belongs in a check: code that never
    // answers must fail, not hang the runner.
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `no answer within ${timeoutMs / 1000} s: the code under test never replied, or is stuck`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    await Promise.race([check.run(createContext(root, cleanups)), failed]);
    return null;
  } catch (err) {
    return err ?? new Error('failed');
  } finally {
    clearTimeout(timer);
    failCurrent = null;
    for (const cleanup of cleanups.reverse()) {
      await settleWithin(cleanup, CLEANUP_TIMEOUT_MS);
    }
  }
}

/** Runs a clean-up step, giving up (silently) after `ms`: a hung close() must not hang us. */
async function settleWithin(step: () => unknown, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([Promise.resolve().then(step), giveUp]);
  } catch {
    /* a failing clean-up is not the learner's failed check */
  } finally {
    clearTimeout(timer);
  }
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}
