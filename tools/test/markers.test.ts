import { findMarkers, parseArgs, replaceMarkers } from '../markers';
import { includeMarkdown } from '../includes';
import { dedent, extractRegion } from '../regions';

describe('generated markers', () => {
  const doc = [
    '# Title',
    '',
    'Prose the authors own.',
    '',
    '<!-- generated:region stage1/src/server.ts#focus -->',
    'stale text',
    '<!-- /generated -->',
    '',
    'More prose.',
    '<!-- generated:diff stage4-to-stage5 src/server.ts "a quoted needle" -->',
    '<!-- /generated -->',
    '',
  ].join('\n');

  test('finds each block with its kind and arguments, quotes grouping words', () => {
    const blocks = findMarkers(doc);
    expect(blocks.map((b) => [b.kind, b.args])).toEqual([
      ['region', ['stage1/src/server.ts#focus']],
      ['diff', ['stage4-to-stage5', 'src/server.ts', 'a quoted needle']],
    ]);
    expect(blocks[0]?.body).toBe('stale text\n');
    expect(parseArgs(' x "y z" w')).toEqual(['x', 'y z', 'w']);
  });

  test('replaces only the text between the markers, keeping the prose byte for byte', () => {
    const out = replaceMarkers(doc, (b) => `NEW ${b.kind}`);
    expect(out).toBe(
      doc
        .replace('stale text\n', '\nNEW region\n\n')
        .replace(
          '"a quoted needle" -->\n<!-- /generated -->',
          '"a quoted needle" -->\n\nNEW diff\n\n<!-- /generated -->',
        ),
    );
    // Idempotent: filling an already filled document changes nothing.
    expect(replaceMarkers(out, (b) => `NEW ${b.kind}`)).toBe(out);
  });

  test('a block indented in a list item stays indented, so it stays in the item', () => {
    const item = '- a point:\n\n  <!-- generated:region x#y -->\n  <!-- /generated -->\n';
    expect(replaceMarkers(item, () => '```ts\ncode\n\nmore\n```')).toBe(
      '- a point:\n\n  <!-- generated:region x#y -->\n\n  ```ts\n  code\n\n  more\n  ```\n\n  <!-- /generated -->\n',
    );
  });

  test('an opening marker without its closing one is an error, not a silent swallow', () => {
    expect(() => replaceMarkers('<!-- generated:region a#b -->\ntext\n', () => 'x')).toThrow(
      /unbalanced generated markers/,
    );
    expect(() => replaceMarkers('text\n<!-- /generated -->\n', () => 'x')).toThrow(/unbalanced/);
  });
});

describe('code regions', () => {
  const source = [
    'function f() {',
    '  // #region focus',
    '  const a = 1;',
    '    // #region inner',
    '    nested();',
    '    // #endregion inner',
    '  // #endregion focus',
    '  skipped();',
    '  // #region focus',
    '  return a;',
    '  // #endregion focus',
    '}',
  ].join('\n');

  test('joins ranges of one name with "// ...", drops inner markers, dedents', () => {
    expect(extractRegion(source, 'focus')).toBe(
      ['const a = 1;', '  nested();', '// ...', 'return a;'].join('\n'),
    );
    expect(extractRegion(source, 'inner')).toBe('nested();');
  });

  test('a missing or unclosed region is an error', () => {
    expect(() => extractRegion(source, 'nope', 'f.ts')).toThrow('f.ts: no region named nope');
    expect(() => extractRegion('// #region x\ncode\n', 'x', 'g.ts')).toThrow(/never closed/);
  });

  test('dedent keeps blank lines blank and relative indentation', () => {
    expect(dedent(['    a', '', '      b'])).toEqual(['a', '', '  b']);
  });
});

describe('included markdown', () => {
  test('drops the page title, moves headings one level down, keeps code and fixes links', () => {
    const page = [
      '# Stage 1: predict the output',
      '',
      'See [the test](../exercises/test/predict.test.ts) and [web](https://x.org/a).',
      '',
      '## 1. A question',
      '',
      '```ts',
      '## not a heading',
      '```',
    ].join('\n');
    expect(includeMarkdown(page, 'stage1/PREDICT.md', 'stage1/docs/part2.md')).toBe(
      [
        'See [the test](../../exercises/test/predict.test.ts) and [web](https://x.org/a).',
        '',
        '### 1. A question',
        '',
        '```ts',
        '## not a heading',
        '```',
      ].join('\n'),
    );
  });
});
