// `npx tsx stage2-client-server/bin/framing-demo.ts`: shows a naive 'data'
// handler misreading a TCP byte stream, next to LineDecoder reading it right.
import { formatDemo, runFramingDemo } from '../src/framing-demo';

void runFramingDemo().then((cases) => console.log(formatDemo(cases)));
