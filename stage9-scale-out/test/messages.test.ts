// The stage 9 vocabulary under damage: a node's decoders, seeded with the
// stage 7 examples in docs/protocol.md (a node speaks stage 7's protocol to
// its clients: the same ALPN name, and stage 9's client is stage 7's), never
// throw and never accept a frame with a field too many or too few
// (shared/test/frame-properties.ts says why).
import { protocolExamples, testDecoderProperties } from '../../shared/test/frame-properties';
import * as messages from '../src/messages';

testDecoderProperties(
  messages,
  protocolExamples('## Stage 7:', 'Frames a stage 7 decoder refuses'),
);
