import { formatDemo, runFramingDemo } from '../src/framing-demo';

describe('the framing demo (the README shows its output)', () => {
  test('a naive data handler misreads the stream; LineDecoder does not', async () => {
    const [split, coalesced, emoji] = await runFramingDemo();
    expect(split?.naive).toEqual(['hel', 'lo\n']);
    expect(split?.framed).toEqual(['hello']);
    expect(coalesced?.naive).toEqual(['one\ntwo\n']);
    expect(coalesced?.framed).toEqual(['one', 'two']);
    expect(emoji?.naive.join('')).toContain('\uFFFD');
    expect(emoji?.framed).toEqual(['👋']);
    expect(formatDemo([split!])).toContain('naive \'data\' handler: 2 message(s): "hel", "lo\\n"');
  });
});
