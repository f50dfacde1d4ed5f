/**
 * Runs a few lines against the learner's module in a process of its own.
 *
 * A check calls learner code in the runner's own process, and code that
 * loops forever there freezes the runner, deadline included (a timer cannot
 * fire while a loop holds the thread). Where a tempting wrong answer is an
 * endless loop, or an allocation without end (a negative length read as a
 * size, a loop over every number of a huge jump), the check runs that part
 * here instead: a child process with a deadline and a small heap, which can
 * only fail.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { CheckContext } from './check';

/** Options for {@link runIsolated}. */
export interface IsolatedOptions {
  /** Milliseconds before the child is killed. Default 20 000. */
  timeoutMs?: number;
  /** The child's heap limit in MiB. Default 96. */
  maxHeapMb?: number;
}

/**
 * Loads `starter` from the tree under test in a child process, as `learner`,
 * runs `body` (JavaScript, not TypeScript) and returns the value `body`
 * returns, passed through JSON.
 *
 * @param ctx - the check's context (the tree under test)
 * @param starter - the learner's file, relative to the tree
 * @param body - statements ending in `return VALUE;`, e.g. `return learner.f(1);`
 * @param options - deadline and heap limit
 * @throws Error saying the code never returned (it looped or ran out of
 *   memory), or what it threw
 */
export function runIsolated(
  ctx: CheckContext,
  starter: string,
  body: string,
  options: IsolatedOptions = {},
): Promise<unknown> {
  const script = `
    const learner = require(${JSON.stringify(path.join(ctx.root, starter))});
    const result = (() => { ${body} })();
    process.stdout.write(JSON.stringify(result === undefined ? null : result));`;
  const args = [
    '--require',
    'tsx/cjs',
    `--max-old-space-size=${options.maxHeapMb ?? 96}`,
    '-e',
    script,
  ];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { cwd: ctx.root, encoding: 'utf8', timeout: options.timeoutMs ?? 20_000 },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve(JSON.parse(stdout));
          return;
        }
        const endless = error.killed || /heap out of memory/.test(stderr);
        const thrown = stderr.split('\n').find((line) => /^\w*Error\b/.test(line));
        reject(
          new Error(
            endless
              ? 'it never returned: it looped, or ran out of memory'
              : `it threw: ${thrown ?? `exit code ${String(error.code)}`}`,
          ),
        );
      },
    );
  });
}
