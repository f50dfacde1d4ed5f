// Every "predict the output" answer is true: each question's snippet in a
// stage's PREDICT.md is run as the page tells a learner to run it (tsx, from
// the repository root), and what it prints must be exactly the text in the
// question's answer fold.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const REPO = path.resolve(__dirname, '..', '..');
const TSX = path.join(REPO, 'node_modules', '.bin', 'tsx');
// Every stage folder, found rather than listed, so a new stage is checked too.
const STAGES = fs
  .readdirSync(REPO)
  .filter((name) => /^stage\d+-/.test(name))
  .sort();

/** One question: its heading, its snippet, and the output its answer promises. */
interface Question {
  title: string;
  snippet: string;
  answer: string;
}

/** The questions of one PREDICT.md: each `## ` section, its ts block, the text block in its fold. */
function questionsOf(file: string): Question[] {
  const sections = fs.readFileSync(file, 'utf8').split(/^## /m).slice(1);
  return sections.map((section) => {
    const title = section.slice(0, section.indexOf('\n'));
    const fold = section.indexOf('<details><summary>Answer</summary>');
    const snippet = /```ts\n([\s\S]*?)```/.exec(section.slice(0, fold))?.[1];
    const answer = /```text\n([\s\S]*?)```/.exec(section.slice(fold))?.[1];
    if (fold === -1 || snippet === undefined || answer === undefined) {
      throw new Error(
        `${file}, "${title}": needs a ts snippet, then an Answer fold with a text block`,
      );
    }
    return { title, snippet, answer };
  });
}

const run = promisify(execFile);

describe.each(STAGES)('%s/PREDICT.md', (stage) => {
  const questions = questionsOf(path.join(REPO, stage, 'PREDICT.md'));

  test('has 3 to 5 questions', () => {
    expect(questions.length).toBeGreaterThanOrEqual(3);
    expect(questions.length).toBeLessThanOrEqual(5);
  });

  // Concurrent: each snippet is its own process, and most of their time is start-up.
  test.concurrent.each(questions.map((q) => [q.title, q] as const))(
    '%s: the snippet prints exactly the answer',
    async (_title, question) => {
      const { stdout } = await run(TSX, ['-e', question.snippet], { cwd: REPO, timeout: 60_000 });
      expect(stdout).toBe(question.answer);
    },
  );
});
