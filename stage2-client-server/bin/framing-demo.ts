// `npx tsx stage2-client-server/bin/framing-demo.ts`: shows a naive 'data'
// handler misreading a TCP byte stream, next to LineDecoder reading it right.
import '../../shared/src/node-version'; // first: an old Node.js gets one clear line
import { parseOptions, runMain } from '../../shared/src/cli';
import { formatDemo, runFramingDemo } from '../src/framing-demo';

runMain(async () => {
  if (parseOptions(process.argv.slice(2), {}).help === true) {
    console.log('usage: npx tsx stage2-client-server/bin/framing-demo.ts');
    console.log(
      "Sends the same bytes to a naive 'data' handler and to LineDecoder, and prints both.",
    );
    return 0;
  }
  console.log(formatDemo(await runFramingDemo()));
});
