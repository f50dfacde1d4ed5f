/**
 * What an exercise is made of: a title, a task, and checks that run against
 * the learner's working tree.
 *
 * A check never imports course code directly. It asks its context to
 * {@link CheckContext.load | load} a module by its path in the tree under
 * test, so the same check can judge the learner's tree (`npm run exercise`)
 * or a temporary copy with the reference solution applied (the solutions
 * test). The API the exercise asks for is declared in the check file itself,
 * as an interface: before the learner has written it, the code does not have
 * it, and the check must still compile.
 *
 * @module
 */
import { createRequire } from 'node:module';
import path from 'node:path';

/** What a check can use while it runs. */
export interface CheckContext {
  /** The root of the tree under test (the repository, or a temporary copy of it). */
  readonly root: string;
  /**
   * Loads a module of the tree under test, e.g. `stage4-multiclient/src/server`.
   * The caller names the type it expects, since the exercise may ask for an API
   * the unchanged code does not have yet.
   */
  load<T>(relativePath: string): T;
  /**
   * Registers clean-up (close a server, destroy a socket) that runs after the
   * check, passed or failed, latest first.
   */
  defer(cleanup: () => unknown): void;
}

/** One check: a name the learner reads, a hint for when it fails, and the test. */
export interface Check {
  /** What is being checked, as a short sentence (printed with ✓ or ✗). */
  name: string;
  /** One line that points a learner whose code fails this check in the right direction. */
  hint: string;
  /** Throws (an assertion error, a timeout) if the tree under test fails the check. */
  run(ctx: CheckContext): Promise<void>;
  /** Milliseconds before the check counts as failed. Default 30 000. */
  timeoutMs?: number;
}

/** An exercise: what to build, and the checks that say whether it is built. */
export interface Exercise {
  /** One line, printed in the list and above the results. */
  title: string;
  /** The README that states the task, relative to the repository root. */
  readme: string;
  /**
   * For a "write the core" exercise: the stub the learner fills in, relative
   * to the repository root. Its header comment states the task, and the
   * checks load the learner's code from it.
   */
  starter?: string;
  /** The checks, run in order. */
  checks: Check[];
}

/**
 * Builds the context for one check.
 *
 * @param root - the tree under test
 * @param cleanups - where {@link CheckContext.defer} stores clean-up functions
 */
export function createContext(root: string, cleanups: (() => unknown)[]): CheckContext {
  // A require function anchored in the tree under test: modules load from
  // there, with tsx compiling them as `npm run` would.
  const requireFromRoot = createRequire(path.join(root, 'package.json'));
  return {
    root,
    load: <T>(relativePath: string) => requireFromRoot(path.join(root, relativePath)) as T,
    defer: (cleanup) => void cleanups.push(cleanup),
  };
}
