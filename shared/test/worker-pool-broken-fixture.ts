/**
 * A worker script for the worker-pool tests that is broken at load: it starts
 * serving tasks, then throws before its module has finished loading, as a
 * script with a bad import or a typo below its `serveTasks` call would.
 */
import { serveTasks } from '../src/worker-task';

serveTasks<unknown, string>(() => 'never answered');

// Thrown while the module loads: uncaught in the worker, which dies at once.
throw new Error('broken below serveTasks');
