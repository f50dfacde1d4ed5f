import { findHunk, normaliseGitDiff, stripRegionMarkers } from '../diffs';
import { Normaliser, renderTranscriptPage, transcriptSection } from '../transcript-format';

describe('transcript normalisation', () => {
  test('the server port becomes the first stand-in, client ports the next ones, consistently', () => {
    const n = new Normaliser([5050, 47842, 47843]);
    expect(n.line('listening on 127.0.0.1:39211')).toBe('listening on 127.0.0.1:5050');
    expect(n.line('client 127.0.0.1:51000 connected to server 127.0.0.1:39211')).toBe(
      'client 127.0.0.1:47842 connected to server 127.0.0.1:5050',
    );
    expect(n.line('[::ffff:127.0.0.1]:51001 and 127.0.0.1:51000')).toBe(
      '[::ffff:127.0.0.1]:47843 and 127.0.0.1:47842',
    );
    expect(n.line('port 39211 is already in use; {"port":39211}')).toBe(
      'port 5050 is already in use; {"port":5050}',
    );
  });

  test('a second server is shown on 5050 too', () => {
    const n = new Normaliser([5050]);
    n.line('listening on 127.0.0.1:40001');
    expect(n.line('listening on 127.0.0.1:40002')).toBe('listening on 127.0.0.1:5050');
  });

  test('random values get numbered stand-ins: equal values share one, different ones do not', () => {
    const n = new Normaliser([5050]);
    const box1 = 'uxzHg7zjL5Y5DmQbJNdvG76y5OKG3A+4Ui40dThvLX0=';
    const box2 = 'aRBaQPivrkDvMC6l6WV449r4K/Mg1tc2Tuoml145513U';
    expect(n.line(`{"type":"chat","box":"${box1}"}`)).toBe('{"type":"chat","box":"<box 1>"}');
    expect(n.line(`{"box":"${box2}"} {"box":"${box1}"}`)).toBe(
      '{"box":"<box 2>"} {"box":"<box 1>"}',
    );
    const hex = 'd50e7ca4b99be399ccaa50fb24c12eb3305c6a';
    expect(n.line(`"yes" -> ${hex}`)).toBe('"yes" -> <hex 1>');
    expect(n.line(`"yes" -> ${hex}`)).toBe('"yes" -> <hex 1>');
    const hash = '$2b$10$PTkaQGSR5gpsbedoa/olWOH8xaiz8K768cQDC38CVDecqjkEjT.qW';
    expect(n.line(hash)).toBe('$2b$10$<salt and hash 1>');
  });

  test('times, durations and paths are replaced', () => {
    const n = new Normaliser([5050], [['/tmp/chat-transcript-Ab12', '/tmp/demo']]);
    expect(n.line('{"level":30,"time":1795626647692,"msg":"x"}')).toBe(
      '{"level":30,"time":<time>,"msg":"x"}',
    );
    expect(n.line('ping max 281 ms, took 0.36 s')).toBe('ping max <n> ms, took <n> s');
    expect(n.line('wrote /tmp/chat-transcript-Ab12/chat.key')).toBe('wrote /tmp/demo/chat.key');
  });

  test('a transcript page round-trips: each section comes back as its code block', () => {
    const page = renderTranscriptPage(
      'T',
      ['note'],
      [
        { name: 'server', lines: ['$ npm run x', 'listening'] },
        { name: 'alice', lines: ['hi'] },
      ],
    );
    expect(transcriptSection(page, 'alice')).toBe('```text\nhi\n```');
    expect(transcriptSection(page, 'server')).toBe(
      '```text\n$ npm run x\nlisting'.replace('listing', 'listening') + '\n```',
    );
    expect(() => transcriptSection(page, 'bob', 'p.md')).toThrow('p.md: no section "bob"');
  });
});

describe('diff normalisation', () => {
  const raw = [
    'diff --git a/x/a.ts b/y/a.ts',
    'index 66c7821..ad87205 100644',
    '--- a/x/a.ts',
    '+++ b/y/a.ts',
    '@@ -1,2 +1,2 @@',
    ' one',
    '-two',
    '+TWO',
    '@@ -10,2 +10,2 @@ function f() {',
    ' ten',
    '-eleven',
    '+ELEVEN',
    '\\ No newline at end of file',
    '',
  ].join('\n');

  test('drops blob hashes, modes and prefixes', () => {
    const text = normaliseGitDiff(raw);
    expect(text.split('\n').slice(0, 2)).toEqual(['--- x/a.ts', '+++ y/a.ts']);
    expect(text).not.toMatch(/index |diff --git|No newline/);
  });

  test('findHunk returns the one hunk containing the text, with the file header', () => {
    const diff = { label: 'a.ts', text: normaliseGitDiff(raw) };
    expect(findHunk(diff, 'ELEVEN')).toBe(
      '--- x/a.ts\n+++ y/a.ts\n@@ -10,2 +10,2 @@ function f() {\n ten\n-eleven\n+ELEVEN',
    );
    expect(() => findHunk(diff, 'nowhere')).toThrow(/0 hunks contain "nowhere"/);
  });

  test('region markers are not part of a diff', () => {
    expect(stripRegionMarkers('a\n  // #region focus\nb\n  // #endregion focus\nc')).toBe(
      'a\nb\nc',
    );
  });
});
