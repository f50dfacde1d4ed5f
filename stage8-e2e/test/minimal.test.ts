import { runScript } from '../../shared/test/helpers';
import { makeUser, sealAndSign, verifyAndOpen } from '../minimal/seal-and-sign';

test("npm run stage8:minimal: bob opens alice's message, then refuses a flipped bit and a forgery", async () => {
  const proc = runScript('stage8:minimal');
  await proc.stdout.waitFor('bob opens it: "meet at noon"');
  await proc.stdout.waitFor('one bit of the ciphertext is flipped on the way');
  await proc.stdout.waitFor('bob refuses it: the signature does not verify');
  await proc.stdout.waitFor(/in alice's name: refused, it is not signed by alice/);
  expect(await proc.exit).toBe(0);
});

test('the minimal functions: only the intended reader opens, only the real sender passes', () => {
  const [alice, bob, carol] = ['alice', 'bob', 'carol'].map(makeUser) as [
    ReturnType<typeof makeUser>,
    ReturnType<typeof makeUser>,
    ReturnType<typeof makeUser>,
  ];
  const envelope = sealAndSign(alice, bob, 'hi bob');
  expect(verifyAndOpen(bob, alice, envelope)).toBe('hi bob');
  expect(verifyAndOpen(bob, carol, envelope)).toBeNull(); // checked against carol's key: not hers
  expect(() => verifyAndOpen(carol, alice, envelope)).toThrow(); // signed, but not sealed to carol
});
