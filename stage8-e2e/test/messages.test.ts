// The stage 8 vocabulary under damage: its decoders, seeded with the stage 8
// wire vectors (docs/wire-vectors.json holds a line of every frame type,
// generated from the real encoders), never throw and never accept a frame
// with a field too many or too few (shared/test/frame-properties.ts says why).
import { wireVectorExamples, testDecoderProperties } from '../../shared/test/frame-properties';
import * as messages from '../src/messages';

testDecoderProperties(messages, wireVectorExamples('stage8'));

test('a name no account can have is refused wherever a frame names a user', () => {
  // A client records the names it sees and refuses, on loading, a file that
  // holds one of these: let through here, one frame from a server could stop
  // that client from starting again (found by review: BAD_IDENTITY_FILE).
  const joined = wireVectorExamples('stage8').fromServer.find((f) => f.type === 'joined')!;
  for (const who of ['not a user!', 'ünïcode', 'a'.repeat(33), '']) {
    const decoded = messages.decodeServerFrame(JSON.stringify({ ...joined, who }));
    expect(decoded).toMatchObject({ ok: false, error: { code: 'BAD_FRAME' } });
  }
  expect(messages.decodeServerFrame(JSON.stringify(joined))).toMatchObject({ ok: true });
});
