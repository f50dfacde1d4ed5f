// Chapters of one sitting: no chapter file (a stage README, or a part or
// appendix under stageN-*/docs/) holds more than CHAPTER_WORD_LIMIT words of
// prose. Fenced blocks (code, transcripts, diffs, diagrams) and HTML comments
// are not counted; see tools/word-count.ts.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { chapterFiles } from '../chapters';
import { CHAPTER_WORD_LIMIT, proseOf, proseWords } from '../word-count';

const ROOT = path.resolve(__dirname, '..', '..');

describe('word count', () => {
  test('leaves out fenced blocks and comments, counts the rest like wc -w', () => {
    const text = [
      'One two three.',
      '',
      '```ts',
      'const not = counted;',
      '```',
      '<!-- generated:file x.ts -->',
      '| a table | counts |',
      '~~~',
      'nor this',
      '~~~',
    ].join('\n');
    expect(proseOf(text)).not.toContain('counted');
    expect(proseWords(text)).toBe(3 + 6);
  });
});

describe(`no chapter file is over ${CHAPTER_WORD_LIMIT} words of prose`, () => {
  let files: string[] = [];
  beforeAll(async () => {
    files = await chapterFiles(ROOT);
  });

  test('every stage chapter is found, with its parts', () => {
    const stages = readdirSync(ROOT).filter((name) => /^stage\d+-/.test(name));
    for (const stage of stages) expect(files).toContain(`${stage}/README.md`);
    expect(files).toContain('stage6-auth/docs/part2-store.md');
  });

  test(`each is at most ${CHAPTER_WORD_LIMIT} words`, () => {
    const over = files
      .map((file) => ({ file, words: proseWords(readFileSync(path.join(ROOT, file), 'utf8')) }))
      .filter(({ words }) => words > CHAPTER_WORD_LIMIT);
    // Split the chapter into parts, or move a catalogue or table to an appendix.
    expect(over).toEqual([]);
  });
});
