/**
 * `npx tsx stage5-aes/bin/fixed-iv-demo.ts`: what "one key and one IV for
 * everyone" leaks, shown with real AES-256-GCM. Prints the three attacks of
 * stage5-aes/src/nonce-reuse.ts; exits 1 if any of them did not work as the
 * chapter says.
 */
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import { parseOptions, runMain } from '../../shared/src/cli';
import { runNonceReuseDemo, xor } from '../src/nonce-reuse';

runMain(async () => {
  if (parseOptions(process.argv.slice(2), {}).help === true) {
    console.log('usage: npx tsx stage5-aes/bin/fixed-iv-demo.ts');
    console.log('Shows, with real AES-256-GCM, what one key and one fixed IV for everyone leaks.');
    return 0;
  }
  const r = runNonceReuseDemo();
  const hex = (b: Buffer) => b.toString('hex');
  const [c1, c2] = r.ciphertexts;
  const { known, secret, forged } = r.messages;

  console.log(
    'AES-256-GCM, a random key, and the same 12-byte nonce (all zeros) for every message.\n',
  );
  console.log('1. The same message gives the same ciphertext');
  console.log(`   "yes" -> ${hex(r.repeated[0])}`);
  console.log(`   "yes" -> ${hex(r.repeated[1])}   <- identical: an observer sees the repeat`);
  console.log('   with a fresh random nonce per message (seal()):');
  console.log(`   "yes" -> ${hex(r.fresh[0])}`);
  console.log(`   "yes" -> ${hex(r.fresh[1])}\n`);
  console.log('2. The XOR of two ciphertexts is the XOR of the two plaintexts');
  console.log(`   C1 = ${hex(c1)}   ("${known}", known to the attacker)`);
  console.log(`   C2 = ${hex(c2)}   (secret)`);
  console.log(`   C1 xor C2 = ${hex(xor(c1, c2))} = P1 xor P2`);
  console.log(`   C1 xor C2 xor "${known}" = "${r.recovered}"\n`);
  console.log('3. A forgery: the two tags reveal H^2 (GHASH key squared), so the attacker');
  console.log(`   tags a message of their own without the key: "${forged}"`);
  console.log(`   the receiver's open() with the real key returns: "${r.forgeryOpened}"`);
  console.log(
    `   the same forgery against two fresh-nonce boxes: ${r.freshForgeryRejected ? 'rejected (DECRYPT_FAILED)' : 'ACCEPTED?!'}`,
  );

  const asClaimed =
    r.repeated[0].equals(r.repeated[1]) &&
    !r.fresh[0].equals(r.fresh[1]) &&
    r.recovered === secret &&
    r.forgeryOpened === forged &&
    r.freshForgeryRejected;
  return asClaimed ? 0 : 1;
});
