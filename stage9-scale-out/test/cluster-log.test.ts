// `npm run stage9:cluster` logs JSON lines (stderr not a terminal) for all its
// nodes at once: each line must say which node, under keys that do not collide.
import { scriptSuite } from '../../shared/test/helpers';

jest.setTimeout(60_000);

const scripts = scriptSuite('stage9-cluster-log', { LOG_LEVEL: 'info' });

test('each JSON log line of the cluster has every key once: nodeIndex (1, 2, …) and node (the id)', async () => {
  const cluster = scripts.run(
    'stage9:cluster',
    ['--nodes', '2', '--port', '0', '--data-dir', scripts.file('data'), '--log-format', 'json'],
    { CHAT_REDIS_URL: '' },
  );
  const lines: string[] = [];
  for (let i = 0; i < 2; i++) {
    lines.push(
      await cluster.stderr.waitFor((l) => /"event":"listening"/.test(l) && !lines.includes(l)),
    );
  }
  await cluster.stdout.waitFor(/^cluster: 2 nodes/);
  cluster.kill('SIGTERM');
  await cluster.stdout.waitFor(/^closed$/);
  const records = lines.map((line) => {
    const record = JSON.parse(line) as Record<string, unknown>;
    // JSON.parse keeps the last of two equal keys: written again, the line would be shorter.
    expect(JSON.stringify(record)).toBe(line);
    return record;
  });
  expect(records.map((r) => r.nodeIndex).sort()).toEqual([1, 2]);
  for (const record of records) expect(record.node).toMatch(/~[0-9a-f]{8}$/);
});
