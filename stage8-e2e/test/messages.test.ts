// The stage 8 vocabulary under damage: its decoders, seeded with the stage 8
// wire vectors (docs/wire-vectors.json holds a line of every frame type,
// generated from the real encoders), never throw and never accept a frame
// with a field too many or too few (shared/test/frame-properties.ts says why).
import { wireVectorExamples, testDecoderProperties } from '../../shared/test/frame-properties';
import * as messages from '../src/messages';

testDecoderProperties(messages, wireVectorExamples('stage8'));
