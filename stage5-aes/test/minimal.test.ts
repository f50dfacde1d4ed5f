// The smallest version of stage 5 (minimal/seal.ts), run as a user runs it.
import { runScript } from '../../shared/test/helpers';

test('npm run stage5:minimal seals, opens, and refuses a flipped bit and another context', async () => {
  const proc = runScript('stage5:minimal');
  expect(await proc.exit).toBe(0);
  await proc.stdout.ended;
  const [sealed, opened, again, flipped, otherContext] = proc.stdout.lines;
  const box = /^sealed: {3}(\S+) \(33 bytes: 12 nonce \+ 5 text \+ 16 tag\)$/.exec(sealed ?? '');
  expect(box).not.toBeNull();
  expect(Buffer.from(box![1]!, 'base64')).toHaveLength(33);
  expect(opened).toBe('opened:   hello');
  const second = /^again: {4}(\S+) \(same text, new nonce\)$/.exec(again ?? '');
  expect(second).not.toBeNull();
  // Same text, same key, same context: a different nonce, so different bytes throughout.
  const [one, two] = [box![1]!, second![1]!].map((b) => Buffer.from(b, 'base64'));
  expect(one!.subarray(0, 12).equals(two!.subarray(0, 12))).toBe(false);
  expect(one!.subarray(12).equals(two!.subarray(12))).toBe(false);
  expect(flipped).toBe(
    'one bit flipped: refused (Unsupported state or unable to authenticate data)',
  );
  expect(otherContext).toBe(
    'other context: refused (Unsupported state or unable to authenticate data)',
  );
  expect(proc.stdout.lines).toHaveLength(5);
  expect(proc.stderr.lines).toEqual([]);
});
