// The npm scripts as a user runs them, with stage 7's client unchanged
// (`npm run stage9:client` is stage 7's): a demo cluster on a fresh data
// folder with no Redis; and separate `npm run stage9` node processes over
// Redis, one of which is killed with SIGKILL mid-chat.
import path from 'node:path';
import { listeningPort, scriptSuite } from '../../shared/test/helpers';
import { deleteKeys, describeWithRedis, testPrefix } from './redis-env';

jest.setTimeout(120_000);

const scripts = scriptSuite('stage9-scripts', { LOG_LEVEL: 'warn' });
const run = scripts.run;

/** `npm run stage9:client` (stage 7's client) as `user`, pinned to `fingerprint`. */
function client(home: string, port: number, user: string, fingerprint: string, register = true) {
  const proc = run('stage9:client', [
    '--port', String(port), '--user', user, '--password-stdin',
    '--known-servers', path.join(home, 'known_servers'),
    '--ticket-dir', path.join(home, 'tickets'),
    '--server-fingerprint', fingerprint,
    ...(register ? ['--register'] : []),
  ]); // prettier-ignore
  proc.write('a long enough password');
  return proc;
}

test('npm run stage9:client -- --help names the script that was typed', async () => {
  const help = run('stage9:client', ['--help']);
  expect(await help.stdout.waitFor(/^usage: /)).toMatch(/^usage: npm run stage9:client -- --user/);
  expect(await help.exit).toBe(0);
});

test('npm run stage9:cluster on a fresh folder, no Redis: clients of different nodes chat; SIGTERM stops all', async () => {
  const home = scripts.file('demo');
  const cluster = run(
    'stage9:cluster',
    ['--nodes', '3', '--port', '0', '--data-dir', home, '--bcrypt-cost', '4'],
    { CHAT_REDIS_URL: '' },
  );
  const fingerprint = (await cluster.stdout.waitFor(/^fingerprint: /)).slice(13);
  await cluster.stdout.waitFor(/in-process bus/);
  const ports: number[] = [];
  for (let i = 0; i < 3; i++) {
    const line = await cluster.stdout.waitFor(
      (l) => /listening on /.test(l) && !ports.some((p) => l.endsWith(`:${p}`)),
    );
    ports.push(Number(/:(\d+)$/.exec(line)![1]));
  }
  const bob = client(home, ports[2]!, 'bob', fingerprint);
  await bob.stderr.waitFor(/logged in as bob/);
  const alice = client(home, ports[0]!, 'alice', fingerprint);
  await alice.stderr.waitFor(/logged in as alice/);
  alice.write('hello from node 1');
  expect(await bob.stdout.waitFor(/^alice:/)).toBe('alice: hello from node 1');
  cluster.kill('SIGTERM');
  await cluster.stdout.waitFor(/^closed$/);
  expect(await alice.exit).toBe(0);
  expect(await bob.exit).toBe(0);
});

describeWithRedis('npm run stage9 node processes over Redis', (url) => {
  const prefix = testPrefix();
  afterAll(() => deleteKeys(url, prefix));

  test('SIGKILL of a node mid-chat: the others lose nothing, see its user leave; she logs in again elsewhere', async () => {
    const home = scripts.file('nodes');
    const node = (name: string) =>
      run('stage9', [
        '--port', '0', '--data-dir', home, '--bcrypt-cost', '4', '--node-id', name,
        '--redis-url', url, '--redis-prefix', prefix,
        '--heartbeat-ms', '300', '--session-ttl-ms', '1500',
      ]); // prettier-ignore
    const a = node('a');
    const fingerprint = (await a.stdout.waitFor(/^fingerprint: /)).slice(13);
    const portA = await listeningPort(a);
    const b = node('b'); // the same data folder: the same certificate and ticket key
    const c = node('c');
    expect(await b.stdout.waitFor(/^fingerprint: /)).toBe(`fingerprint: ${fingerprint}`);
    const [portB, portC] = [await listeningPort(b), await listeningPort(c)];

    const alice = client(home, portA, 'alice', fingerprint);
    await alice.stderr.waitFor(/logged in as alice/);
    const carol = client(home, portB, 'carol', fingerprint);
    await carol.stderr.waitFor(/logged in as carol/);
    const bob = client(home, portC, 'bob', fingerprint);
    await bob.stderr.waitFor(/logged in as bob/);
    await alice.stderr.waitFor(/bob joined \(3 online\)/);
    alice.write('one');
    await bob.stdout.waitFor(/^alice: one$/);
    carol.write('from b');
    await bob.stdout.waitFor(/^carol: from b$/);

    b.kill('SIGKILL');
    expect(await b.exit).toBe('SIGKILL');
    alice.write('two');
    alice.write('three');
    // Carol's node is gone without a word: her session runs out (TTL), and
    // both other nodes tell their members.
    await alice.stderr.waitFor(/carol left/);
    await bob.stderr.waitFor(/carol left/);
    await bob.stdout.waitFor(/^alice: three$/);
    expect(bob.stdout.lines.filter((l) => l.startsWith('alice: '))).toEqual([
      'alice: one',
      'alice: two',
      'alice: three',
    ]);
    // Her client lost its server; she comes back on another node at once.
    const again = client(home, portC, 'carol', fingerprint, false);
    await again.stderr.waitFor(/logged in as carol/);
    again.write('back');
    expect(await alice.stdout.waitFor(/^carol: back$/)).toBe('carol: back');
  });
});
