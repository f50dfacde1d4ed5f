// docs/protocol.md's examples of ping/pong and of busy answers (retryAfterMs)
// are written by hand; this checks each one against what the code sends: the
// real server for ping, IDLE_TIMEOUT and TOO_MANY_CONNECTIONS, the limiter
// and the hashing admission for the messages that carry a computed wait.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { HashAdmission } from '../../shared/src/hash-admission';
import { LoginRateLimiter } from '../../shared/src/rate-limit';
import { inWords, RetryAfterError } from '../../shared/src/retry-after';
import { LineReader, REPO_ROOT } from '../../shared/test/helpers';
import { decodeClientFrame, decodeServerFrame, encodeClientFrame } from '../src/messages';
import { rawAuth, rawConnect, startTestServer } from './harness';

// The two sections, from "Staying online" up to "Error frames".
const spec = readFileSync(path.join(REPO_ROOT, 'docs', 'protocol.md'), 'utf8');
const section = spec.slice(spec.indexOf('### Staying online'), spec.indexOf('## Error frames'));
const examples = [...section.matchAll(/\{"type":.*\}$/gm)].map((m) => m[0]);
const example = (match: string) => {
  const line = examples.find((l) => l.includes(match));
  if (line === undefined) throw new Error(`no example with ${match} in docs/protocol.md`);
  return line;
};
// An example's message with its wait put back as the code would word this wait.
const retryExample = (code: string) => {
  const decoded = decodeServerFrame(example(`"code":"${code}"`));
  if (!decoded.ok || decoded.frame.type !== 'error') throw new Error(`${code}: not an error frame`);
  return decoded.frame;
};
const rewordedFor = (err: unknown, retryAfterMs: number) => {
  if (!(err instanceof RetryAfterError)) throw err;
  return err.message.replace(inWords(err.retryAfterMs), inWords(retryAfterMs));
};

test('every example is a valid frame of its direction', () => {
  expect(examples.length).toBeGreaterThanOrEqual(6);
  for (const line of examples) {
    const ok = line === '{"type":"pong"}' ? decodeClientFrame(line) : decodeServerFrame(line);
    expect({ line, ok: ok.ok }).toEqual({ line, ok: true });
  }
  expect(example('"pong"')).toBe(encodeClientFrame({ type: 'pong' }).toString().trim());
});

test('ping and IDLE_TIMEOUT are the lines a real server sends to a silent client', async () => {
  const t = await startTestServer({ idleTimeoutMs: 400 });
  try {
    const ghost = await rawConnect(t.port);
    await rawAuth(ghost, t.key, 'register', 'ghost', 'ghost-password');
    await ghost.lines.waitFor((l) => l.includes('"ping"'));
    await ghost.lines.waitFor((l) => l.includes('IDLE_TIMEOUT'));
    expect(ghost.lines.lines).toContain(example('"ping"'));
    expect(ghost.lines.lines).toContain(example('IDLE_TIMEOUT'));
  } finally {
    await t.close();
  }
});

test('TOO_MANY_CONNECTIONS is the line a real server sends instead of hello', async () => {
  const t = await startTestServer({ maxPreLoginPerAddress: 1 });
  try {
    const first = await rawConnect(t.port);
    const second = net.connect({ port: t.port, host: '127.0.0.1' });
    second.on('error', () => {});
    expect(await new LineReader(second).next()).toBe(example('TOO_MANY_CONNECTIONS'));
    first.socket.destroy();
    second.destroy();
  } finally {
    await t.close();
  }
});

test('RATE_LIMITED and SERVICE_UNAVAILABLE examples are worded as the code words them', () => {
  const limited = retryExample('RATE_LIMITED');
  const limiter = new LoginRateLimiter({ perUserIp: { capacity: 1, refillMs: 60_000 } });
  limiter.acquire('10.0.0.1', 'alice').failed();
  let refusal: unknown;
  try {
    limiter.acquire('10.0.0.1', 'alice');
  } catch (err) {
    refusal = err;
  }
  expect(limited.message).toBe(rewordedFor(refusal, limited.retryAfterMs!));

  const busy = retryExample('SERVICE_UNAVAILABLE');
  const admission = new HashAdmission({ maxQueue: 0, maxPerClient: 8 }, 1, () => 1000);
  admission.admit({ kind: 'login', client: 'a', budgetMs: 30_000 });
  try {
    admission.admit({ kind: 'login', client: 'b', budgetMs: 30_000 });
    refusal = undefined;
  } catch (err) {
    refusal = err;
  }
  expect(busy.message).toBe(rewordedFor(refusal, busy.retryAfterMs!));
});
