/**
 * Node processes and their clients, for the tests that need nodes to die or
 * stall on their own: each node is `line-node.ts` in its own process, each
 * client a real TCP connection speaking its line protocol.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { connect, LineReader, REPO_ROOT } from '../../shared/test/helpers';

/** A running node process. */
export interface NodeProcess {
  /** The node process itself (no npm or tsx launcher in between: signals reach it). */
  child: ChildProcess;
  /** Its port. */
  port: number;
  /** Its node id, from its `node ID` line. */
  nodeId: string;
  /** What it prints. */
  stdout: LineReader;
}

const LINE_NODE = path.join('stage9-scale-out', 'test', 'line-node.ts');
// The nodes' shared secret, as a cluster's nodes share one ticket key file.
const TICKET_KEY = randomBytes(32).toString('base64');
const running = new Set<ChildProcess>();

/**
 * Starts a line-node process and waits until it listens.
 *
 * @param env - CHAT_REDIS_URL, CHAT_REDIS_PREFIX and the timings
 */
export async function startNodeProcess(env: Record<string, string>): Promise<NodeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', LINE_NODE, '--port', '0'], {
    cwd: REPO_ROOT,
    env: { ...process.env, CHAT_TEST_TICKET_KEY: TICKET_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const stdout = new LineReader(child.stdout!);
  const stderr = new LineReader(child.stderr!);
  const listening = await stdout.waitFor(/^listening on /).catch(() => {
    throw new Error(`line-node exited before listening; stderr:\n${stderr.lines.join('\n')}`);
  });
  const nodeId = (await stdout.waitFor(/^node /)).slice('node '.length);
  return { child, port: Number(/:(\d+)$/.exec(listening)![1]), nodeId, stdout };
}

/** Kills every node process still running (for afterEach). */
export async function killNodeProcesses(): Promise<void> {
  await Promise.all(
    [...running].map(async (child) => {
      const exited = once(child, 'exit');
      child.kill('SIGCONT'); // a stopped process cannot die of SIGKILL until continued
      child.kill('SIGKILL');
      await exited;
    }),
  );
}

/** A client of a line node, logged in. */
export interface LineClient {
  /** Its username. */
  name: string;
  /** Lines received. */
  lines: LineReader;
  /** Sends one line. */
  send(text: string): void;
  /** Closes the connection. */
  close(): void;
}

/**
 * Connects to a node and logs in as `name`.
 *
 * @throws Error if the node refuses (the connection ends before the welcome)
 */
export async function logIn(port: number, name: string): Promise<LineClient> {
  const socket = await connect(port);
  const lines = new LineReader(socket);
  socket.write(`${name}\n`);
  await lines.waitFor(`* welcome ${name}`);
  return {
    name,
    lines,
    send: (text) => socket.write(`${text}\n`),
    close: () => socket.destroy(),
  };
}
