// The stage 7 vocabulary under damage: its decoders, seeded with the stage 7
// examples in docs/protocol.md, never throw and never accept a frame with a
// field too many or too few (shared/test/frame-properties.ts says why).
import { protocolExamples, testDecoderProperties } from '../../shared/test/frame-properties';
import * as messages from '../src/messages';

testDecoderProperties(
  messages,
  protocolExamples('## Stage 7:', 'Frames a stage 7 decoder refuses'),
);
